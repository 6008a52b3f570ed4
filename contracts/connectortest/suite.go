package connectortest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/clock"
	"github.com/relais-dev/relais/mocks/platform"
)

// Harness is what Run needs of one connector.
type Harness struct {
	// Operation is the operationId of the delivery operation in the mock's
	// contract (e.g. "documents.create"): the one whose documented errors
	// and faults the suite sets.
	Operation string
	// TokenOperation is the operationId of the token endpoint when the
	// connector gets refreshable access tokens from it; "" when its
	// credentials are static.
	TokenOperation string
	// TokenTTL is the lifetime of the mock's access tokens by the suite's
	// clock; 0 when they do not expire (documented_error/401/token_refreshed
	// is then skipped).
	TokenTTL time.Duration
	// RemoteID is the JSON pointer of the field of the delivery
	// operation's success answer the connector reads the receipt's remote
	// id from (e.g. "/id"); the drift subtests change it.
	RemoteID string
	// NotFound is the class the connector documents for a 404 of the
	// delivery operation. Default connectors.NotFound.
	NotFound connectors.Class
	// Drift is the class the connector documents for a success answer that
	// breaks the contract. Default connectors.Permanent (see above).
	Drift connectors.Class
	// Delivery returns a sample delivery with idempotency key key, Attempt
	// 1. Deliveries with different keys may share a beneficiary.
	Delivery func(key string) *connectors.Delivery
	// Setup starts a fresh mock (an httptest server, closed by t.Cleanup)
	// on env.Now and a connector to it with env.Stack.
	Setup func(t *testing.T, env Env) Pair
}

// Env is what the suite gives Harness.Setup.
type Env struct {
	// Now is the suite's fake clock, for the mock (token expiry, outage
	// windows, timestamps) and the connector (Retry-After dates, receipts).
	Now func() time.Time
	// Stack is the transport stack the connector must use: short per-try
	// timeout, fast in-call retries, a breaker that opens after three
	// failures and probes after a short OpenTimeout (wall clock, as
	// gobreaker keeps it). Its Auth is left to the connector.
	Stack connectors.StackConfig
}

// Deps returns the dependencies to build the connector with: metrics on a
// registry of its own, a logger that discards everything, and Now.
func (e Env) Deps() connectors.Deps {
	return connectors.Deps{Metrics: connectors.NewMetrics(prometheus.NewRegistry()), Logger: slog.New(slog.DiscardHandler), Now: e.Now}
}

// Pair is a fresh mock and a connector to it.
type Pair struct {
	Connector connectors.Connector
	// Mock is the mock's runtime: faults and stats.
	Mock *platform.Server
	// Stored counts what the platform really stored under an idempotency
	// key (e.g. documents created).
	Stored func(key string) int
	// StoredTotal counts everything the platform stored, whatever the key:
	// a duplicate sent under another key shows there.
	StoredTotal func() int
}

// The suite's settings: fast, but with room for the race detector.
const (
	suiteTimeout      = 500 * time.Millisecond // per try
	suiteOpenTimeout  = 200 * time.Millisecond // breaker, wall clock
	suiteBreakerTrips = 3                      // consecutive failures
	suiteRetryAfter   = 2 * time.Second        // asked by injected errors
	suiteMaxWait      = 10 * time.Second       // bound of every poll
)

// suiteStack is the stack every connector runs the suite with.
func suiteStack() connectors.StackConfig {
	return connectors.StackConfig{
		Timeout:   suiteTimeout,
		RateLimit: connectors.RateLimitConfig{RequestsPerSecond: 1e6, Burst: 1000},
		Breaker: connectors.BreakerConfig{
			ConsecutiveFailures: suiteBreakerTrips, FailureRatio: 1, MinRequests: 1000,
			Interval: time.Hour, OpenTimeout: suiteOpenTimeout, HalfOpenProbes: 1,
		},
		// Retry-After longer than MaxRetryAfter goes back to the caller:
		// the injected "2" does, so no subtest waits for it in-call.
		Retry: connectors.RetryConfig{Max: 1, WaitMin: time.Millisecond, WaitMax: 5 * time.Millisecond, MaxRetryAfter: 500 * time.Millisecond},
	}
}

