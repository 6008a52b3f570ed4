package connectors

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
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
	// MaxPause caps how long the platform's own word holds every later
	// try: a 429's Retry-After, or RateLimit-Remaining: 0 until
	// RateLimit-Reset. Default: 1m.
	MaxPause time.Duration `yaml:"max_pause"`
}

// WithDefaults returns c with its zero fields set to their defaults.
func (c RateLimitConfig) WithDefaults() RateLimitConfig {
	if c.RequestsPerSecond == 0 {
		c.RequestsPerSecond = 50
	}
	if c.Burst == 0 {
		c.Burst = 10
	}
	if c.MaxPause == 0 {
		c.MaxPause = time.Minute
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
	if c.MaxPause < 0 {
		return configErrorf("max_pause", "must not be negative")
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

// RateLimitKey is the key under which a stack with credentials auth books
// its slots from a Reserver: "ratelimit:" and 32 hex digits of a SHA-256 of
// the credential (the static token, or the OAuth2 token endpoint and client
// id), never the credential itself, so that every process and every
// destination using the same credential shares one limit, as the platform
// counts. A stack without credentials keys on its destination name dest.
func RateLimitKey(dest string, auth AuthConfig) string {
	h := sha256.New()
	write := func(parts ...string) {
		for _, p := range parts {
			h.Write([]byte(p))
			h.Write([]byte{0})
		}
	}
	switch auth.Kind {
	case AuthBearer, AuthAPIKey:
		write(string(auth.Kind), auth.Token.Reveal())
	case AuthOAuth2ClientCredentials, AuthOAuth2ClientCredentialsJSON:
		write("oauth2", auth.TokenURL, auth.ClientID)
	default:
		write("destination", dest)
	}
	return "ratelimit:" + hex.EncodeToString(h.Sum(nil)[:16])
}

// errRateLimitWait is returned when the wait for a token would outlast the
// request's deadline, or was cut short by the request's context.
var errRateLimitWait = errors.New("rate limit wait abandoned")

// IsRateLimitWait reports whether err comes from a try that was never sent
// because the wait for the rate limit (a slot, or the pause the platform
// asked for) would outlast the request's deadline or was cut short.
func IsRateLimitWait(err error) bool { return errors.Is(err, errRateLimitWait) }

// defaultPause is how long a 429 that says nothing of when to come back
// holds later tries: one window of API Particulier's per-token limit.
const defaultPause = time.Second

// unixResetThreshold tells the two forms of RateLimit-Reset apart: the IETF
// draft's delta-seconds, and the Unix time some platforms (API Particulier)
// send. No window lasts 31 years.
const unixResetThreshold = 1_000_000_000

// rateLimitTransport makes every try wait for its slot, then sends it.
//
// The slot comes from the Reserver, when the stack has one, under a key
// derived from the credential (RateLimitKey), so the limit holds across
// processes; otherwise, or while the Reserver fails, from the destination's
// in-process token bucket. Before booking, a try waits out any pause the
// platform asked for: after a 429 (its Retry-After), or after an answer
// saying the window is spent (RateLimit-Remaining: 0, until
// RateLimit-Reset), later tries wait for the reset instead of being sent
// into certain 429s. A pause is capped at MaxPause.
//
// The waits honour the request's context: a wait that would outlast its
// deadline fails at once, without sending, with errRateLimitWait. The
// bucket, the pauses and the timers keep wall-clock time, as
// golang.org/x/time/rate does; the platform's absolute times (an HTTP-date
// Retry-After, a Unix RateLimit-Reset) are read against the stack's clock.
type rateLimitTransport struct {
	next     http.RoundTripper
	lim      *rate.Limiter
	reserver Reserver
	key      string
	cfg      RateLimitConfig
	now      func() time.Time
	log      *slog.Logger

	// pausedUntil is the wall-clock instant, in Unix nanoseconds, before
	// which no try is sent; 0 when the platform asked for no pause.
	pausedUntil atomic.Int64
	// degraded is set while the Reserver fails and the in-process bucket
	// stands in for it.
	degraded atomic.Bool

	waits       atomic.Uint64
	waitsTotal  prometheus.Counter
	waitSeconds prometheus.Counter
}

func newRateLimitTransport(next http.RoundTripper, cfg RateLimitConfig, dest string, auth AuthConfig, deps Deps) *rateLimitTransport {
	return &rateLimitTransport{
		next:        next,
		lim:         rate.NewLimiter(rate.Limit(cfg.RequestsPerSecond), cfg.Burst),
		reserver:    deps.Reserver,
		key:         RateLimitKey(dest, auth),
		cfg:         cfg,
		now:         deps.Now,
		log:         deps.Logger.With("destination", dest),
		waitsTotal:  deps.Metrics.rateLimitWaits.WithLabelValues(dest),
		waitSeconds: deps.Metrics.rateLimitWaitSecs.WithLabelValues(dest),
	}
}

func (t *rateLimitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.wait(req.Context()); err != nil {
		closeRequestBody(req)
		return nil, err
	}
	resp, err := t.next.RoundTrip(req)
	if err == nil {
		t.observe(resp)
	}
	return resp, err
}

// wait returns once the try may be sent: no pause in force, and a slot
// booked and reached. A pause the platform asks for while the try waits for
// its slot wins: the slot is given up and a new one booked after the pause.
func (t *rateLimitTransport) wait(ctx context.Context) error {
	for {
		if err := t.sleep(ctx, t.pauseLeft(time.Now()), "the platform's rate limit window", nil); err != nil {
			return err
		}
		delay, cancel, err := t.book(ctx)
		if err != nil {
			return err
		}
		if err := t.sleep(ctx, delay, "a rate limit slot", cancel); err != nil {
			return err
		}
		if t.pauseLeft(time.Now()) <= 0 {
			return nil
		}
	}
}

// book reserves the try's slot and returns how long to wait for it, and
// how to give it back if the try is abandoned (nil when it cannot be).
func (t *rateLimitTransport) book(ctx context.Context) (time.Duration, func(), error) {
	if t.reserver != nil {
		delay, err := t.reserver.Reserve(ctx, t.key, t.cfg)
		if err == nil {
			if t.degraded.CompareAndSwap(true, false) {
				t.log.LogAttrs(ctx, slog.LevelInfo, "shared rate limit back in use")
			}
			return max(delay, 0), nil, nil
		}
		if ctx.Err() != nil {
			return 0, nil, fmt.Errorf("booking a rate limit slot: %w: %w", errRateLimitWait, ctx.Err())
		}
		// The shared limit is out of reach (its database is): this
		// process keeps to its own bucket, and the platform's 429s and
		// RateLimit headers, honoured below, catch what the other
		// processes add.
		if t.degraded.CompareAndSwap(false, true) {
			t.log.LogAttrs(ctx, slog.LevelWarn, "shared rate limit unavailable, using the in-process bucket", slog.String("error", err.Error()))
		}
	}
	now := time.Now()
	r := t.lim.ReserveN(now, 1)
	if !r.OK() {
		return 0, nil, fmt.Errorf("waiting for a rate limit token: %w", errRateLimitWait)
	}
	return r.DelayFrom(now), r.Cancel, nil
}

// sleep waits d, unless the request's deadline comes first (then it fails
// at once) or its context ends (then cancel, if any, gives the slot back).
func (t *rateLimitTransport) sleep(ctx context.Context, d time.Duration, what string, cancel func()) error {
	if d <= 0 {
		return nil
	}
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
		if cancel != nil {
			cancel()
		}
		return fmt.Errorf("waiting %s for %s: %w: %w", d.Round(time.Millisecond), what, errRateLimitWait, context.DeadlineExceeded)
	}
	t.waits.Add(1)
	t.waitsTotal.Inc()
	t.waitSeconds.Add(d.Seconds())
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		if cancel != nil {
			cancel()
		}
		return fmt.Errorf("waiting for %s: %w: %w", what, errRateLimitWait, ctx.Err())
	}
}

// pauseLeft is how long the pause the platform asked for still holds.
func (t *rateLimitTransport) pauseLeft(now time.Time) time.Duration {
	until := t.pausedUntil.Load()
	if until == 0 {
		return 0
	}
	return time.Unix(0, until).Sub(now)
}

// observe reads what the platform says of its limit: a 429 pauses later
// tries for its Retry-After (or, failing that, until RateLimit-Reset, or
// defaultPause); RateLimit-Remaining: 0 pauses them until RateLimit-Reset.
func (t *rateLimitTransport) observe(resp *http.Response) {
	h := resp.Header
	remaining, hasRemaining := parseCount(h.Get("RateLimit-Remaining"))
	if resp.StatusCode != http.StatusTooManyRequests && (!hasRemaining || remaining > 0) {
		return
	}
	now := t.now()
	var d time.Duration
	var ok bool
	if resp.StatusCode == http.StatusTooManyRequests {
		d, ok = ParseRetryAfter(h.Get("Retry-After"), now)
	}
	if !ok {
		d, ok = parseRateLimitReset(h.Get("RateLimit-Reset"), now)
	}
	if !ok {
		if resp.StatusCode != http.StatusTooManyRequests {
			return
		}
		d = defaultPause
	}
	t.pause(min(d, t.cfg.MaxPause))
}

// pause holds every try until d from now, unless a longer pause holds.
func (t *rateLimitTransport) pause(d time.Duration) {
	if d <= 0 {
		return
	}
	until := time.Now().Add(d).UnixNano()
	for {
		cur := t.pausedUntil.Load()
		if cur >= until || t.pausedUntil.CompareAndSwap(cur, until) {
			return
		}
	}
}

// parseRateLimitReset reads RateLimit-Reset as delta-seconds (the IETF
// draft) or, past unixResetThreshold, as a Unix time (API Particulier).
func parseRateLimitReset(v string, now time.Time) (time.Duration, bool) {
	n, ok := parseCount(v)
	if !ok {
		return 0, false
	}
	if n >= unixResetThreshold {
		return max(time.Unix(n, 0).Sub(now), 0), true
	}
	return time.Duration(n) * time.Second, true
}

// parseCount reads a header holding a non-negative integer.
func parseCount(v string) (int64, bool) {
	v = strings.TrimSpace(v)
	if v == "" || v[0] < '0' || v[0] > '9' {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

// status reports the bucket's settings and use. With a Reserver the shared
// bucket's tokens are not known here, and Available is 0, as it is during a
// pause the platform asked for.
func (t *rateLimitTransport) status() RateLimitStatus {
	st := RateLimitStatus{
		RequestsPerSecond: t.cfg.RequestsPerSecond,
		Burst:             t.cfg.Burst,
		Waits:             t.waits.Load(),
	}
	if (t.reserver == nil || t.degraded.Load()) && t.pauseLeft(time.Now()) <= 0 {
		st.Available = t.lim.Tokens()
	}
	return st
}
