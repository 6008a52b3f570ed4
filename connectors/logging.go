package connectors

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// loggingTransport logs one Debug line per call (its logger carries the
// destination): method, host, path without its query string, status or
// error kind, duration and number of tries. It never logs headers, bodies,
// query strings or error texts (which quote URLs).
type loggingTransport struct {
	next http.RoundTripper
	log  *slog.Logger
	now  func() time.Time
}

// attemptsKey carries the *atomic.Int64 in which the retry layer records how
// many tries a call took.
type attemptsKey struct{}

func recordAttempt(ctx context.Context, n int) {
	if p, ok := ctx.Value(attemptsKey{}).(*atomic.Int64); ok {
		p.Store(int64(n))
	}
}

func (t *loggingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if !t.log.Enabled(ctx, slog.LevelDebug) {
		return t.next.RoundTrip(req)
	}
	attempts := new(atomic.Int64)
	start := t.now()
	resp, err := t.next.RoundTrip(req.WithContext(context.WithValue(ctx, attemptsKey{}, attempts)))
	attrs := []slog.Attr{
		slog.String("method", req.Method),
		slog.String("host", req.URL.Host),
		slog.String("path", req.URL.Path),
		slog.Duration("duration", t.now().Sub(start)),
		slog.Int64("attempts", attempts.Load()),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", errorKind(err)))
	} else {
		attrs = append(attrs, slog.Int("status", resp.StatusCode))
	}
	t.log.LogAttrs(ctx, slog.LevelDebug, "platform call", attrs...)
	return resp, err
}

// errorKind names an error without quoting it.
func errorKind(err error) string {
	if _, ok := errors.AsType[*BreakerOpenError](err); ok {
		return "breaker_open"
	}
	var ne net.Error
	switch {
	case errors.Is(err, errRateLimitWait):
		return "rate_limit_wait"
	case isCanceled(err):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, errTokenFetch):
		return "token"
	default:
		return "transport"
	}
}