// Run runs the connector conformance suite, the one every
// connector must pass against its mock (River's riverdrivertest.Exercise
// pattern): a connector's package calls it from a test with a
// Harness, and the suite runs its subtests in parallel, each on a
// fresh mock and connector.
//
// Each subtest sets one situation through the mock's runtime (the
// documented errors of the delivery operation as fixed statuses, and every
// fault kind of mocks/platform) and asserts the reaction of the connector
// runtime precisely: the class of the error (connectors.ClassOf), its
// status and Retry-After, the calls that reached the platform, the state
// of the circuit breaker, and what the platform stored under the
// delivery's idempotency key, before and after the next attempt. The
// subtests are named after the situations:
//
//	happy_path                          delivered, receipt, stored once
//	replay/sequential, replay/concurrent  the same delivery twice: stored once
//	documented_error/<status>           each non-2xx status the contract documents
//	documented_error/401/token_refreshed  an expired token is refreshed once
//	fault/latency/under_timeout         delivered
//	fault/latency/over_timeout          Retryable timeout; the retry stores once
//	fault/hang                          Retryable timeout; the retry stores once
//	fault/error_rate/503, .../429       Retryable with Retry-After (seconds,
//	                                    HTTP date), honoured by the next attempt
//	fault/fixed_status/500              Retryable; the next attempt stores once
//	fault/truncate                      Retryable; the retry replays, stores once
//	fault/malformed                     Retryable; the retry replays, stores once
//	fault/drift/rename|remove|retype    the harness's Drift class, naming the field
//	fault/outage                        the breaker opens, refuses without calling,
//	                                    closes after the outage; stored once
//
// Decisions the suite makes for every connector:
//
//   - A documented 4xx is Permanent (ClassifyStatus), except 401 (the
//     connector refreshes a refreshable token once, then it is Permanent),
//     404 (as the connector documents it, Harness.NotFound) and
//     408/429 (Retryable). A 4xx is sent once: never retried in-call.
//     Documented 5xx are Retryable. Every error keeps the platform's body.
//   - A timeout (latency over the per-try timeout, or a hang) is Retryable
//     and wraps context.DeadlineExceeded. The runtime's latency and hangs
//     come before the platform processes a request, so nothing is stored.
//   - A cut answer (truncate) and a 2xx answer that is not JSON (malformed)
//     are Retryable: the platform may have processed the request, and the
//     idempotency key makes the retry safe — the suite checks that the
//     platform stored it once, and that the retry stores nothing more.
//   - A 2xx answer that is JSON but breaks the contract (schema drift: the
//     remote id renamed, removed or retyped) is a contract failure the
//     operators must see: Permanent by default (STYLE: contract errors are
//     permanent), so the delivery fails at once rather than retrying
//     against a platform that changed; an operator replays it after the
//     fix, and the idempotency key makes that replay store nothing more.
//     A connector that documents another class says so in
//     Harness.Drift. Either way the error must name the field, or
//     wrap the decoding error that says what did not decode.
//   - An outage opens the breaker after its ConsecutiveFailures; while it is
//     open, calls fail with *connectors.BreakerOpenError (Retryable) and
//     reach no platform; after its OpenTimeout one probe closes it.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.NotFound == 0 {
		h.NotFound = connectors.NotFound
	}
	if h.Drift == 0 {
		h.Drift = connectors.Permanent
	}
	if h.Operation == "" || h.RemoteID == "" || h.Delivery == nil || h.Setup == nil {
		t.Fatal("Harness: Operation, RemoteID, Delivery and Setup are required")
	}
	s := &suite{h: h}

	run := func(name string, f func(t *testing.T, b *bench)) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f(t, s.setup(t))
		})
	}
	run("happy_path", s.happyPath)
	run("replay/sequential", s.replaySequential)
	run("replay/concurrent", s.replayConcurrent)

	// The operation's documented errors, read from the contract.
	probe := s.setup(t)
	method, statuses := deliveryOperation(t, probe.pair.Mock.Contract(), h.Operation)
	for _, status := range statuses {
		run("documented_error/"+strconv.Itoa(status), func(t *testing.T, b *bench) { s.documentedError(t, b, method, status) })
	}
	run("documented_error/401/token_refreshed", s.tokenRefreshed)

	run("fault/latency/under_timeout", s.latencyUnderTimeout)
	run("fault/latency/over_timeout", func(t *testing.T, b *bench) {
		s.timeout(t, b, platform.Rule{Latency: &platform.Latency{Median: platform.Duration(20 * suiteTimeout)}}, "latency")
	})
	run("fault/hang", func(t *testing.T, b *bench) { s.timeout(t, b, platform.Rule{HangRate: 1}, "hang") })
	run("fault/error_rate/503", func(t *testing.T, b *bench) { s.errorRate(t, b, http.StatusServiceUnavailable, false) })
	run("fault/error_rate/429", func(t *testing.T, b *bench) { s.errorRate(t, b, http.StatusTooManyRequests, true) })
	run("fault/fixed_status/500", s.fixedStatus500)
	run("fault/truncate", func(t *testing.T, b *bench) { s.answerCut(t, b, platform.Rule{TruncateRate: 1}, "truncate") })
	run("fault/malformed", func(t *testing.T, b *bench) { s.answerCut(t, b, platform.Rule{MalformedRate: 1}, "malformed") })
	field := h.RemoteID[strings.LastIndexByte(h.RemoteID, '/')+1:]
	for _, d := range []platform.Drift{
		{Kind: platform.DriftRename, Path: h.RemoteID, To: "renamed_" + field},
		{Kind: platform.DriftRemove, Path: h.RemoteID},
		{Kind: platform.DriftRetype, Path: h.RemoteID, To: "object"},
	} {
		run("fault/drift/"+d.Kind, func(t *testing.T, b *bench) { s.drift(t, b, d, field) })
	}
	run("fault/outage", s.outage)
}

