package connectors_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
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

// fakeReserver books slots as a shared limiter would, answering the wait it
// is told to and recording every key.
type fakeReserver struct {
	mu    sync.Mutex
	keys  []string
	cfgs  []connectors.RateLimitConfig
	delay time.Duration
	err   error
}

func (r *fakeReserver) Reserve(_ context.Context, key string, cfg connectors.RateLimitConfig) (time.Duration, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys = append(r.keys, key)
	r.cfgs = append(r.cfgs, cfg)
	return r.delay, r.err
}

func (r *fakeReserver) calls() ([]string, []connectors.RateLimitConfig) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.keys), slices.Clone(r.cfgs)
}

func TestRateLimitKey(t *testing.T) {
	t.Parallel()
	bearer := func(tok string) connectors.AuthConfig {
		return connectors.AuthConfig{Kind: connectors.AuthBearer, Token: connectors.Secret(tok)}
	}
	oauth := connectors.AuthConfig{Kind: connectors.AuthOAuth2ClientCredentials, TokenURL: "https://auth.example/token", ClientID: "relais", ClientSecret: "s3cret"}
	key := connectors.RateLimitKey("apiparticulier", bearer("token-of-the-tenant"))
	if !strings.HasPrefix(key, "ratelimit:") || len(key) != len("ratelimit:")+32 {
		t.Fatalf("key = %q, want ratelimit: and 32 hex digits", key)
	}
	if strings.Contains(key, "token-of-the-tenant") {
		t.Fatalf("key %q holds the token", key)
	}
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{"same token, other destination", key, connectors.RateLimitKey("apiparticulier-2", bearer("token-of-the-tenant")), true},
		{"other token", key, connectors.RateLimitKey("apiparticulier", bearer("token-of-another-tenant")), false},
		{"same value as an API key", key, connectors.RateLimitKey("apiparticulier", connectors.AuthConfig{Kind: connectors.AuthAPIKey, Token: "token-of-the-tenant"}), false},
		{"oauth2 client, whatever its secret", connectors.RateLimitKey("ft", oauth), connectors.RateLimitKey("ft2", func() connectors.AuthConfig { o := oauth; o.ClientSecret = "other"; return o }()), true},
		{"no credentials: keyed on the destination", connectors.RateLimitKey("a", connectors.AuthConfig{}), connectors.RateLimitKey("b", connectors.AuthConfig{}), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if (tc.a == tc.b) != tc.same {
				t.Fatalf("keys %q and %q: same = %t, want %t", tc.a, tc.b, tc.a == tc.b, tc.same)
			}
		})
	}
}

// With a Reserver, every try books its slot there under the credential's
// key, and the in-process bucket is not consulted.
func TestRateLimiterBooksSharedSlots(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var hits atomic.Int64
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if hits.Add(1) == 2 {
			w.WriteHeader(http.StatusBadGateway) // retried in-call: one more slot
		}
	}))
	res := &fakeReserver{delay: 5 * time.Millisecond}
	b.deps.Reserver = res
	// The local bucket would hold the second call 100s.
	cfg := connectors.StackConfig{
		Auth:      connectors.AuthConfig{Kind: connectors.AuthBearer, Token: "tenant-token"},
		RateLimit: connectors.RateLimitConfig{RequestsPerSecond: 0.01, Burst: 1},
		Retry:     connectors.RetryConfig{Max: 1, WaitMin: time.Millisecond, WaitMax: time.Millisecond},
	}
	s := newStack(t, "shared", cfg, b.deps)
	for range 2 {
		if status, _, err := get(t, s, srv.URL); err != nil || status != http.StatusOK {
			t.Fatalf("call = %d %v", status, err)
		}
	}
	keys, cfgs := res.calls()
	want := connectors.RateLimitKey("shared", cfg.Auth)
	if len(keys) != 3 {
		t.Fatalf("%d slots booked, want 3 (one per try)", len(keys))
	}
	for i, k := range keys {
		if k != want || cfgs[i].RequestsPerSecond != 0.01 || cfgs[i].Burst != 1 {
			t.Errorf("slot %d booked as %q %+v, want %q at the stack's rate", i, k, cfgs[i], want)
		}
	}
	if st := s.Status().RateLimit; st.Waits != 3 || st.Available != 0 {
		t.Errorf("status = %+v, want 3 waits and no local tokens reported", st)
	}
}

