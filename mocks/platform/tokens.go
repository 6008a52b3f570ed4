package platform

import (
	"crypto/rand"
	"sync"
	"time"
)

// sweepEvery is how many tokens Tokens issues between sweeps of the
// expired ones.
const sweepEvery = 1024

// Tokens are the bearer tokens a mock's token endpoint issued (an OAuth2
// client-credentials grant), each standing for a grant G until it expires.
// The zero value is empty and ready to use; it is safe for concurrent use.
type Tokens[G any] struct {
	mu      sync.Mutex
	byToken map[string]issuedToken[G]
	issued  int // since the last sweep
}

type issuedToken[G any] struct {
	grant   G
	expires time.Time
}

// Issue returns a new random token standing for g until expires. Every
// sweepEvery issues, the tokens expired at now are forgotten.
func (t *Tokens[G]) Issue(g G, now, expires time.Time) string {
	tok := rand.Text()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byToken == nil {
		t.byToken = map[string]issuedToken[G]{}
	}
	t.byToken[tok] = issuedToken[G]{grant: g, expires: expires}
	if t.issued++; t.issued >= sweepEvery {
		t.issued = 0
		for k, it := range t.byToken {
			if !now.Before(it.expires) {
				delete(t.byToken, k)
			}
		}
	}
	return tok
}

// Lookup returns the grant tok stands for; known reports that tok was
// issued (and not yet swept out), live that it has not expired at now.
func (t *Tokens[G]) Lookup(tok string, now time.Time) (g G, known, live bool) {
	t.mu.Lock()
	it, known := t.byToken[tok]
	t.mu.Unlock()
	return it.grant, known, known && now.Before(it.expires)
}

// Reset forgets every token.
func (t *Tokens[G]) Reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.byToken, t.issued = nil, 0
}