type suite struct {
	h Harness
}

// bench is one subtest's mock, connector and clock.
type bench struct {
	clock *clock.Fake
	pair  Pair
	stack connectors.StackConfig
	op    string
	seq   int
	// held are the keys of the deliveries the platform must hold, once
	// each: nothing else may be stored.
	held map[string]bool
}

func (s *suite) setup(t *testing.T) *bench {
	t.Helper()
	c := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	stack := suiteStack()
	pair := s.h.Setup(t, Env{Now: c.Now, Stack: stack})
	if pair.Connector == nil || pair.Mock == nil || pair.Stored == nil || pair.StoredTotal == nil {
		t.Fatal("Harness.Setup: the pair needs a Connector, a Mock, Stored and StoredTotal")
	}
	if !slices.Contains(pair.Mock.Operations(), s.h.Operation) {
		t.Fatalf("the mock's contract has no operation %q (it has %v)", s.h.Operation, pair.Mock.Operations())
	}
	return &bench{clock: c, pair: pair, stack: stack, op: s.h.Operation, held: map[string]bool{}}
}

// delivery returns a fresh sample delivery with a key of its own.
func (s *suite) delivery(t *testing.T, b *bench) *connectors.Delivery {
	t.Helper()
	b.seq++
	d := s.h.Delivery(fmt.Sprintf("conformance-%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), b.seq))
	if d == nil || d.IdempotencyKey == "" {
		t.Fatal("Harness.Delivery returned no delivery, or one without an idempotency key")
	}
	return d
}

// faults replaces the mock's faults: rule applies to the delivery
// operation (no rule: no faults).
func (b *bench) faults(t *testing.T, rules ...platform.Rule) {
	t.Helper()
	setFaults(t, b.pair.Mock, []string{b.op}, rules)
}

// setFaults replaces mock's faults with rules; a rule without Operations
// applies to ops.
func setFaults(t *testing.T, mock *platform.Server, ops []string, rules []platform.Rule) {
	t.Helper()
	for i := range rules {
		if rules[i].Operations == nil {
			rules[i].Operations = ops
		}
	}
	if err := mock.SetFaults(platform.Faults{Rules: rules}); err != nil {
		t.Fatalf("setting faults: %v", err)
	}
}

// deliver runs one attempt of d.
func (b *bench) deliver(d *connectors.Delivery) (connectors.Receipt, error) {
	return b.pair.Connector.Deliver(context.Background(), d)
}

// calls is how many requests the delivery operation received.
func (b *bench) calls() int64 { return b.pair.Mock.Stats().ByOperation[b.op] }

// mustDeliver runs an attempt that must succeed and store d exactly once.
func (b *bench) mustDeliver(t *testing.T, d *connectors.Delivery, attempt int) connectors.Receipt {
	t.Helper()
	d.Attempt = attempt
	rec, err := b.deliver(d)
	if err != nil {
		t.Fatalf("attempt %d: %v", attempt, err)
	}
	if rec.RemoteID == "" || rec.At.IsZero() {
		t.Fatalf("attempt %d: receipt %+v, want a remote id and a time", attempt, rec)
	}
	b.storedOnce(t, d, fmt.Sprintf("after attempt %d", attempt))
	return rec
}

// storedOnce checks that the platform holds d exactly once, and nothing
// but the deliveries it must hold.
func (b *bench) storedOnce(t *testing.T, d *connectors.Delivery, when string) {
	t.Helper()
	b.held[d.IdempotencyKey] = true
	if n := b.pair.Stored(d.IdempotencyKey); n != 1 {
		t.Fatalf("%s: the platform stored the delivery %d times under its key, want exactly once", when, n)
	}
	b.storedNothingElse(t, when)
}

// storedNone checks that the platform holds nothing of d.
func (b *bench) storedNone(t *testing.T, d *connectors.Delivery, when string) {
	t.Helper()
	if n := b.pair.Stored(d.IdempotencyKey); n != 0 {
		t.Fatalf("%s: the platform stored the delivery %d times, want none", when, n)
	}
	b.storedNothingElse(t, when)
}

func (b *bench) storedNothingElse(t *testing.T, when string) {
	t.Helper()
	if n := b.pair.StoredTotal(); n != len(b.held) {
		t.Fatalf("%s: the platform stored %d objects in all for %d deliveries: a duplicate under another key", when, n, len(b.held))
	}
}

// clean checks that every request of the connector matched the contract
// and every answer of the mock did too.
func (b *bench) clean(t *testing.T) {
	t.Helper()
	checkClean(t, b.pair.Mock, "connector")
}

// checkClean checks that mock saw no request of who (connector, puller)
// and sent no answer that broke its contract.
func checkClean(t *testing.T, mock *platform.Server, who string) {
	t.Helper()
	if st := mock.Stats(); st.Violations != 0 || st.ResponseViolations != 0 {
		t.Errorf("contract: %d requests of the %s and %d answers of the mock broke it, want none", st.Violations, who, st.ResponseViolations)
	}
}

// classified checks that err is a *connectors.Error of class want and
// returns it.
func classified(t *testing.T, err error, want connectors.Class, what string) *connectors.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: delivered, want a %s error", what, want)
	}
	ce, ok := errors.AsType[*connectors.Error](err)
	if !ok {
		t.Fatalf("%s: error %v (%T) is not a classified *connectors.Error", what, err, err)
	}
	if got := connectors.ClassOf(err); got != want || ce.Class != want {
		t.Fatalf("%s: class %s, want %s (%v)", what, got, want, err)
	}
	return ce
}

