package coffrefort

import (
	"fmt"
	"sync"
	"testing"
)

func TestIDCacheEvictsLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	c := newIDCache(2)
	c.put("a", "1")
	c.put("b", "2")
	if v, ok := c.get("a"); !ok || v != "1" { // a is now the most recent
		t.Fatalf("get(a) = %q %v", v, ok)
	}
	c.put("c", "3") // evicts b
	if _, ok := c.get("b"); ok {
		t.Error("b survived, though least recently used")
	}
	for k, want := range map[string]string{"a": "1", "c": "3"} {
		if v, ok := c.get(k); !ok || v != want {
			t.Errorf("get(%s) = %q %v, want %q", k, v, ok, want)
		}
	}
	c.put("a", "10")
	c.remove("c")
	if v, _ := c.get("a"); v != "10" {
		t.Errorf("a = %q after update", v)
	}
	if _, ok := c.get("c"); ok {
		t.Error("c survived remove")
	}
}

func TestIDCacheConcurrentUse(t *testing.T) {
	t.Parallel()
	c := newIDCache(50)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				k := fmt.Sprint(i % 80)
				c.put(k, fmt.Sprint(g))
				c.get(k)
				if i%7 == 0 {
					c.remove(k)
				}
			}
		})
	}
	wg.Wait()
	if n := c.order.Len(); n > 50 || n != len(c.byKey) {
		t.Errorf("cache holds %d entries (%d in the map), limit 50", n, len(c.byKey))
	}
}
