package connectors

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// LastOutcomes keeps, for Status, when a connector last succeeded and last
// failed and how it last failed (a description, never a body). A connector
// records each delivery's or pull's outcome in it and fills its Status from
// it. The zero value is ready to use; it is safe for concurrent use.
type LastOutcomes struct {
	mu                       sync.Mutex
	lastSuccess, lastFailure time.Time
	lastError                string
}

// Record records the outcome of err at: a success when err is nil, else a
// failure described by DescribeFailure.
func (o *LastOutcomes) Record(at time.Time, err error) {
	if err == nil {
		o.Succeeded(at)
		return
	}
	o.Failed(at, DescribeFailure(err))
}

// Succeeded records a success at at.
func (o *LastOutcomes) Succeeded(at time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lastSuccess = at
}

// Failed records a failure at at, described by description (which must
// hold no body and no personal data).
func (o *LastOutcomes) Failed(at time.Time, description string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lastFailure, o.lastError = at, description
}

// Fill returns s, typically a Stack's Status, with the last success, the
// last failure and its description set from what was recorded.
func (o *LastOutcomes) Fill(s Status) Status {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.lastSuccess.IsZero() {
		t := o.lastSuccess
		s.LastSuccess = &t
	}
	if !o.lastFailure.IsZero() {
		t := o.lastFailure
		s.LastFailure = &t
		s.LastError = o.lastError
	}
	return s
}

// DescribeFailure names a failure for Status.LastError: "retryable: breaker
// open" for an open breaker, the class and HTTP status of an *Error that
// has one, with the platform's code when it gave one ("permanent (HTTP
// 422)", "permanent (HTTP 403, code 00100)"), the class otherwise. It never
// includes a body.
func DescribeFailure(err error) string {
	if _, ok := errors.AsType[*BreakerOpenError](err); ok {
		return Retryable.String() + ": breaker open"
	}
	if ce, ok := errors.AsType[*Error](err); ok && ce.Status != 0 {
		// A code is read from the platform's body: kept only when short,
		// as a code is.
		if ce.Code != "" && len(ce.Code) <= 64 {
			return fmt.Sprintf("%s (HTTP %d, code %s)", ce.Class, ce.Status, ce.Code)
		}
		return fmt.Sprintf("%s (HTTP %d)", ce.Class, ce.Status)
	}
	return ClassOf(err).String()
}