func (s *suite) happyPath(t *testing.T, b *bench) {
	d := s.delivery(t, b)
	rec := b.mustDeliver(t, d, 1)
	if now := b.clock.Now(); rec.At.After(now) || rec.At.Before(now.Add(-time.Minute)) {
		t.Errorf("receipt time %s, want the platform's time of the delivery (%s)", rec.At, now)
	}
	if n := b.calls(); n != 1 {
		t.Errorf("the delivery operation was called %d times, want 1", n)
	}
	st := b.pair.Connector.Status()
	if st.LastSuccess == nil || st.LastFailure != nil || st.Breaker != "closed" {
		t.Errorf("status %+v, want a last success, no failure, the breaker closed", st)
	}
	b.clean(t)
}

func (s *suite) replaySequential(t *testing.T, b *bench) {
	d := s.delivery(t, b)
	first := b.mustDeliver(t, d, 1)
	again := b.mustDeliver(t, d, 2) // a replay: same delivery, same key
	if again.RemoteID != first.RemoteID {
		t.Errorf("the replay's receipt names %q, the first %q: want the same remote object", again.RemoteID, first.RemoteID)
	}
	b.clean(t)
}

func (s *suite) replayConcurrent(t *testing.T, b *bench) {
	d := s.delivery(t, b)
	const n = 4
	var wg sync.WaitGroup
	ids := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			cp := *d
			cp.Attempt = i + 1
			rec, err := b.deliver(&cp)
			ids[i], errs[i] = rec.RemoteID, err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent attempt %d: %v", i+1, err)
		}
		if ids[i] != ids[0] {
			t.Errorf("concurrent attempts got remote ids %v, want one", ids)
		}
	}
	b.storedOnce(t, d, "after concurrent attempts")
	b.clean(t)
}

