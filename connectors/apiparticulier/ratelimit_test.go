package apiparticulier_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/apiparticulier"
	"github.com/relais-dev/relais/mapping"
	mockapi "github.com/relais-dev/relais/mocks/apiparticulier"
)

// memReserver is a shared limiter in memory, as the PostgreSQL store keeps
// one in a table: each key's next free slot, one per 1/rate.
type memReserver struct {
	mu    sync.Mutex
	next  map[string]time.Time
	calls int
}

func (r *memReserver) Reserve(_ context.Context, key string, cfg connectors.RateLimitConfig) (time.Duration, error) {
	interval := time.Duration(float64(time.Second) / cfg.RequestsPerSecond)
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	slot := r.next[key]
	if slot.Before(now) {
		slot = now
	}
	r.next[key] = slot.Add(interval)
	return slot.Sub(now), nil
}

// martinSamuel receives the RSA and the prime d'activité.
func martinSamuel() mapping.Person {
	return mapping.Person{
		BirthFamilyName: "MARTIN", GivenNames: []string{"Samuel"}, Sex: mapping.SexMale,
		BirthDate: "1980-09-20", BirthPlaceCOG: "08480", BirthCountryCOG: mapping.CountryFrance,
	}
}

// burst pulls the RSA of n people at once through each client and returns
// the outcomes.
func burst(t *testing.T, n int, clients ...*apiparticulier.Client) map[connectors.Outcome]int {
	t.Helper()
	var mu sync.Mutex
	outcomes := map[connectors.Outcome]int{}
	var wg sync.WaitGroup
	for _, c := range clients {
		for range n {
			wg.Go(func() {
				items, err := c.Pull(context.Background(), query(martinSamuel(), apiparticulier.OpRevenuSolidariteActive))
				o := connectors.OutcomeError
				if err == nil {
					o = connectors.OutcomeOf(items[0].Err)
				}
				mu.Lock()
				outcomes[o]++
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	return outcomes
}

// The platform's 20 requests per second per token hold for a burst of
// lookups: no 429, every pull answered. The mock counts on the wall clock.
func TestRateLimitHolds(t *testing.T) {
	t.Parallel()
	b := setup(t, mockapi.Options{Now: time.Now}, nil)
	c := b.newClient(t, nil, connectors.Deps{Now: time.Now})
	got := burst(t, 25, c)
	if got[connectors.OutcomeOK] != 25 {
		t.Errorf("outcomes %v, want 25 ok", got)
	}
	if n := b.mock.Stats().RateLimited; n != 0 {
		t.Errorf("the platform refused %d requests for rate", n)
	}
}

// Two processes using the same token keep to its limit together through
// the shared Reserver; without it, each keeps its own and together they
// exceed it.
func TestRateLimitSharedAcrossProcesses(t *testing.T) {
	t.Parallel()
	t.Run("shared", func(t *testing.T) {
		t.Parallel()
		b := setup(t, mockapi.Options{Now: time.Now}, nil)
		res := &memReserver{next: map[string]time.Time{}}
		deps := connectors.Deps{Now: time.Now, Reserver: res}
		// 12 a second shared, not the default 18: under the race detector
		// on a loaded machine a try can leave 100 ms after its slot, and
		// late tries bunch into the platform's next fixed window. The
		// control below shows two unshared clients at 18 do get refused.
		slower := func(c *apiparticulier.Config) { c.Stack.RateLimit.RequestsPerSecond = 12 }
		one, two := b.newClient(t, slower, deps), b.newClient(t, slower, deps)
		got := burst(t, 15, one, two)
		if got[connectors.OutcomeOK] != 30 {
			t.Errorf("outcomes %v, want 30 ok", got)
		}
		if n := b.mock.Stats().RateLimited; n != 0 {
			t.Errorf("the platform refused %d requests for rate", n)
		}
		res.mu.Lock()
		defer res.mu.Unlock()
		// A try books again when the platform says its window is spent
		// while the try waits for its slot (RateLimit-Remaining: 0).
		if res.calls < 30 || len(res.next) != 1 {
			t.Errorf("%d slots booked under %d keys, want at least 30 under the token's one", res.calls, len(res.next))
		}
		for k := range res.next {
			if k != connectors.RateLimitKey("apiparticulier", connectors.AuthConfig{Kind: connectors.AuthBearer, Token: mockapi.DefaultToken}) {
				t.Errorf("slots booked under %q, want the token's key", k)
			}
		}
	})
	t.Run("each its own", func(t *testing.T) {
		t.Parallel()
		b := setup(t, mockapi.Options{Now: time.Now}, nil)
		one := b.newClient(t, nil, connectors.Deps{Now: time.Now})
		two := b.newClient(t, nil, connectors.Deps{Now: time.Now})
		burst(t, 15, one, two)
		if n := b.mock.Stats().RateLimited; n == 0 {
			t.Error("two processes at 18 requests per second each were never refused: the control proves nothing")
		}
	})
}

// After the platform refused a request for rate, the next ones wait for
// its window to reset instead of being sent into more 429s: a lookup whose
// deadline comes first is rate_limited at once, unsent.
func TestRateLimitNoStorm(t *testing.T) {
	t.Parallel()
	b := setup(t, mockapi.Options{}, nil)
	desfouin := mapping.Person{BirthFamilyName: "DESFOUIN", GivenNames: []string{"René"}, Sex: mapping.SexMale,
		BirthDate: "1980-01-01", BirthPlaceCOG: "75056", BirthCountryCOG: mapping.CountryFrance}
	item := pullOne(t, b.client, query(desfouin, apiparticulier.OpQuotientFamilial))
	if connectors.OutcomeOf(item.Err) != connectors.OutcomeRateLimited {
		t.Fatalf("the sandbox's 429: %v", item.Err)
	}
	before := b.mock.Stats().Requests
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	items, err := b.client.Pull(ctx, query(martinSamuel(), apiparticulier.OpRevenuSolidariteActive, apiparticulier.OpPrimeActivite))
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if o := connectors.OutcomeOf(it.Err); o != connectors.OutcomeRateLimited || !connectors.IsRateLimitWait(it.Err) {
			t.Errorf("%s within the platform's Retry-After: %s (%v), want rate_limited, unsent", it.Operation, o, it.Err)
		}
	}
	if n := b.mock.Stats().Requests - before; n != 0 {
		t.Errorf("%d requests sent within the platform's Retry-After", n)
	}
	// Without a deadline, the next pull waits for the reset and succeeds.
	if item := pullOne(t, b.client, query(martinSamuel(), apiparticulier.OpRevenuSolidariteActive)); item.Err != nil {
		t.Errorf("after the wait: %v", item.Err)
	}
}