// A slot further away than the request's deadline fails the try at once,
// without sending it: the error is Retryable and its outcome rate_limited.
func TestRateLimiterSharedSlotPastDeadline(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var hits atomic.Int64
	srv := newServer(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	b.deps.Reserver = &fakeReserver{delay: time.Minute}
	s := newStack(t, "shared", connectors.StackConfig{}, b.deps)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := s.Do(ctx, "calling", func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	})
	if connectors.ClassOf(err) != connectors.Retryable || !connectors.IsRateLimitWait(err) || connectors.OutcomeOf(err) != connectors.OutcomeRateLimited {
		t.Fatalf("error = %v (outcome %s), want a Retryable rate limit wait, rate_limited", err, connectors.OutcomeOf(err))
	}
	if hits.Load() != 0 {
		t.Errorf("platform hit %d times, want 0", hits.Load())
	}
}

// While the Reserver fails, the in-process bucket stands in, and the
// switch is logged once each way.
func TestRateLimiterReserverDown(t *testing.T) {
	t.Parallel()
	b := setup(t)
	srv := newServer(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	res := &fakeReserver{err: errors.New("database is down")}
	b.deps.Reserver = res
	cfg := connectors.StackConfig{RateLimit: connectors.RateLimitConfig{RequestsPerSecond: 1000, Burst: 5}}
	s := newStack(t, "degraded", cfg, b.deps)
	for range 3 {
		if status, _, err := get(t, s, srv.URL); err != nil || status != http.StatusOK {
			t.Fatalf("call = %d %v", status, err)
		}
	}
	if st := s.Status().RateLimit; st.Available <= 0 {
		t.Errorf("status = %+v, want the local bucket's tokens while degraded", st)
	}
	res.mu.Lock()
	res.err = nil
	res.mu.Unlock()
	if _, _, err := get(t, s, srv.URL); err != nil {
		t.Fatal(err)
	}
	logs := b.logs.String()
	if n := strings.Count(logs, "shared rate limit unavailable"); n != 1 {
		t.Errorf("logged the fallback %d times, want once:\n%s", n, logs)
	}
	if !contains(logs, "shared rate limit back in use") {
		t.Errorf("the return to the shared limit is not logged:\n%s", logs)
	}
	if keys, _ := res.calls(); len(keys) != 4 {
		t.Errorf("Reserve called %d times, want 4", len(keys))
	}
}

// What the platform says of its window holds the later tries: they wait for
// the reset instead of being sent into a 429, and fail at once, unsent, when
// the reset is beyond their deadline.
func TestRateLimiterHonoursPlatformWindow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		status  int
		headers func(now time.Time) map[string]string
		// paused: the next call, with a 2s deadline, is refused unsent.
		paused bool
	}{
		{"429 with Retry-After seconds", http.StatusTooManyRequests, func(time.Time) map[string]string {
			return map[string]string{"Retry-After": "30"}
		}, true},
		{"429 with Retry-After date", http.StatusTooManyRequests, func(now time.Time) map[string]string {
			return map[string]string{"Retry-After": now.Add(40 * time.Second).UTC().Format(http.TimeFormat)}
		}, true},
		{"429 with RateLimit-Reset only", http.StatusTooManyRequests, func(time.Time) map[string]string {
			return map[string]string{"RateLimit-Remaining": "0", "RateLimit-Reset": "30"}
		}, true},
		{"window spent, reset in seconds", http.StatusOK, func(time.Time) map[string]string {
			return map[string]string{"RateLimit-Limit": "20", "RateLimit-Remaining": "0", "RateLimit-Reset": "30"}
		}, true},
		{"window spent, reset as a Unix time (API Particulier)", http.StatusOK, func(now time.Time) map[string]string {
			return map[string]string{"RateLimit-Limit": "20", "RateLimit-Remaining": "0", "RateLimit-Reset": strconv.FormatInt(now.Add(30*time.Second).Unix(), 10)}
		}, true},
		{"window spent on a refusal (per-IP window)", http.StatusUnauthorized, func(time.Time) map[string]string {
			return map[string]string{"RateLimit-Remaining": "0", "RateLimit-Reset": "30"}
		}, true},
		{"window not spent", http.StatusOK, func(time.Time) map[string]string {
			return map[string]string{"RateLimit-Limit": "20", "RateLimit-Remaining": "1", "RateLimit-Reset": "30"}
		}, false},
		{"reset already past", http.StatusOK, func(now time.Time) map[string]string {
			return map[string]string{"RateLimit-Remaining": "0", "RateLimit-Reset": strconv.FormatInt(now.Add(-time.Minute).Unix(), 10)}
		}, false},
		{"malformed headers", http.StatusOK, func(time.Time) map[string]string {
			return map[string]string{"RateLimit-Remaining": "-1", "RateLimit-Reset": "soon"}
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			var hits atomic.Int64
			srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if hits.Add(1) == 1 {
					for k, v := range tc.headers(b.clock.Now()) {
						w.Header().Set(k, v)
					}
					w.WriteHeader(tc.status)
				}
			}))
			cfg := connectors.StackConfig{Retry: connectors.RetryConfig{Max: -1}}
			s := newStack(t, "window", cfg, b.deps)
			if status, _, err := get(t, s, srv.URL); err != nil || status != tc.status {
				t.Fatalf("first call = %d %v, want %d", status, err, tc.status)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			resp, err := s.Do(ctx, "calling", func(ctx context.Context) (*http.Request, error) {
				return http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
			})
			if resp != nil {
				_ = resp.Body.Close()
			}
			if !tc.paused {
				if err != nil || hits.Load() != 2 {
					t.Fatalf("second call: %v, %d hits; want it sent", err, hits.Load())
				}
				return
			}
			if !connectors.IsRateLimitWait(err) || connectors.OutcomeOf(err) != connectors.OutcomeRateLimited || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("second call: %v, want a rate limit wait past the deadline", err)
			}
			if hits.Load() != 1 {
				t.Errorf("platform hit %d times, want 1: the paused call was sent", hits.Load())
			}
			if st := s.Status().RateLimit; st.Available != 0 {
				t.Errorf("available = %v during the pause, want 0", st.Available)
			}
		})
	}
}

