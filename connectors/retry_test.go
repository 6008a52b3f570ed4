package connectors_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relais-dev/relais/connectors"
)

// script answers with the given statuses in turn, then 200.
type script struct {
	mu         sync.Mutex
	statuses   []int
	retryAfter string
	bodies     []string
	hits       atomic.Int64
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.hits.Add(1)
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.bodies = append(s.bodies, string(b))
	status := http.StatusOK
	if len(s.statuses) > 0 {
		status, s.statuses = s.statuses[0], s.statuses[1:]
	}
	s.mu.Unlock()
	if status != http.StatusOK && s.retryAfter != "" {
		w.Header().Set("Retry-After", s.retryAfter)
	}
	w.WriteHeader(status)
}

func fastRetries() connectors.StackConfig {
	return connectors.StackConfig{Retry: connectors.RetryConfig{Max: 2, WaitMin: time.Millisecond, WaitMax: 2 * time.Millisecond}}
}

func TestRetryIdempotentMethods(t *testing.T) {
	t.Parallel()
	for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			h := &script{statuses: []int{503, 502}}
			srv := newServer(t, h)
			s := newStack(t, "idem", fastRetries(), b.deps)
			var body []byte
			if method == http.MethodPut {
				body = []byte(`{"name":"same body every try"}`)
			}
			status, _, err := send(t, s, method, srv.URL, body)
			if err != nil || status != http.StatusOK {
				t.Fatalf("call = %d %v, want 200 after two retries", status, err)
			}
			if h.hits.Load() != 3 {
				t.Errorf("platform hit %d times, want 3", h.hits.Load())
			}
			if method == http.MethodPut {
				for i, got := range h.bodies {
					if got != string(body) {
						t.Errorf("try %d body = %q, want %q", i+1, got, body)
					}
				}
			}
			if got := counterValue(t, b, "relais_connector_retries_total", map[string]string{"destination": "idem"}); got != 2 {
				t.Errorf("retries metric = %v, want 2", got)
			}
		})
	}
}

func TestRetryGivesUpWithLastResponse(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h := &script{statuses: []int{503, 503, 503, 503}}
	srv := newServer(t, h)
	s := newStack(t, "down", fastRetries(), b.deps)
	status, _, err := get(t, s, srv.URL)
	if err != nil || status != http.StatusServiceUnavailable {
		t.Fatalf("call = %d %v, want the last 503 back", status, err)
	}
	if h.hits.Load() != 3 {
		t.Errorf("platform hit %d times, want 1 try and 2 retries", h.hits.Load())
	}
}

func TestNoRetryOfNonIdempotentMethods(t *testing.T) {
	t.Parallel()
	for _, method := range []string{http.MethodPost, http.MethodPatch} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			h := &script{statuses: []int{503}}
			srv := newServer(t, h)
			s := newStack(t, "once", fastRetries(), b.deps)
			status, _, err := send(t, s, method, srv.URL, []byte("payload"))
			if err != nil || status != http.StatusServiceUnavailable {
				t.Fatalf("call = %d %v, want the 503", status, err)
			}
			if h.hits.Load() != 1 {
				t.Errorf("platform hit %d times, want 1", h.hits.Load())
			}
		})
	}
}

func TestNoRetryOfClientErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h := &script{statuses: []int{422}}
	srv := newServer(t, h)
	s := newStack(t, "strict", fastRetries(), b.deps)
	if status, _, err := get(t, s, srv.URL); err != nil || status != 422 {
		t.Fatalf("call = %d %v", status, err)
	}
	if h.hits.Load() != 1 {
		t.Errorf("platform hit %d times, want 1", h.hits.Load())
	}
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h := &script{statuses: []int{429}, retryAfter: "0"}
	srv := newServer(t, h)
	cfg := fastRetries()
	// WaitMin is long: only Retry-After: 0 lets the retry go at once.
	cfg.Retry.WaitMin, cfg.Retry.WaitMax = time.Hour, time.Hour
	s := newStack(t, "polite", cfg, b.deps)
	if status, _, err := get(t, s, srv.URL); err != nil || status != http.StatusOK {
		t.Fatalf("call = %d %v", status, err)
	}
	if h.hits.Load() != 2 {
		t.Errorf("platform hit %d times, want 2", h.hits.Load())
	}
}

