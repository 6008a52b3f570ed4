package connectors_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relais-dev/relais/connectors"
)

func TestRateLimiterWaitsAndCounts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var hits atomic.Int64
	srv := newServer(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	// A token every 200ms: far longer than a local call, so only the
	// first call finds one in the bucket.
	cfg := connectors.StackConfig{RateLimit: connectors.RateLimitConfig{RequestsPerSecond: 5, Burst: 1}}
	s := newStack(t, "limited", cfg, b.deps)

	st := s.Status().RateLimit
	if st.RequestsPerSecond != 5 || st.Burst != 1 || st.Available != 1 || st.Waits != 0 {
		t.Fatalf("fresh status = %+v", st)
	}
	for range 3 {
		if status, _, err := get(t, s, srv.URL); err != nil || status != http.StatusOK {
			t.Fatalf("call = %d %v", status, err)
		}
	}
	st = s.Status().RateLimit
	if st.Waits != 2 {
		t.Errorf("waits = %d, want 2", st.Waits)
	}
	if st.Available >= 1 {
		t.Errorf("available = %v just after draining the bucket", st.Available)
	}
	if got := counterValue(t, b, "relais_connector_ratelimit_waits_total", map[string]string{"destination": "limited"}); got != 2 {
		t.Errorf("waits metric = %v, want 2", got)
	}
	if got := counterValue(t, b, "relais_connector_ratelimit_wait_seconds_total", map[string]string{"destination": "limited"}); got < 0.2 || got > 0.4 {
		t.Errorf("wait seconds metric = %v, want about 0.4", got)
	}
}

func TestRateLimiterHonoursContext(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var hits atomic.Int64
	srv := newServer(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	cfg := connectors.StackConfig{
		RateLimit: connectors.RateLimitConfig{RequestsPerSecond: 0.01, Burst: 1},
		Breaker:   connectors.BreakerConfig{ConsecutiveFailures: 1},
	}
	s := newStack(t, "slow", cfg, b.deps)
	if _, _, err := get(t, s, srv.URL); err != nil {
		t.Fatalf("first call: %v", err)
	}
	// The next token comes in 100s: a call with a 1s deadline fails at
	// once rather than waiting.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := s.Do(ctx, "calling", func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, nil)
	})
	if connectors.ClassOf(err) != connectors.Retryable || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want a Retryable deadline error", err)
	}
	// A canceled context stops the wait too.
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, _, err := func() (int, string, error) {
		_, err := s.Do(ctx2, "calling", func(ctx context.Context) (*http.Request, error) {
			return http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		})
		return 0, "", err
	}(); !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if hits.Load() != 1 {
		t.Errorf("platform hit %d times, want 1", hits.Load())
	}
	if st := s.Status().Breaker; st != "closed" {
		t.Errorf("breaker = %s, a rate limit wait is not a platform failure", st)
	}
}
