package connectors

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Class is how a failed call is handled.
type Class int

// Failure classes.
const (
	// Retryable failures (network error, timeout, 408, 429, 5xx) are tried
	// again later.
	Retryable Class = iota + 1
	// Permanent failures (other 4xx, contract or business errors) are kept
	// with the platform's error body and never retried.
	Permanent
	// NotFound means the platform does not know the thing asked for.
	NotFound
)

func (c Class) String() string {
	switch c {
	case Retryable:
		return "retryable"
	case Permanent:
		return "permanent"
	case NotFound:
		return "not_found"
	default:
		return "unknown"
	}
}

// MaxErrorBody bounds how much of a platform's error body is kept.
const MaxErrorBody = 16 << 10

// Error is a classified failure of a platform call.
type Error struct {
	Class Class
	// Op says what was being done, e.g. "uploading document".
	Op string
	// Status is the HTTP status, 0 when no response came back.
	Status int
	// RetryAfter is the platform's Retry-After, uncapped; zero when absent.
	RetryAfter time.Duration
	// ContentType and Body are the platform's own error response, bounded
	// by MaxErrorBody.
	ContentType string
	Body        []byte
	// Code is the platform's own error code when it gives one (API
	// Particulier "37003", France Travail "S002"), for operators and for
	// mapping to an Outcome.
	Code string
	// Outcome is the canonical outcome the connector read from the
	// platform's error code; empty lets OutcomeOf decide from the status.
	Outcome Outcome
	// Err is the underlying transport error, if any.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	b.WriteString(": ")
	b.WriteString(e.Class.String())
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// ClassOf returns the class of err: the class of a wrapped *Error, Retryable
// for an open breaker or any other error (network, timeout).
func ClassOf(err error) Class {
	var ce *Error
	if errors.As(err, &ce) {
		return ce.Class
	}
	return Retryable
}

// ClassifyStatus returns the class of an HTTP status that is not a success.
func ClassifyStatus(status int) Class {
	switch {
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests, status >= 500:
		return Retryable
	case status == http.StatusNotFound:
		return NotFound
	default:
		return Permanent
	}
}

// ParseRetryAfter reads a Retry-After header in either form, delay-seconds or
// HTTP-date, relative to now. It reports false when the header is absent or
// malformed. A date in the past gives zero.
func ParseRetryAfter(value string, now time.Time) (time.Duration, bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(value, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		// A delay past what a Duration holds (292 years) is as good as
		// forever; multiplying it would wrap, possibly below zero.
		return time.Duration(min(secs, math.MaxInt64/int64(time.Second))) * time.Second, true
	}
	at, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	return max(at.Sub(now), 0), true
}

// BreakerOpenError is returned without calling the platform while a
// destination's circuit breaker is open. It does not use up an attempt.
type BreakerOpenError struct {
	Destination string
	// RetryIn is a hint for when the breaker lets a probe through.
	RetryIn time.Duration
}

func (e *BreakerOpenError) Error() string {
	return fmt.Sprintf("circuit breaker of %s is open", e.Destination)
}
