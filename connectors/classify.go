package connectors

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/oauth2"
)

// Classify turns a response that is not a success into a classified *Error.
// It reads at most MaxErrorBody bytes of the body and keeps them with the
// Content-Type, and parses Retry-After (either form) relative to now. The
// caller still closes the body.
func Classify(resp *http.Response, op string, now time.Time) *Error {
	e := &Error{
		Class:       ClassifyStatus(resp.StatusCode),
		Op:          op,
		Status:      resp.StatusCode,
		ContentType: resp.Header.Get("Content-Type"),
	}
	if d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
		e.RetryAfter = d
	}
	if resp.Body != nil {
		body, err := io.ReadAll(io.LimitReader(resp.Body, MaxErrorBody))
		e.Body = body
		if err != nil {
			e.Err = err
		}
	}
	return e
}

// ClassifyTransportError classifies an error that came back without a
// response. A *BreakerOpenError or an *Error passes through unchanged; a
// token endpoint's refusal is classified by its status; anything else
// (network error, timeout, cancellation, rate limit wait that would outlast
// the deadline) is Retryable. The URL in a *url.Error loses its query
// string, which may carry identifiers. It returns nil for a nil error.
func ClassifyTransportError(op string, err error) error {
	if err == nil {
		return nil
	}
	// Redact first: the URL of an error the breaker or a lower layer
	// returned may carry personal data in its query string.
	err = redactURLError(err)
	if _, ok := errors.AsType[*BreakerOpenError](err); ok {
		return err
	}
	if _, ok := errors.AsType[*Error](err); ok {
		return err
	}
	if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok && re.Response != nil {
		body := re.Body
		if len(body) > MaxErrorBody {
			body = body[:MaxErrorBody]
		}
		return &Error{
			Class:       ClassifyStatus(re.Response.StatusCode),
			Op:          op + ": fetching access token",
			Status:      re.Response.StatusCode,
			ContentType: re.Response.Header.Get("Content-Type"),
			Body:        body,
			Err:         err,
		}
	}
	return &Error{Class: Retryable, Op: op, Err: err}
}

// redactURLError strips the query string from the URL of a *url.Error at the
// top of err, as the http.Client returns it.
func redactURLError(err error) error {
	ue, ok := err.(*url.Error) //nolint:errorlint // only the outermost error, as http.Client returns it
	if !ok {
		return err
	}
	return &url.Error{Op: ue.Op, URL: redactURL(ue.URL), Err: ue.Err}
}

// redactURL drops the query string, fragment and user info of a URL.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.RawQuery, u.Fragment, u.RawFragment, u.User = "", "", "", nil
	return u.String()
}

// isCanceled reports whether err comes from the caller giving up, which says
// nothing about the platform's health.
func isCanceled(err error) bool { return errors.Is(err, context.Canceled) }