// documentedError answers the delivery operation with status, in the
// platform's format, and checks the class.
func (s *suite) documentedError(t *testing.T, b *bench, method string, status int) {
	want := connectors.ClassifyStatus(status)
	if status == http.StatusNotFound {
		want = s.h.NotFound
	}
	tokenCalls := func() int64 { return b.pair.Mock.Stats().ByOperation[s.h.TokenOperation] }
	if status == http.StatusUnauthorized {
		// A token held, so that its refresh shows. Other statuses go to a
		// fresh connector: what a connector caches (a beneficiary, say)
		// may make it try again with other values, as it documents.
		b.mustDeliver(t, s.delivery(t, b), 1)
	}
	calls, tokens := b.calls(), tokenCalls()
	b.faults(t, platform.Rule{Status: status})

	d := s.delivery(t, b)
	_, err := b.deliver(d)
	ce := classified(t, err, want, fmt.Sprintf("a documented %d", status))
	if ce.Status != status {
		t.Errorf("error status %d, want %d", ce.Status, status)
	}
	if len(ce.Body) == 0 || ce.ContentType == "" {
		t.Errorf("the platform's error body is not kept (content type %q, %d bytes)", ce.ContentType, len(ce.Body))
	}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		// No Retry-After was injected: none is made up.
		if ce.RetryAfter != 0 {
			t.Errorf("Retry-After %s, none was sent", ce.RetryAfter)
		}
	}
	b.storedNone(t, d, "after the error")

	sent := b.calls() - calls
	switch {
	case status == http.StatusUnauthorized && s.h.TokenOperation != "":
		// The token is dropped, a fresh one fetched, the call sent once
		// more, then the refusal stands.
		if sent != 2 || tokenCalls()-tokens != 1 {
			t.Errorf("a 401: %d calls and %d token requests, want 2 and 1 (one refresh, then Permanent)", sent, tokenCalls()-tokens)
		}
	case want == connectors.Retryable && idempotentMethod(method):
		if sent < 1 || sent > int64(b.stack.Retry.Max)+1 {
			t.Errorf("%d calls, want 1 to %d (in-call retries of an idempotent method)", sent, b.stack.Retry.Max+1)
		}
	default:
		if sent != 1 {
			t.Errorf("%d calls, want 1: a %s %d is not retried in-call", sent, want, status)
		}
	}
	if st := b.pair.Connector.Status(); st.LastFailure == nil || !strings.Contains(st.LastError, strconv.Itoa(status)) {
		t.Errorf("status %+v, want the last failure with its HTTP status", st)
	}
	b.clean(t)
}

// tokenRefreshed lets the mock's clock pass the token's lifetime: the
// platform refuses the token with 401, the connector fetches a fresh one
// and delivers.
func (s *suite) tokenRefreshed(t *testing.T, b *bench) {
	if s.h.TokenOperation == "" || s.h.TokenTTL <= 0 {
		t.Skip("the connector's credentials do not expire")
	}
	b.mustDeliver(t, s.delivery(t, b), 1)
	tokens := b.pair.Mock.Stats().ByOperation[s.h.TokenOperation]
	calls := b.calls()
	b.clock.Advance(s.h.TokenTTL + time.Second)

	d := s.delivery(t, b)
	b.mustDeliver(t, d, 1)
	if got := b.pair.Mock.Stats().ByOperation[s.h.TokenOperation] - tokens; got != 1 {
		t.Errorf("%d token requests after the expiry, want 1", got)
	}
	if got := b.calls() - calls; got != 2 {
		t.Errorf("%d calls of the delivery operation, want 2 (refused, then sent with the fresh token)", got)
	}
	b.clean(t)
}

func (s *suite) latencyUnderTimeout(t *testing.T, b *bench) {
	b.faults(t, platform.Rule{Latency: &platform.Latency{Median: platform.Duration(suiteTimeout / 10)}})
	b.mustDeliver(t, s.delivery(t, b), 1)
	if n := b.pair.Mock.Stats().Injected["latency"]; n < 1 {
		t.Fatalf("%d latency faults injected: the subtest proves nothing", n)
	}
	b.clean(t)
}

