package connectors

import (
	"fmt"
	"slices"
	"sort"
	"sync"
)

// Registry maps destination names to connectors. It is filled explicitly by
// cmd/ or by a test; nothing registers itself.
type Registry struct {
	mu         sync.RWMutex
	connectors map[string]Connector
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{connectors: make(map[string]Connector)}
}

// Register adds a connector under its name. It panics on a duplicate name,
// which is a wiring bug.
func (r *Registry) Register(c Connector) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.connectors[c.Name()]; dup {
		panic(fmt.Sprintf("connectors: duplicate registration of %q", c.Name()))
	}
	r.connectors[c.Name()] = c
}

// Get returns the connector registered under name.
func (r *Registry) Get(name string) (Connector, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c, ok := r.connectors[name]
	return c, ok
}

// Names returns the registered names, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.connectors))
	for n := range r.connectors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Statuses returns every connector's status, sorted by name.
func (r *Registry) Statuses() []Status {
	names := r.Names()
	out := make([]Status, 0, len(names))
	for _, n := range names {
		c, _ := r.Get(n)
		out = append(out, c.Status())
	}
	return slices.Clip(out)
}
