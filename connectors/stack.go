package connectors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// StackConfig configures the transport stack of one destination.
type StackConfig struct {
	// Timeout bounds one try, from sending the request to reading the end
	// of the response body, and each token request. Default: 30s.
	Timeout time.Duration `yaml:"timeout"`
	// MaxIdleConnsPerHost is the size of the idle connection pool kept
	// towards the platform. Default: 64.
	MaxIdleConnsPerHost int `yaml:"max_idle_conns_per_host"`
	// Auth says how to authenticate. Default: no credentials.
	Auth AuthConfig `yaml:"auth"`
	// RateLimit is the token bucket every try waits on.
	RateLimit RateLimitConfig `yaml:"rate_limit"`
	// Breaker is the circuit breaker.
	Breaker BreakerConfig `yaml:"breaker"`
	// Retry configures in-call retries of idempotent requests.
	Retry RetryConfig `yaml:"retry"`
}

// WithDefaults returns c with its zero fields set to their defaults.
func (c StackConfig) WithDefaults() StackConfig {
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	if c.MaxIdleConnsPerHost == 0 {
		c.MaxIdleConnsPerHost = 64
	}
	c.Auth = c.Auth.WithDefaults()
	c.RateLimit = c.RateLimit.WithDefaults()
	c.Breaker = c.Breaker.WithDefaults()
	c.Retry = c.Retry.WithDefaults()
	return c
}

// Validate reports the first faulty field.
func (c StackConfig) Validate() error {
	if c.Timeout <= 0 {
		return configErrorf("timeout", "must be positive")
	}
	if c.MaxIdleConnsPerHost < 0 {
		return configErrorf("max_idle_conns_per_host", "must not be negative")
	}
	parts := []struct {
		prefix   string
		validate func() error
	}{
		{"auth", c.Auth.Validate},
		{"rate_limit", c.RateLimit.Validate},
		{"breaker", c.Breaker.Validate},
		{"retry", c.Retry.Validate},
	}
	for _, p := range parts {
		if err := p.validate(); err != nil {
			return PrefixConfigError(p.prefix, err)
		}
	}
	return nil
}

// Stack is the HTTP client of one destination with the state its Status
// reports.
type Stack struct {
	name    string
	client  *http.Client
	base    *http.Transport
	breaker *breakerTransport
	limiter *rateLimitTransport
	// reauth is set when credentials are refreshable: a 401 is then worth
	// one more try with a fresh token.
	reauth bool
}

// NewStack builds the transport stack of destination name. From the caller
// inwards, a call goes through:
//
//	redacting logger → in-call retry (idempotent methods) → circuit breaker
//	→ rate limiter → auth → metrics → per-try timeout → pooled transport
//
// Token requests take a side road: metrics → pooled transport, with the
// per-try timeout, never through the breaker.
func NewStack(name string, cfg StackConfig, deps Deps) (*Stack, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("configuring stack of %s: %w", name, err)
	}
	deps = deps.WithDefaults()
	m, log := deps.Metrics, deps.Logger.With("destination", name)

	base := newBaseTransport(cfg.MaxIdleConnsPerHost)
	network := newMetricsTransport(base, name, m, deps.Now)
	tokenClient := &http.Client{Transport: network, Timeout: cfg.Timeout, CheckRedirect: refuseRedirect}

	var rt http.RoundTripper = &timeoutTransport{next: base, timeout: cfg.Timeout}
	rt = newMetricsTransport(rt, name, m, deps.Now)
	rt, reauth := newAuthTransport(rt, cfg.Auth, tokenClient, name, m, log)
	limiter := newRateLimitTransport(rt, cfg.RateLimit, name, cfg.Auth, deps)
	breaker := newBreakerTransport(limiter, cfg.Breaker, cfg.Timeout, name, m, log)
	rt = newRetryTransport(breaker, cfg.Retry, name, m, deps.Now)
	rt = &loggingTransport{next: rt, log: log, now: deps.Now}

	return &Stack{
		name:    name,
		client:  &http.Client{Transport: rt, CheckRedirect: refuseRedirect},
		base:    base,
		breaker: breaker,
		limiter: limiter,
		reauth:  reauth,
	}, nil
}

// newBaseTransport is the pooled transport at the bottom of every stack.
func newBaseTransport(idlePerHost int) *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          4 * idlePerHost,
		MaxIdleConnsPerHost:   idlePerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
	}
}

// Name is the destination's name.
func (s *Stack) Name() string { return s.name }

// Client is the stack's HTTP client. It never follows redirects.
func (s *Stack) Client() *http.Client { return s.client }

// Status reports the destination's breaker and rate limiter; the connector
// adds its last success and failure.
func (s *Stack) Status() Status {
	return Status{Name: s.name, Breaker: s.breaker.state(), RateLimit: s.limiter.status()}
}

// CloseIdleConnections closes the idle connections of the stack's pool.
func (s *Stack) CloseIdleConnections() { s.base.CloseIdleConnections() }

// RequestBuilder builds one request of a call. Stack.Do may call it twice,
// so it must build a fresh request, body included, on every call.
type RequestBuilder func(ctx context.Context) (*http.Request, error)

// Do sends the request built by build and returns the response, whatever
// its status; the caller closes its body. When the platform rejects a
// refreshable access token with 401 (the auth layer has then dropped it),
// Do builds and sends the request once more: nothing was processed, so this
// is safe for any method. Errors come back classified with op as their Op:
// transport errors as ClassifyTransportError says, and a failure of build
// (say, the document store) as Retryable unless build classified it.
func (s *Stack) Do(ctx context.Context, op string, build RequestBuilder) (*http.Response, error) {
	for try := 1; ; try++ {
		req, err := build(ctx)
		if err != nil {
			if _, ok := errors.AsType[*Error](err); ok {
				return nil, err
			}
			return nil, &Error{Class: Retryable, Op: op + ": building request", Err: err}
		}
		resp, err := s.client.Do(req)
		if err != nil {
			return nil, ClassifyTransportError(op, err)
		}
		if resp.StatusCode != http.StatusUnauthorized || !s.reauth || try > 1 {
			return resp, nil
		}
		drainAndClose(resp.Body)
	}
}

// drainAndClose reads a little of a body so the connection can be reused,
// then closes it.
func drainAndClose(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	_ = body.Close()
}

// timeoutTransport bounds one try. The deadline covers the response body
// too: it is released when the body is closed.
type timeoutTransport struct {
	next    http.RoundTripper
	timeout time.Duration
}

func (t *timeoutTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), t.timeout)
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelOnClose releases a try's context when its response body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