// timeout makes the delivery operation answer later than the per-try
// timeout (latency or hang): Retryable, nothing stored, and the next
// attempt, once the platform answers again, stores it once.
func (s *suite) timeout(t *testing.T, b *bench, rule platform.Rule, kind string) {
	b.faults(t, rule)
	d := s.delivery(t, b)
	_, err := b.deliver(d)
	ce := classified(t, err, connectors.Retryable, kind)
	if !errors.Is(err, context.DeadlineExceeded) || ce.Status != 0 {
		t.Errorf("%s: error %v (status %d), want the per-try timeout (context.DeadlineExceeded) and no status", kind, err, ce.Status)
	}
	if n := b.pair.Mock.Stats().Injected[kind]; n < 1 {
		t.Fatalf("%d %s faults injected: the subtest proves nothing", n, kind)
	}
	b.storedNone(t, d, "after the timeout")

	b.faults(t)
	b.mustDeliver(t, d, 2)
	b.clean(t)
}

// errorRate answers every call of the delivery operation with status and
// a Retry-After (delay-seconds, or an HTTP date when date): Retryable with
// the Retry-After parsed; the next attempt, made when it says, stores the
// delivery once.
func (s *suite) errorRate(t *testing.T, b *bench, status int, date bool) {
	retryAfter := strconv.Itoa(int(suiteRetryAfter / time.Second))
	if date {
		retryAfter = b.clock.Now().Add(suiteRetryAfter).UTC().Format(http.TimeFormat)
	}
	b.faults(t, platform.Rule{ErrorRate: 1, Statuses: []int{status}, RetryAfter: retryAfter})
	d := s.delivery(t, b)
	calls := b.calls()
	_, err := b.deliver(d)
	ce := classified(t, err, connectors.Retryable, fmt.Sprintf("an injected %d", status))
	if ce.Status != status || ce.RetryAfter != suiteRetryAfter {
		t.Errorf("error status %d, Retry-After %s; want %d and %s (from %q)", ce.Status, ce.RetryAfter, status, suiteRetryAfter, retryAfter)
	}
	if sent := b.calls() - calls; sent != 1 {
		t.Errorf("%d calls, want 1: a Retry-After over MaxRetryAfter is left to the next attempt", sent)
	}
	b.storedNone(t, d, "after the injected error")

	// The next attempt, when Retry-After says; the platform has recovered.
	b.clock.Advance(ce.RetryAfter)
	b.faults(t)
	b.mustDeliver(t, d, 2)
	b.clean(t)
}

func (s *suite) fixedStatus500(t *testing.T, b *bench) {
	b.faults(t, platform.Rule{Status: http.StatusInternalServerError})
	d := s.delivery(t, b)
	_, err := b.deliver(d)
	if ce := classified(t, err, connectors.Retryable, "a fixed 500"); ce.Status != http.StatusInternalServerError {
		t.Errorf("error status %d, want 500", ce.Status)
	}
	b.storedNone(t, d, "after the 500")
	if st := b.pair.Connector.Status(); st.Breaker != "closed" {
		t.Errorf("breaker %s after one failure, want closed (it opens after %d)", st.Breaker, suiteBreakerTrips)
	}
	b.faults(t)
	b.mustDeliver(t, d, 2)
	b.clean(t)
}

// answerCut spoils the answer of a processed delivery (cut, or not JSON):
// Retryable; the platform stored it once, and the retry with the same key
// stores nothing more.
func (s *suite) answerCut(t *testing.T, b *bench, rule platform.Rule, kind string) {
	b.faults(t, rule)
	d := s.delivery(t, b)
	_, err := b.deliver(d)
	classified(t, err, connectors.Retryable, kind)
	if n := b.pair.Mock.Stats().Injected[kind]; n < 1 {
		t.Fatalf("%d %s faults injected: the subtest proves nothing", n, kind)
	}
	b.storedOnce(t, d, "after the spoiled answer (the platform processed the request)")

	b.faults(t)
	b.mustDeliver(t, d, 2)
	b.clean(t)
}

// drift changes the remote id in the success answer of a processed
// delivery: a classified error of the harness's Drift class that names the
// field (or wraps the decoding error); the platform stored it once, and the next attempt (a retry, or an
// operator's replay after the fix) stores nothing more.
func (s *suite) drift(t *testing.T, b *bench, d platform.Drift, field string) {
	b.faults(t, platform.Rule{Drift: []platform.Drift{d}})
	dl := s.delivery(t, b)
	_, err := b.deliver(dl)
	ce := classified(t, err, s.h.Drift, "a drifted answer ("+d.Kind+" "+d.Path+")")
	if !namesField(err.Error(), field) && ce.Err == nil {
		t.Errorf("error %q neither names the field %q the answer lacks nor wraps the decoding error", err, field)
	}
	if ce.Status != 0 && (ce.Status < 200 || ce.Status > 299) {
		t.Errorf("error status %d: the platform answered a success", ce.Status)
	}
	if n := b.pair.Mock.Stats().Injected["drift"]; n < 1 {
		t.Fatalf("%d drift faults injected: the subtest proves nothing", n)
	}
	b.storedOnce(t, dl, "after the drifted answer (the platform processed the request)")

	b.faults(t)
	b.mustDeliver(t, dl, 2)
	b.clean(t)
}

