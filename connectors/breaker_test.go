package connectors_test

import (
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relais-dev/relais/connectors"
)

// switchable answers with the status stored in it.
type switchable struct {
	status atomic.Int64
	hits   atomic.Int64
}

func (s *switchable) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	s.hits.Add(1)
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(int(s.status.Load()))
	fmt.Fprintf(w, `{"status":%d}`, s.status.Load())
}

func TestBreakerOpensOnConsecutiveFailures(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h := &switchable{}
	h.status.Store(http.StatusServiceUnavailable)
	srv := newServer(t, h)
	cfg := connectors.StackConfig{
		Breaker: connectors.BreakerConfig{ConsecutiveFailures: 3, OpenTimeout: time.Minute},
		Retry:   connectors.RetryConfig{Max: -1},
	}
	s := newStack(t, "outage", cfg, b.deps)

	for range 3 {
		status, body, err := get(t, s, srv.URL)
		// The 5xx is counted by the breaker but still handed back with
		// its body.
		if err != nil || status != http.StatusServiceUnavailable || body != `{"status":503}` {
			t.Fatalf("call = %d %q %v, want the 503 and its body", status, body, err)
		}
	}
	if got := s.Status().Breaker; got != "open" {
		t.Fatalf("breaker = %s, want open", got)
	}
	_, _, err := get(t, s, srv.URL)
	var boe *connectors.BreakerOpenError
	if !errors.As(err, &boe) {
		t.Fatalf("error = %v, want a *BreakerOpenError", err)
	}
	if boe.Destination != "outage" || boe.RetryIn <= 50*time.Second || boe.RetryIn > time.Minute {
		t.Errorf("BreakerOpenError = %+v, want RetryIn just under a minute", boe)
	}
	if connectors.ClassOf(err) != connectors.Retryable {
		t.Errorf("class = %v", connectors.ClassOf(err))
	}
	if h.hits.Load() != 3 {
		t.Errorf("platform hit %d times, want 3: an open breaker makes no call", h.hits.Load())
	}
	if got := counterValue(t, b, "relais_connector_breaker_state", map[string]string{"destination": "outage"}); got != 2 {
		t.Errorf("breaker_state gauge = %v, want 2", got)
	}
	if got := counterValue(t, b, "relais_connector_breaker_transitions_total", map[string]string{"destination": "outage", "to": "open"}); got != 1 {
		t.Errorf("transitions to open = %v, want 1", got)
	}
	if logs := b.logs.String(); !contains(logs, `"level":"WARN","msg":"circuit breaker state changed"`) || !contains(logs, `"to":"open"`) {
		t.Errorf("logs lack the transition to open:\n%s", logs)
	}
}

func TestBreakerClosesAfterAGoodProbe(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h := &switchable{}
	h.status.Store(http.StatusBadGateway)
	srv := newServer(t, h)
	cfg := connectors.StackConfig{
		Breaker: connectors.BreakerConfig{ConsecutiveFailures: 2, OpenTimeout: 20 * time.Millisecond},
		Retry:   connectors.RetryConfig{Max: -1},
	}
	s := newStack(t, "flapping", cfg, b.deps)
	for range 2 {
		if _, _, err := get(t, s, srv.URL); err != nil {
			t.Fatal(err)
		}
	}
	// The platform recovers; once OpenTimeout has passed, a probe closes
	// the breaker.
	h.status.Store(http.StatusOK)
	eventually(t, "the breaker to close", func() bool {
		status, _, err := get(t, s, srv.URL)
		return err == nil && status == http.StatusOK
	})
	if got := s.Status().Breaker; got != "closed" {
		t.Errorf("breaker = %s after a good probe, want closed", got)
	}
	for _, to := range []string{"open", "half-open", "closed"} {
		if got := counterValue(t, b, "relais_connector_breaker_transitions_total", map[string]string{"destination": "flapping", "to": to}); got != 1 {
			t.Errorf("transitions to %s = %v, want 1", to, got)
		}
	}
	if got := counterValue(t, b, "relais_connector_breaker_state", map[string]string{"destination": "flapping"}); got != 0 {
		t.Errorf("breaker_state gauge = %v, want 0", got)
	}
	if logs := b.logs.String(); !contains(logs, `"level":"INFO","msg":"circuit breaker state changed"`) || !contains(logs, `"to":"closed"`) {
		t.Errorf("logs lack the transition to closed:\n%s", logs)
	}
}

func TestBreakerOpensOnFailureRatio(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h := &switchable{}
	srv := newServer(t, h)
	cfg := connectors.StackConfig{
		Breaker: connectors.BreakerConfig{ConsecutiveFailures: 100, MinRequests: 6, FailureRatio: 0.5},
		Retry:   connectors.RetryConfig{Max: -1},
	}
	s := newStack(t, "flaky", cfg, b.deps)
	for i := range 6 {
		h.status.Store(int64([]int{200, 500}[i%2]))
		if _, _, err := get(t, s, srv.URL); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if want := map[bool]string{true: "open", false: "closed"}[i == 5]; s.Status().Breaker != want {
			t.Fatalf("after %d calls breaker = %s, want %s", i+1, s.Status().Breaker, want)
		}
	}
}

func TestBreakerIgnoresClientErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h := &switchable{}
	srv := newServer(t, h)
	cfg := connectors.StackConfig{
		Breaker: connectors.BreakerConfig{ConsecutiveFailures: 2, MinRequests: 2},
		Retry:   connectors.RetryConfig{Max: -1},
	}
	s := newStack(t, "strict", cfg, b.deps)
	for _, status := range []int{429, 400, 404, 409, 422, 429, 401, 403} {
		h.status.Store(int64(status))
		if got, _, err := get(t, s, srv.URL); err != nil || got != status {
			t.Fatalf("call = %d %v, want %d", got, err, status)
		}
	}
	if got := s.Status().Breaker; got != "closed" {
		t.Errorf("breaker = %s after 4xx answers, want closed", got)
	}
}

func TestBreakerCountsTransportErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	srv := newServer(t, http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens any more
	cfg := connectors.StackConfig{
		Breaker: connectors.BreakerConfig{ConsecutiveFailures: 2, OpenTimeout: time.Minute},
		Retry:   connectors.RetryConfig{Max: -1},
	}
	s := newStack(t, "gone", cfg, b.deps)
	for range 2 {
		_, _, err := get(t, s, url)
		if connectors.ClassOf(err) != connectors.Retryable {
			t.Fatalf("error = %v, want Retryable", err)
		}
	}
	_, _, err := get(t, s, url)
	var boe *connectors.BreakerOpenError
	if !errors.As(err, &boe) || boe.RetryIn <= 55*time.Second {
		t.Fatalf("error = %v, want an open breaker for about a minute", err)
	}
}
