package platform

import (
	"context"
	"crypto/sha256"
	"net/http"
	"sync"
	"time"
)

// dedupStore keeps the answers of idempotent operations by key.
type dedupStore struct {
	ttl time.Duration

	mu      sync.Mutex
	entries map[string]*dedupEntry
	sweepAt int
}

// dedupEntry is one idempotency key: in flight until done is closed, then
// kept with its answer (or forgotten when processing stored nothing).
type dedupEntry struct {
	hash [sha256.Size]byte
	done chan struct{}
	// ans and at are written before done is closed.
	ans *stored
	at  time.Time
}

// stored is a frozen answer, replayed byte for byte.
type stored struct {
	status int
	header http.Header
	body   []byte
}

type dedupOutcome int

const (
	dedupOwner    dedupOutcome = iota // process the request, then finish
	dedupReplay                       // replay entry.ans
	dedupConflict                     // same key, another request
	dedupGone                         // the client gave up while waiting
)

func newDedupStore(ttl time.Duration) *dedupStore {
	return &dedupStore{ttl: ttl, entries: map[string]*dedupEntry{}, sweepAt: minSweep}
}

// begin looks key up. A request with the same key and another hash is a
// conflict; one with the same hash waits for the first to finish, then
// replays its answer (or processes the request itself if the first stored
// nothing).
func (d *dedupStore) begin(ctx context.Context, key string, hash [sha256.Size]byte, now time.Time) (*dedupEntry, dedupOutcome) {
	for {
		d.mu.Lock()
		e := d.entries[key]
		if e != nil && e.ans != nil && now.Sub(e.at) >= d.ttl {
			delete(d.entries, key)
			e = nil
		}
		if e == nil {
			if len(d.entries) >= d.sweepAt {
				d.sweep(now)
			}
			e = &dedupEntry{hash: hash, done: make(chan struct{})}
			d.entries[key] = e
			d.mu.Unlock()
			return e, dedupOwner
		}
		d.mu.Unlock()
		if e.hash != hash {
			return e, dedupConflict
		}
		select {
		case <-e.done:
			if e.ans != nil {
				return e, dedupReplay
			}
			// The first request stored nothing: try again.
		case <-ctx.Done():
			return nil, dedupGone
		}
	}
}

// finish ends the processing of e: ans (nil to store nothing) is kept for
// replays.
func (d *dedupStore) finish(key string, e *dedupEntry, ans *stored, now time.Time) {
	d.mu.Lock()
	if ans == nil && d.entries[key] == e {
		delete(d.entries, key)
	}
	e.ans, e.at = ans, now
	d.mu.Unlock()
	close(e.done)
}

// sweep forgets expired answers; d.mu is held.
func (d *dedupStore) sweep(now time.Time) {
	for k, e := range d.entries {
		if e.ans != nil && now.Sub(e.at) >= d.ttl {
			delete(d.entries, k)
		}
	}
	d.sweepAt = max(minSweep, 2*len(d.entries))
}

func (d *dedupStore) reset() {
	d.mu.Lock()
	d.entries = map[string]*dedupEntry{}
	d.sweepAt = minSweep
	d.mu.Unlock()
}
