package connectors

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
)

// RateLimitConfig configures a destination's token bucket.
type RateLimitConfig struct {
	// RequestsPerSecond is the bucket's refill rate. Default: 50.
	RequestsPerSecond float64 `yaml:"requests_per_second"`
	// Burst is the bucket's size. Default: 10.
	Burst int `yaml:"burst"`
}

// WithDefaults returns c with its zero fields set to their defaults.
func (c RateLimitConfig) WithDefaults() RateLimitConfig {
	if c.RequestsPerSecond == 0 {
		c.RequestsPerSecond = 50
	}
	if c.Burst == 0 {
		c.Burst = 10
	}
	return c
}

// Validate reports the first faulty field.
func (c RateLimitConfig) Validate() error {
	if !(c.RequestsPerSecond > 0) {
		return configErrorf("requests_per_second", "must be positive")
	}
	if c.Burst < 1 {
		return configErrorf("burst", "must be at least 1")
	}
	return nil
}

// Reserver books send slots under a rate limit shared by every Relais
// process using the same credential (the PostgreSQL store implements it; with
// SQLite, one process, the in-process bucket is enough). Reserve books the
// next slot of key at cfg's rate and returns how long to wait before using
// it; a booked slot is never handed to anyone else, so callers must not send
// before the wait is over.
type Reserver interface {
	Reserve(ctx context.Context, key string, cfg RateLimitConfig) (time.Duration, error)
}

// errRateLimitWait is returned when the wait for a token would outlast the
// request's deadline, or was cut short by the request's context.
var errRateLimitWait = errors.New("rate limit wait abandoned")

// rateLimitTransport makes every try wait for a token of the destination's
// bucket. The wait honours the request's context. The bucket keeps
// wall-clock time, as golang.org/x/time/rate does.
type rateLimitTransport struct {
	next        http.RoundTripper
	lim         *rate.Limiter
	cfg         RateLimitConfig
	waits       atomic.Uint64
	waitsTotal  prometheus.Counter
	waitSeconds prometheus.Counter
}

func newRateLimitTransport(next http.RoundTripper, cfg RateLimitConfig, dest string, m *Metrics) *rateLimitTransport {
	return &rateLimitTransport{
		next:        next,
		lim:         rate.NewLimiter(rate.Limit(cfg.RequestsPerSecond), cfg.Burst),
		cfg:         cfg,
		waitsTotal:  m.rateLimitWaits.WithLabelValues(dest),
		waitSeconds: m.rateLimitWaitSecs.WithLabelValues(dest),
	}
}

func (t *rateLimitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.wait(req); err != nil {
		closeRequestBody(req)
		return nil, err
	}
	return t.next.RoundTrip(req)
}

func (t *rateLimitTransport) wait(req *http.Request) error {
	ctx := req.Context()
	now := time.Now()
	r := t.lim.ReserveN(now, 1)
	if !r.OK() {
		return fmt.Errorf("waiting for a rate limit token: %w", errRateLimitWait)
	}
	delay := r.DelayFrom(now)
	if delay == 0 {
		return nil
	}
	if deadline, ok := ctx.Deadline(); ok && deadline.Sub(now) < delay {
		r.CancelAt(now)
		return fmt.Errorf("waiting %s for a rate limit token: %w: %w", delay.Round(time.Millisecond), errRateLimitWait, context.DeadlineExceeded)
	}
	t.waits.Add(1)
	t.waitsTotal.Inc()
	t.waitSeconds.Add(delay.Seconds())
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		r.Cancel()
		return fmt.Errorf("waiting for a rate limit token: %w: %w", errRateLimitWait, ctx.Err())
	}
}

// status reports the bucket's settings and use.
func (t *rateLimitTransport) status() RateLimitStatus {
	return RateLimitStatus{
		RequestsPerSecond: t.cfg.RequestsPerSecond,
		Burst:             t.cfg.Burst,
		Available:         t.lim.Tokens(),
		Waits:             t.waits.Load(),
	}
}
