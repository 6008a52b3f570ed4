package connectors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"golang.org/x/oauth2"
)

// RetryConfig configures in-call retries of idempotent requests (GET, HEAD,
// OPTIONS, PUT, DELETE). Other requests are never retried in-call: the
// delivery worker retries them later with their idempotency key.
type RetryConfig struct {
	// Max is the number of retries after the first try; -1 disables them.
	// Default: 2.
	Max int `yaml:"max"`
	// WaitMin is the first backoff; it doubles on every retry. Default:
	// 100ms.
	WaitMin time.Duration `yaml:"wait_min"`
	// WaitMax caps the backoff. Default: 2s.
	WaitMax time.Duration `yaml:"wait_max"`
	// MaxRetryAfter caps how long a platform's Retry-After may hold a call.
	// When the platform asks for longer, the call is not retried in-call and
	// the response goes back to the caller, whose classified error carries
	// the full Retry-After. Default: 30s.
	MaxRetryAfter time.Duration `yaml:"max_retry_after"`
}

// WithDefaults returns c with its zero fields set to their defaults.
func (c RetryConfig) WithDefaults() RetryConfig {
	if c.Max == 0 {
		c.Max = 2
	}
	if c.WaitMin == 0 {
		c.WaitMin = 100 * time.Millisecond
	}
	if c.WaitMax == 0 {
		c.WaitMax = 2 * time.Second
	}
	if c.MaxRetryAfter == 0 {
		c.MaxRetryAfter = 30 * time.Second
	}
	return c
}

// Validate reports the first faulty field.
func (c RetryConfig) Validate() error {
	switch {
	case c.Max < -1:
		return configErrorf("max", "must be -1 (no retries) or more")
	case c.WaitMin < 0:
		return configErrorf("wait_min", "must not be negative")
	case c.WaitMax < c.WaitMin:
		return configErrorf("wait_max", "must be at least wait_min")
	case c.MaxRetryAfter < 0:
		return configErrorf("max_retry_after", "must not be negative")
	}
	return nil
}

// isIdempotent reports whether a method may be sent twice (RFC 9110 §9.2.2,
// less TRACE).
func isIdempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// retryTransport retries idempotent requests with go-retryablehttp; other
// requests pass straight through.
type retryTransport struct {
	next   http.RoundTripper
	client *retryablehttp.Client
	cfg    RetryConfig
	now    func() time.Time
}

func newRetryTransport(next http.RoundTripper, cfg RetryConfig, dest string, m *Metrics, now func() time.Time) *retryTransport {
	t := &retryTransport{next: next, cfg: cfg, now: now}
	retries := m.retries.WithLabelValues(dest)
	t.client = &retryablehttp.Client{
		HTTPClient:   &http.Client{Transport: next, CheckRedirect: refuseRedirect},
		Logger:       nil, // the redacting logger above logs calls
		RetryWaitMin: cfg.WaitMin,
		RetryWaitMax: cfg.WaitMax,
		RetryMax:     max(cfg.Max, 0),
		RequestLogHook: func(_ retryablehttp.Logger, r *http.Request, i int) {
			if i > 0 {
				retries.Inc()
			}
			recordAttempt(r.Context(), i+1)
		},
		CheckRetry:   t.checkRetry,
		Backoff:      t.backoff,
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	return t
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !isIdempotent(req.Method) || t.cfg.Max <= 0 {
		recordAttempt(req.Context(), 1)
		return t.next.RoundTrip(req)
	}
	bare := *req
	bare.Body = nil
	rreq, err := retryablehttp.FromRequest(&bare)
	if err != nil {
		closeRequestBody(req)
		return nil, fmt.Errorf("preparing %s for retries: %w", req.Method, err)
	}
	if req.Body != nil && req.Body != http.NoBody {
		// Every try gets a fresh body from GetBody; the one given is
		// closed as a RoundTripper must.
		closeRequestBody(req)
		if req.GetBody == nil {
			return nil, fmt.Errorf("preparing %s for retries: request body is not rewindable (Request.GetBody is nil)", req.Method)
		}
		getBody := req.GetBody
		if err := rreq.SetBody(retryablehttp.ReaderFunc(func() (io.Reader, error) { return getBody() })); err != nil {
			return nil, fmt.Errorf("preparing %s for retries: %w", req.Method, err)
		}
		rreq.ContentLength = req.ContentLength
	}
	resp, err := t.client.Do(rreq)
	if ue, ok := err.(*url.Error); ok { //nolint:errorlint // undo the inner http.Client's wrapping only
		err = ue.Err
	}
	if err != nil {
		if resp != nil {
			_ = resp.Body.Close()
		}
		return nil, err
	}
	return resp, nil
}

// checkRetry retries transport errors, timeouts of one try, 408, 429 and
// 5xx but 501; never a refusal of the breaker, of the rate limiter or of the
// token endpoint, nor once the caller gave up.
func (t *retryTransport) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		if _, ok := errors.AsType[*BreakerOpenError](err); ok {
			return false, nil
		}
		if errors.Is(err, errRateLimitWait) || isCanceled(err) {
			return false, nil
		}
		if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok && re.Response != nil && re.Response.StatusCode < 500 {
			return false, nil
		}
		return retryablehttp.DefaultRetryPolicy(ctx, nil, err)
	}
	switch s := resp.StatusCode; {
	case s == http.StatusRequestTimeout, s == http.StatusTooManyRequests, s >= 500 && s != http.StatusNotImplemented:
		if d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), t.now()); ok && d > t.cfg.MaxRetryAfter {
			return false, nil
		}
		return true, nil
	}
	return false, nil
}

// backoff honours Retry-After in both forms, capped at MaxRetryAfter, and
// otherwise doubles WaitMin per retry up to WaitMax, with jitter.
func (t *retryTransport) backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), t.now()); ok {
			return min(d, t.cfg.MaxRetryAfter)
		}
	}
	d := maxWait
	if attempt < 30 {
		d = min(minWait<<attempt, maxWait)
	}
	if d <= 0 {
		return 0
	}
	// Equal jitter: half fixed, half random, so that callers that failed
	// together do not retry together.
	return d/2 + rand.N(d/2+1) //nolint:gosec // jitter, not a secret
}

// refuseRedirect makes a client hand 3xx responses back instead of
// following them: a platform that redirects has changed its contract, and
// following it could send our credentials to another host.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
