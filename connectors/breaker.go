package connectors

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"
	"golang.org/x/oauth2"
)

// BreakerConfig configures a destination's circuit breaker. It trips on
// ConsecutiveFailures failures in a row, or when at least MinRequests calls
// in the current Interval failed in a FailureRatio proportion. Failures are
// transport errors, timeouts and 5xx responses; 429 and other 4xx are not.
type BreakerConfig struct {
	// ConsecutiveFailures trips the breaker after that many failures in a
	// row. Default: 5.
	ConsecutiveFailures uint32 `yaml:"consecutive_failures"`
	// FailureRatio trips the breaker when that share of the calls of an
	// Interval failed, once MinRequests were made. Default: 0.5.
	FailureRatio float64 `yaml:"failure_ratio"`
	// MinRequests is the number of calls an Interval needs before
	// FailureRatio applies. Default: 20.
	MinRequests uint32 `yaml:"min_requests"`
	// Interval is the period after which the closed breaker clears its
	// counts. Default: 60s.
	Interval time.Duration `yaml:"interval"`
	// OpenTimeout is how long the breaker stays open before letting probes
	// through. Default: 30s.
	OpenTimeout time.Duration `yaml:"open_timeout"`
	// HalfOpenProbes is the number of calls let through while half-open;
	// that many successes close the breaker. Default: 1.
	HalfOpenProbes uint32 `yaml:"half_open_probes"`
}

// WithDefaults returns c with its zero fields set to their defaults.
func (c BreakerConfig) WithDefaults() BreakerConfig {
	if c.ConsecutiveFailures == 0 {
		c.ConsecutiveFailures = 5
	}
	if c.FailureRatio == 0 {
		c.FailureRatio = 0.5
	}
	if c.MinRequests == 0 {
		c.MinRequests = 20
	}
	if c.Interval == 0 {
		c.Interval = 60 * time.Second
	}
	if c.OpenTimeout == 0 {
		c.OpenTimeout = 30 * time.Second
	}
	if c.HalfOpenProbes == 0 {
		c.HalfOpenProbes = 1
	}
	return c
}

// Validate reports the first faulty field.
func (c BreakerConfig) Validate() error {
	switch {
	case c.ConsecutiveFailures < 1:
		return configErrorf("consecutive_failures", "must be at least 1")
	case !(c.FailureRatio > 0 && c.FailureRatio <= 1):
		return configErrorf("failure_ratio", "must be in (0, 1]")
	case c.MinRequests < 1:
		return configErrorf("min_requests", "must be at least 1")
	case c.Interval <= 0:
		return configErrorf("interval", "must be positive")
	case c.OpenTimeout <= 0:
		return configErrorf("open_timeout", "must be positive")
	case c.HalfOpenProbes < 1:
		return configErrorf("half_open_probes", "must be at least 1")
	}
	return nil
}

// errServerStatus marks a 5xx response as a failure for the breaker; the
// response itself still goes back to the caller.
var errServerStatus = errors.New("server error status")

// breakerTransport refuses calls while the destination's breaker is open,
// without any network call. gobreaker keeps wall-clock time, so the times
// this wrapper tracks for RetryIn are wall-clock too.
type breakerTransport struct {
	next http.RoundTripper
	dest string
	cb   *gobreaker.CircuitBreaker[*http.Response]
	cfg  BreakerConfig
	// probeTimeout bounds a half-open probe (the per-try timeout).
	probeTimeout time.Duration

	mu         sync.Mutex
	openedAt   time.Time
	halfOpenAt time.Time
}

func newBreakerTransport(next http.RoundTripper, cfg BreakerConfig, probeTimeout time.Duration, dest string, m *Metrics, log *slog.Logger) *breakerTransport {
	t := &breakerTransport{next: next, dest: dest, cfg: cfg, probeTimeout: probeTimeout}
	gauge := m.breakerState.WithLabelValues(dest)
	gauge.Set(0)
	transitions := m.breakerTransitions.MustCurryWith(prometheus.Labels{"destination": dest})
	t.cb = gobreaker.NewCircuitBreaker[*http.Response](gobreaker.Settings{
		Name:        dest,
		MaxRequests: cfg.HalfOpenProbes,
		Interval:    cfg.Interval,
		Timeout:     cfg.OpenTimeout,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			if c.ConsecutiveFailures >= cfg.ConsecutiveFailures {
				return true
			}
			return c.Requests >= cfg.MinRequests &&
				float64(c.TotalFailures)/float64(c.Requests) >= cfg.FailureRatio
		},
		IsExcluded: isNotPlatformFailure,
		// Called with gobreaker's lock held: it must not call back into cb.
		OnStateChange: func(_ string, from, to gobreaker.State) {
			now := time.Now()
			t.mu.Lock()
			switch to {
			case gobreaker.StateOpen:
				t.openedAt = now
			case gobreaker.StateHalfOpen:
				t.halfOpenAt = now
			}
			t.mu.Unlock()
			gauge.Set(float64(to))
			transitions.WithLabelValues(to.String()).Inc()
			level := slog.LevelInfo
			if to == gobreaker.StateOpen {
				level = slog.LevelWarn
			}
			log.LogAttrs(context.Background(), level, "circuit breaker state changed",
				slog.String("from", from.String()), slog.String("to", to.String()))
		},
	})
	return t
}

func (t *breakerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.cb.Execute(func() (*http.Response, error) {
		resp, err := t.next.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode >= 500 {
			return resp, errServerStatus
		}
		return resp, nil
	})
	switch {
	case errors.Is(err, errServerStatus):
		return resp, nil
	case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		closeRequestBody(req)
		return nil, &BreakerOpenError{Destination: t.dest, RetryIn: t.retryIn(errors.Is(err, gobreaker.ErrOpenState))}
	}
	return resp, err
}

// retryIn is the time until the breaker lets a probe through: the rest of
// the open timeout, or, while half-open with its probes in flight, the rest
// of their per-try timeout.
func (t *breakerTransport) retryIn(open bool) time.Duration {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if open {
		return max(t.openedAt.Add(t.cfg.OpenTimeout).Sub(now), 0)
	}
	return max(t.halfOpenAt.Add(t.probeTimeout).Sub(now), 0)
}

// state is "closed", "half-open" or "open".
func (t *breakerTransport) state() string { return t.cb.State().String() }

// isNotPlatformFailure tells the errors that say nothing about the
// platform's health: the caller giving up, the rate limiter refusing to
// wait past the deadline, and the token endpoint refusing our credentials.
func isNotPlatformFailure(err error) bool {
	if err == nil {
		return false
	}
	if isCanceled(err) || errors.Is(err, errRateLimitWait) {
		return true
	}
	if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok && re.Response != nil {
		return re.Response.StatusCode < 500
	}
	return false
}
