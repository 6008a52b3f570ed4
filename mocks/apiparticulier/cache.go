package apiparticulier

import (
	"sync"
	"time"
)

// responseCache is the platform's cache of successful answers: an answer is
// served again, unchanged, to the same query until it expires. It is
// shared by every token, as the platform's cache is keyed by the query.
type responseCache struct {
	ttl time.Duration
	max int

	mu      sync.Mutex
	entries map[string]cacheEntry
}

type cacheEntry struct {
	body    []byte
	stored  time.Time
	expires time.Time
}

func newResponseCache(ttl time.Duration, maxEntries int) *responseCache {
	return &responseCache{ttl: ttl, max: maxEntries, entries: map[string]cacheEntry{}}
}

// get returns the answer stored for key and the time it has left.
func (c *responseCache) get(key string, now time.Time) (body []byte, left time.Duration, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return nil, 0, false
	}
	if !now.Before(e.expires) {
		delete(c.entries, key)
		return nil, 0, false
	}
	return e.body, e.expires.Sub(now), true
}

// put stores body for key. The caller must not modify body afterwards.
func (c *responseCache) put(key string, body []byte, now time.Time) {
	if c.ttl <= 0 || c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; !ok && len(c.entries) >= c.max {
		c.evict(now)
	}
	c.entries[key] = cacheEntry{body: body, stored: now, expires: now.Add(c.ttl)}
}

// evict drops the expired answers, or else the oldest one; c.mu is held.
func (c *responseCache) evict(now time.Time) {
	oldest, oldestAt := "", time.Time{}
	for k, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, k)
			continue
		}
		if oldest == "" || e.stored.Before(oldestAt) {
			oldest, oldestAt = k, e.stored
		}
	}
	if len(c.entries) >= c.max && oldest != "" {
		delete(c.entries, oldest)
	}
}

func (c *responseCache) reset() {
	c.mu.Lock()
	c.entries = map[string]cacheEntry{}
	c.mu.Unlock()
}
