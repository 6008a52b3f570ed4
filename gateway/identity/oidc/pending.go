package oidc

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Pending is a login that left for the OP and has not come back yet. It is
// stored server-side, keyed by State, and taken exactly once by the callback.
type Pending struct {
	// State is the random value sent to the OP and the store's key.
	State string
	// BindingHash is the SHA-256 (hex) of the value put in the browser's
	// cookie: the callback must come from the browser that started the login.
	BindingHash string
	// Nonce is the random value the id_token must carry.
	Nonce string
	// Verifier is the PKCE code verifier.
	Verifier string
	// Provider is the Config.Name the login was started for.
	Provider string
	// MinACR is the acr this login requires (the operation's level).
	MinACR string
	// ReturnTo is where the person goes after a successful login (a local
	// path chosen by Relais, never taken from the callback).
	ReturnTo string
	// Created is when the login started.
	Created time.Time
}

// PendingStore keeps pending logins. Take must delete what it returns so a
// state is usable once, even when two callbacks race. MemoryPending suits
// one replica; gateway.StorePending shares them between replicas.
type PendingStore interface {
	Put(ctx context.Context, p Pending) error
	// Take returns and deletes the pending login for state, or
	// ErrPendingNotFound when there is none (unknown or taken), or
	// ErrPendingExpired when it outlived its TTL.
	Take(ctx context.Context, state string) (Pending, error)
}

// ErrPendingNotFound is returned by Take for an unknown, used or expired state.
var ErrPendingNotFound = errors.New("pending login not found")

// ErrPendingExpired is returned by Take for a state whose login outlived the
// store's TTL; the entry is deleted all the same.
var ErrPendingExpired = errors.New("pending login expired")

// ErrPendingFull is returned by Put when the store holds its maximum of live
// logins.
var ErrPendingFull = errors.New("too many pending logins")

// Defaults of the in-memory store.
const (
	DefaultPendingTTL = 10 * time.Minute
	DefaultPendingMax = 10000
)

// MemoryPending is a PendingStore in memory, bounded by a TTL and a size.
// It suits a single replica and tests; it starts no goroutine: expired
// entries are swept on Put.
type MemoryPending struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu      sync.Mutex
	entries map[string]Pending
}

var _ PendingStore = (*MemoryPending)(nil)

// NewMemoryPending returns a store; ttl <= 0 means DefaultPendingTTL,
// maxEntries <= 0 means DefaultPendingMax, now nil means time.Now.
func NewMemoryPending(ttl time.Duration, maxEntries int, now func() time.Time) *MemoryPending {
	if ttl <= 0 {
		ttl = DefaultPendingTTL
	}
	if maxEntries <= 0 {
		maxEntries = DefaultPendingMax
	}
	if now == nil {
		now = time.Now
	}
	return &MemoryPending{ttl: ttl, max: maxEntries, now: now, entries: map[string]Pending{}}
}

// Put stores p under p.State, sweeping expired entries first.
func (m *MemoryPending) Put(_ context.Context, p Pending) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if len(m.entries) >= m.max {
		for k, e := range m.entries {
			if now.Sub(e.Created) >= m.ttl {
				delete(m.entries, k)
			}
		}
	}
	if len(m.entries) >= m.max {
		return ErrPendingFull
	}
	m.entries[p.State] = p
	return nil
}

// Take returns and deletes the entry for state.
func (m *MemoryPending) Take(_ context.Context, state string) (Pending, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.entries[state]
	if !ok {
		return Pending{}, ErrPendingNotFound
	}
	delete(m.entries, state)
	if m.now().Sub(p.Created) >= m.ttl {
		return Pending{}, ErrPendingExpired
	}
	return p, nil
}

// Len returns the number of stored entries, expired ones included.
func (m *MemoryPending) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}
