package coffrefort

import (
	"bytes"
	"net/http"
	"time"

	"github.com/relais-dev/relais/mocks/platform"
)

// routeUnknown is the Route of a request no operation has.
const routeUnknown = "unknown"

// statusClientClosed is logged for a request that got no answer (nginx's
// convention): the client gave up during a latency or hang fault, or while
// another request with its Idempotency-Key was processed.
const statusClientClosed = 499

// The faults a LogEntry names.
const (
	FaultError    = "error"    // an injected error status answered instead of the safe
	FaultOutage   = "outage"   // an outage window answered 503 instead of the safe
	FaultHang     = "hang"     // no answer until the runtime's MaxHang closed the connection
	FaultTruncate = "truncate" // the answer was cut and the connection closed
	FaultAltered  = "altered"  // drift or malformed JSON changed the safe's answer
)

// LogEntry is one API request as the mock answered it.
type LogEntry struct {
	// At is the arrival time, by Options.Now.
	At time.Time
	// Method is the HTTP method.
	Method string
	// Route is the operationId of the contract ("token",
	// "beneficiaries.search", "documents.create", ...), or "unknown" for a
	// path or method the API does not have.
	Route string
	// IdempotencyKey is the request's Idempotency-Key header, if any.
	IdempotencyKey string
	// Status is the status sent; 499 when nothing was sent (see
	// statusClientClosed).
	Status int
	// RetryAfter is the Retry-After header sent, if any.
	RetryAfter string
	// Fault names the fault that decided or changed the answer: FaultError,
	// FaultOutage, FaultHang, FaultTruncate or FaultAltered; "" for none.
	// Latency is not logged (Stats.Injected counts it), nor a hang the
	// client gave up on (Status 499).
	Fault string
}

// Injected reports whether the answer came from a fault rather than from
// the safe (an injected error, an outage, or a hang).
func (e LogEntry) Injected() bool {
	return e.Fault == FaultError || e.Fault == FaultOutage || e.Fault == FaultHang
}

// traceKey keys a request's *trace in its context.
type traceKey struct{}

// trace is what the handler or the error writer tells the log about one
// request. Both run on the request's goroutine, before ServeHTTP returns.
type trace struct {
	kind      platform.ProblemKind // set when the runtime refused the request
	ran       bool                 // the operation's handler answered
	abandoned bool                 // the client left while the handler waited
	status    int                  // the handler's answer
	body      []byte
}

func traceOf(r *http.Request) *trace {
	tr, _ := r.Context().Value(traceKey{}).(*trace)
	return tr
}

func (t *trace) refused(p platform.Problem) { t.kind = p.Kind }

func (t *trace) handled(rp reply) {
	t.ran, t.status, t.body = true, rp.status, rp.body
	t.abandoned = rp.abandoned
}

// maxCompared bounds the answer kept to tell an altered answer; the safe's
// answers are far smaller.
const maxCompared = 1 << 20

// recorder sees the answer on its way out.
type recorder struct {
	http.ResponseWriter
	trace  *trace
	status int
	body   []byte
}

func (w *recorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.trace.ran && len(w.body)+len(b) <= maxCompared {
		w.body = append(w.body, b...)
	}
	return w.ResponseWriter.Write(b) //nolint:wrapcheck // a ResponseWriter's error, passed through
}

// Unwrap lets http.ResponseController reach the connection (the runtime
// flushes a truncated answer before closing it).
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// record completes e with the answer and appends it to the log. aborted
// reports that the runtime closed the connection (truncation, hang).
func (s *Server) record(e LogEntry, r *http.Request, tr *trace, rec *recorder, aborted bool) {
	e.Status = rec.status
	e.RetryAfter = rec.Header().Get("Retry-After")
	switch {
	case aborted && rec.status != 0:
		e.Fault = FaultTruncate
	case aborted:
		e.Status, e.Fault = statusClientClosed, FaultHang
	case rec.status == 0 || (tr.abandoned && r.Context().Err() != nil):
		e.Status, e.RetryAfter = statusClientClosed, ""
	case tr.kind == platform.KindInjected:
		e.Fault = FaultError
	case tr.kind == platform.KindOutage:
		e.Fault = FaultOutage
	case tr.ran && (rec.status != tr.status || !bytes.Equal(rec.body, tr.body)):
		e.Fault = FaultAltered
	}
	s.logMu.Lock()
	if len(s.log) < s.opts.LogLimit {
		s.log = append(s.log, e)
	} else if s.opts.LogLimit > 0 {
		s.log[s.logStart] = e
		s.logStart = (s.logStart + 1) % len(s.log)
	}
	s.logMu.Unlock()
}

// Log returns the last requests (at most Options.LogLimit), in arrival
// order. Control requests are not logged.
func (s *Server) Log() []LogEntry {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	out := make([]LogEntry, 0, len(s.log))
	out = append(out, s.log[s.logStart:]...)
	return append(out, s.log[:s.logStart]...)
}
