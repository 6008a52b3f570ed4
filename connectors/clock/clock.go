// Package clock holds the clock tests inject where production code takes a
// `Now func() time.Time`: the gateway, the connectors and the mocks all read
// time that way, so one fake serves them all.
package clock

import (
	"sync"
	"time"
)

// Fake is a clock that moves only when told to. It is safe for concurrent
// use.
type Fake struct {
	mu  sync.Mutex
	now time.Time
}

// NewFake returns a clock stopped at start.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

// Now returns the clock's time; pass the method value where a
// `func() time.Time` is expected.
func (c *Fake) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Fake) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