func TestRetryAfterBeyondCapIsLeftToTheCaller(t *testing.T) {
	t.Parallel()
	for _, ra := range []string{"3600", "Mon, 02 Mar 2026 10:00:00 GMT"} {
		t.Run(ra, func(t *testing.T) {
			t.Parallel()
			b := setup(t) // the fake clock reads 09:00 GMT: the date is an hour away
			h := &script{statuses: []int{429}, retryAfter: ra}
			srv := newServer(t, h)
			s := newStack(t, "busy", fastRetries(), b.deps)
			resp, err := s.Do(context.Background(), "calling", func(ctx context.Context) (*http.Request, error) {
				return http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
			})
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusTooManyRequests || h.hits.Load() != 1 {
				t.Fatalf("status %d after %d hits, want the 429 at once", resp.StatusCode, h.hits.Load())
			}
			ce := connectors.Classify(resp, "calling", b.clock.Now())
			if ce.Class != connectors.Retryable || ce.RetryAfter != time.Hour {
				t.Errorf("classified = %+v, want Retryable with the full hour", ce)
			}
		})
	}
}

func TestRetryNeedsRewindableBody(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h := &script{}
	srv := newServer(t, h)
	s := newStack(t, "rewind", fastRetries(), b.deps)
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPut, srv.URL, io.NopCloser(strings.NewReader("once")))
	if err != nil {
		t.Fatal(err)
	}
	req.GetBody = nil
	if resp, err := s.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("a PUT whose body cannot be rewound was sent")
	} else if !strings.Contains(err.Error(), "not rewindable") {
		t.Errorf("error = %v", err)
	}
	if h.hits.Load() != 0 {
		t.Error("platform was called")
	}
}

func TestRetryNeverRetriesOpenBreaker(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h := &script{statuses: []int{500, 500, 500, 500, 500}}
	srv := newServer(t, h)
	cfg := fastRetries()
	cfg.Breaker = connectors.BreakerConfig{ConsecutiveFailures: 1, OpenTimeout: time.Minute}
	s := newStack(t, "fragile", cfg, b.deps)
	// The first try opens the breaker; its retry is refused without a
	// call and is not tried again.
	_, _, err := get(t, s, srv.URL)
	var boe *connectors.BreakerOpenError
	if !errors.As(err, &boe) {
		t.Fatalf("error = %v, want a *BreakerOpenError", err)
	}
	if h.hits.Load() != 1 {
		t.Errorf("platform hit %d times, want 1", h.hits.Load())
	}
	if got := counterValue(t, b, "relais_connector_retries_total", map[string]string{"destination": "fragile"}); got != 1 {
		t.Errorf("retries = %v, want 1 (the refused one)", got)
	}
	_, _, err = get(t, s, srv.URL)
	if !errors.As(err, &boe) || h.hits.Load() != 1 {
		t.Fatalf("second call: %v after %d hits", err, h.hits.Load())
	}
}

func TestPerTryTimeout(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var hits atomic.Int64
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		<-r.Context().Done() // hangs until the client gives up
	}))
	cfg := fastRetries()
	cfg.Timeout = 50 * time.Millisecond
	s := newStack(t, "hung", cfg, b.deps)
	_, _, err := get(t, s, srv.URL)
	if connectors.ClassOf(err) != connectors.Retryable || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want a Retryable timeout", err)
	}
	// Each try has its own timeout: the call was tried three times.
	if got := counterValue(t, b, "relais_connector_retries_total", map[string]string{"destination": "hung"}); got != 2 {
		t.Errorf("retries = %v, want 2", got)
	}
	if hits.Load() == 0 {
		t.Error("the platform never saw the call")
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var followed atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/new", http.StatusFound) })
	mux.HandleFunc("/new", func(http.ResponseWriter, *http.Request) { followed.Store(true) })
	srv := newServer(t, mux)
	s := newStack(t, "moved", connectors.StackConfig{Auth: connectors.AuthConfig{Kind: connectors.AuthBearer, Token: "t"}}, b.deps)
	if status, _, err := get(t, s, srv.URL+"/old"); err != nil || status != http.StatusFound {
		t.Fatalf("call = %d %v, want the 302", status, err)
	}
	if followed.Load() {
		t.Error("the redirect was followed with our credentials")
	}
}
