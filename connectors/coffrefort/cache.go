package coffrefort

import (
	"container/list"
	"sync"
)

// idCache is a small, concurrency-safe LRU from distant_id to the safe's
// beneficiary id.
type idCache struct {
	mu    sync.Mutex
	limit int
	order *list.List // front is the most recently used; values are *cacheEntry
	byKey map[string]*list.Element
}

type cacheEntry struct{ key, value string }

func newIDCache(limit int) *idCache {
	return &idCache{limit: limit, order: list.New(), byKey: make(map[string]*list.Element)}
}

func (c *idCache) get(key string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[key]
	if !ok {
		return "", false
	}
	c.order.MoveToFront(e)
	return e.Value.(*cacheEntry).value, true
}

func (c *idCache) put(key, value string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		e.Value.(*cacheEntry).value = value
		c.order.MoveToFront(e)
		return
	}
	c.byKey[key] = c.order.PushFront(&cacheEntry{key: key, value: value})
	for c.order.Len() > c.limit {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.byKey, oldest.Value.(*cacheEntry).key)
	}
}

func (c *idCache) remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		c.order.Remove(e)
		delete(c.byKey, key)
	}
}