// namesField reports whether msg names field as a word.
func namesField(msg, field string) bool {
	isWord := func(r rune) bool {
		return r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	}
	for w := range strings.FieldsFuncSeq(msg, func(r rune) bool { return !isWord(r) }) {
		if w == field {
			return true
		}
	}
	return false
}

// outage takes the platform down (503 with Retry-After, by the suite's
// clock): the breaker opens after its consecutive failures, then refuses
// without calling the platform; once the outage is over and the open
// timeout passed, a probe delivers, exactly once, and closes it.
func (s *suite) outage(t *testing.T, b *bench) {
	b.mustDeliver(t, s.delivery(t, b), 1) // a token held, caches warm
	now := b.clock.Now()
	end := now.Add(time.Hour)
	// Operations: empty, not nil: the whole platform is down.
	b.faults(t, platform.Rule{Operations: []string{}, Outage: &platform.Window{Start: now.Add(-time.Minute), End: end}})

	d := s.delivery(t, b)
	for attempt := 1; attempt <= suiteBreakerTrips; attempt++ {
		d.Attempt = attempt
		_, err := b.deliver(d)
		ce := classified(t, err, connectors.Retryable, fmt.Sprintf("attempt %d during the outage", attempt))
		if ce.Status != http.StatusServiceUnavailable || ce.RetryAfter != end.Sub(b.clock.Now()) {
			t.Errorf("attempt %d: status %d, Retry-After %s; want 503 and the hour the outage has left", attempt, ce.Status, ce.RetryAfter)
		}
	}
	if st := b.pair.Connector.Status(); st.Breaker != "open" {
		t.Fatalf("breaker %s after %d failures in a row, want open", st.Breaker, suiteBreakerTrips)
	}
	before := b.pair.Mock.Stats().Requests
	d.Attempt = suiteBreakerTrips + 1
	_, err := b.deliver(d)
	boe, ok := errors.AsType[*connectors.BreakerOpenError](err)
	if !ok || connectors.ClassOf(err) != connectors.Retryable || boe.RetryIn <= 0 || boe.RetryIn > suiteOpenTimeout {
		t.Fatalf("while open: %v, want a Retryable *connectors.BreakerOpenError with RetryIn within the open timeout", err)
	}
	if n := b.pair.Mock.Stats().Requests - before; n != 0 {
		t.Fatalf("the open breaker let %d requests reach the platform", n)
	}
	b.storedNone(t, d, "during the outage")

	// The outage ends (the mock's clock); the breaker lets a probe through
	// once its open timeout has passed (wall clock).
	b.clock.Advance(time.Hour)
	deadline := time.Now().Add(suiteMaxWait)
	for b.pair.Connector.Status().Breaker == "open" {
		if time.Now().After(deadline) {
			t.Fatalf("the breaker is still open %s after the outage", suiteMaxWait)
		}
		time.Sleep(suiteOpenTimeout / 10) // bounded poll
	}
	b.mustDeliver(t, d, suiteBreakerTrips+2)
	if st := b.pair.Connector.Status(); st.Breaker != "closed" {
		t.Errorf("breaker %s after a successful probe, want closed", st.Breaker)
	}
	b.clean(t)
}

// deliveryOperation reads the delivery operation of doc: its method and
// its documented statuses that are not successes, sorted.
func deliveryOperation(t *testing.T, doc *openapi3.T, id string) (string, []int) {
	t.Helper()
	for _, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID != id {
				continue
			}
			var statuses []int
			for code := range op.Responses.Map() {
				n, err := strconv.Atoi(code)
				if err != nil {
					t.Fatalf("%s documents the response %q: the suite needs explicit statuses", id, code)
				}
				if n >= 300 {
					statuses = append(statuses, n)
				}
			}
			slices.Sort(statuses)
			return method, statuses
		}
	}
	t.Fatalf("the contract has no operation %q", id)
	return "", nil
}

// idempotentMethod reports whether the connector runtime retries method
// in-call.
func idempotentMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}