// A pause ends: the waiting call is sent after it. MaxPause caps what the
// platform asks for.
func TestRateLimiterPauseEnds(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var hits atomic.Int64
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if hits.Add(1) == 1 {
			w.Header().Set("Retry-After", "3600") // a 12 h ban would say more
			w.WriteHeader(http.StatusTooManyRequests)
		}
	}))
	cfg := connectors.StackConfig{
		RateLimit: connectors.RateLimitConfig{MaxPause: 50 * time.Millisecond},
		Retry:     connectors.RetryConfig{Max: -1},
	}
	s := newStack(t, "capped", cfg, b.deps)
	if status, _, _ := get(t, s, srv.URL); status != http.StatusTooManyRequests {
		t.Fatalf("first call = %d", status)
	}
	if status, _, err := get(t, s, srv.URL); err != nil || status != http.StatusOK {
		t.Fatalf("second call = %d %v, want sent after the capped pause", status, err)
	}
	if st := s.Status().RateLimit; st.Waits != 1 {
		t.Errorf("waits = %d, want 1 (the pause)", st.Waits)
	}
	if got := counterValue(t, b, "relais_connector_ratelimit_wait_seconds_total", map[string]string{"destination": "capped"}); got <= 0 || got > 0.05 {
		t.Errorf("wait seconds = %v, want the capped pause", got)
	}
}

// slotReserver makes the first slot it books wait first; the later ones
// are free. booked receives one value per booking.
type slotReserver struct {
	calls  atomic.Int64
	first  time.Duration
	booked chan struct{}
}

func (r *slotReserver) Reserve(context.Context, string, connectors.RateLimitConfig) (time.Duration, error) {
	r.booked <- struct{}{}
	if r.calls.Add(1) == 1 {
		return r.first, nil
	}
	return 0, nil
}

// A pause the platform asks for while a try waits for its slot holds that
// try too: it is not sent into the window the platform just said is spent.
func TestRateLimiterPauseDuringSlotWait(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var hits atomic.Int64
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	// The first try's slot is 2s away: room for the second try, sent at
	// once, to bring back its 429 on a loaded machine.
	res := &slotReserver{first: 2 * time.Second, booked: make(chan struct{}, 4)}
	b.deps.Reserver = res
	s := newStack(t, "held", connectors.StackConfig{Retry: connectors.RetryConfig{Max: -1}}, b.deps)
	waiting := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		resp, err := s.Do(ctx, "calling", func(ctx context.Context) (*http.Request, error) {
			return http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		})
		if resp != nil {
			_ = resp.Body.Close()
		}
		waiting <- err
	}()
	<-res.booked
	if status, _, err := get(t, s, srv.URL); err != nil || status != http.StatusTooManyRequests {
		t.Fatalf("second call = %d %v, want the platform's 429", status, err)
	}
	if err := <-waiting; !connectors.IsRateLimitWait(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the try waiting for its slot: %v, want held by the pause past its deadline", err)
	}
	if hits.Load() != 1 {
		t.Errorf("platform hit %d times, want 1: the try waiting for its slot was sent into the pause", hits.Load())
	}
}
