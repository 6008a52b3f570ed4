package connectortest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/clock"
	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mocks/platform"
)

// PullHarness is what RunPull needs of one puller.
type PullHarness struct {
	// Routes maps each operation the puller declares (PullOperation.Name)
	// to the calls a pull of it makes on the mock. Every declared operation
	// needs a route, and every route a declared operation.
	Routes map[string]PullRoute
	// FaultOperation is the operation the transport faults (latency, hang,
	// injected statuses, truncation, malformed answers) are set on.
	// Default: the first operation the puller declares.
	FaultOperation string
	// TokenOperation is the operationId of the mock's token endpoint when
	// the puller gets refreshable access tokens from it; "" when its
	// credentials are static (the token subtests are then skipped).
	TokenOperation string
	// TokenTTL is the lifetime of the mock's access tokens by the suite's
	// clock; 0 when they do not expire (token/refreshed_after_expiry is
	// then skipped).
	TokenTTL time.Duration
	// Known returns a query for a person the mock knows, with data for
	// every operation (leave Operations empty: the suite sets it).
	Known func() *connectors.PullQuery
	// Unknown returns a query for a person the mock does not know.
	Unknown func() *connectors.PullQuery
	// Check, when set, checks a successful item of Known beyond the suite's
	// own checks: the values the mock's fixtures hold for the person.
	Check func(item *connectors.PullItem) error
	// Outcomes overrides the outcome the suite expects for an injected
	// status of the fault operation's calls (see RunPull for the
	// defaults), for a platform that documents another meaning.
	Outcomes map[int]connectors.Outcome
	// Secrets are values that must never appear in a log line or an
	// error: the client secret, a static platform token. The suite adds
	// the Authorization header of every request the mock receives, the
	// headers named in SecretHeaders, and the Known person's NIR and names.
	Secrets []string
	// SecretHeaders are request headers, beside Authorization, whose
	// values must never be logged (a person token, an API key).
	SecretHeaders []string
	// Setup starts a fresh mock serving env.Wrap(mock) (an httptest
	// server, closed by t.Cleanup) on env.Now, and a puller to it built
	// with env.Stack, env.Now and env.Logger (as connectors.Deps).
	Setup func(t *testing.T, env PullEnv) PullPair
}

// PullRoute is what a pull of one operation calls on the mock.
type PullRoute struct {
	// Calls are the operationIds of the mock's contract a pull of the
	// operation calls, in order (e.g. a search, then a read); the token
	// endpoint is not listed. A pull of several operations may share
	// calls (one search for two reads).
	Calls []string
	// Drift lists fields of the calls' success answers that the operation
	// needs; the drift subtests rename, remove and retype each one.
	Drift []PullField
}

// PullField is one field of a call's success answer.
type PullField struct {
	// Call is the operationId, one of the route's Calls.
	Call string
	// Path is a JSON pointer into the answer ("/inscription/dateDebut");
	// a "*" segment is every element of an array.
	Path string
}

// PullEnv is what the suite gives PullHarness.Setup.
type PullEnv struct {
	// Now is the suite's fake clock, for the mock (token expiry, outage
	// windows) and the puller (Retry-After, FetchedAt).
	Now func() time.Time
	// Stack is the transport stack the puller must use (see Env.Stack);
	// its Auth, and its rate limit if the puller needs a lower one, are
	// left to the puller.
	Stack connectors.StackConfig
	// Logger is the logger the puller must log through (Deps.Logger): the
	// suite reads every line, at debug level, for secrets.
	Logger *slog.Logger
	// Wrap must wrap the mock's handler: it records the credentials the
	// puller sends so the suite can look for them in the logs.
	Wrap func(http.Handler) http.Handler
}

// Deps returns the dependencies to build the puller with: metrics on a
// registry of its own, Logger and Now.
func (e PullEnv) Deps() connectors.Deps {
	return connectors.Deps{Metrics: connectors.NewMetrics(prometheus.NewRegistry()), Logger: e.Logger, Now: e.Now}
}

// PullPair is a fresh mock and a puller to it.
type PullPair struct {
	Puller connectors.Puller
	// Mock is the mock's runtime: faults and stats.
	Mock *platform.Server
}

// The pull suite's own settings, beside the push suite's.
const (
	// pullHeldDeadline bounds the pull made while a Retry-After holds: a
	// lookup's deadline shorter than the wait, so no puller may wait it out.
	pullHeldDeadline = suiteRetryAfter / 2
	// pullPoll is the pause between two tries of a bounded poll.
	pullPoll = 20 * time.Millisecond
)

// defaultOutcomes are the outcomes expected for an injected status.
var defaultOutcomes = map[int]connectors.Outcome{
	http.StatusUnauthorized:        connectors.OutcomeRefused,
	http.StatusForbidden:           connectors.OutcomeRefused,
	http.StatusInternalServerError: connectors.OutcomeError,
	http.StatusBadGateway:          connectors.OutcomeUnavailable,
	http.StatusServiceUnavailable:  connectors.OutcomeUnavailable,
	http.StatusGatewayTimeout:      connectors.OutcomeTimeout,
}

// RunPull runs the pull conformance suite, the one every connectors.Puller
// passes against its mock (River's riverdrivertest.Exercise pattern, as
// Run for push connectors): a puller's package calls it from a test with a
// PullHarness, and the suite runs its subtests in parallel, each on a fresh
// mock and puller, with the push suite's transport stack (Env.Stack), a
// fake clock, and a logger it reads.
//
// Each subtest sets one situation through the mock's runtime and asserts
// the outcome of the pull (connectors.OutcomeOf of the item's error), the
// calls that reached the platform, and the breaker's state:
//
//	operations                          names unique and snake_case, a valid
//	                                    démarche and data category each, one
//	                                    route per operation, routes in the contract
//	happy_path/<op>                     ok: canonical data that validates, with
//	                                    Provider and FetchedAt; only the route's calls
//	all_operations                      every operation when none is asked, in
//	                                    order; the order asked otherwise
//	bad_query                           an unknown operation fails Pull
//	                                    (connectors.ErrInvalidQuery), no call
//	not_found/<op>                      the unknown person: not_found, no data
//	partial                             one operation failing (503) leaves the
//	                                    others ok, and Pull itself succeeds
//	token/cached                        one token request for many pulls
//	token/refreshed_after_expiry        one more after the token expired
//	fault/latency/under_timeout         ok
//	fault/latency/over_timeout          timeout (context.DeadlineExceeded)
//	fault/hang                          timeout
//	fault/status/<status>               401, 403 refused (401: the token is
//	                                    refreshed once); 500 error; 502, 503
//	                                    unavailable; 504 timeout
//	fault/status/429, .../429_http_date rate_limited with Retry-After; the wait
//	                                    is honoured (see below)
//	fault/truncate, fault/malformed     error or unavailable, never data
//	fault/drift/<op>/<field>/<kind>     error naming the field, never an empty value
//	fault/outage                        unavailable; the breaker opens, refuses
//	                                    without calling, closes after the outage
//
// Decisions the suite makes for every puller:
//
//   - Failures are items: Pull fails only for a query it cannot run (an
//     unknown operation), with an error wrapping connectors.ErrInvalidQuery,
//     and a failed item carries no data.
//   - A successful item carries its provenance: Provider (CNAF, MSA,
//     FRANCE_TRAVAIL) and FetchedAt (the suite's clock, or the platform's
//     time of the data, within two days before it), and canonical data
//     (Household, Benefits, Employment or Payments; Identity alone is not
//     data) that passes the canonical types' Validate.
//   - A 429 whose Retry-After outlasts the in-call retries comes back
//     rate_limited, its *connectors.Error carrying the Retry-After. Until
//     that time has passed by the suite's clock (Deps.Now), no request
//     reaches the platform: a pull made with a deadline shorter than the
//     wait is rate_limited at once (no lookup waits a Retry-After out).
//     Once the suite's clock has passed it, pulls succeed again (polled, so
//     that a puller whose wait runs on the wall clock passes too).
//   - A success answer that breaks the contract (a field renamed, removed
//     or retyped) is an error that names the field: never a silent empty
//     value, never data.
//   - No credential (the Authorization header, the Secrets and
//     SecretHeaders) and none of the Known person's NIR and names appears in
//     a log line or in the text of an error. The puller must log through
//     Env.Logger: a run that never logs fails.
func RunPull(t *testing.T, h PullHarness) {
	t.Helper()
	if h.Setup == nil || h.Known == nil || h.Unknown == nil || len(h.Routes) == 0 {
		t.Fatal("PullHarness: Routes, Known, Unknown and Setup are required")
	}
	s := &pullSuite{h: h}
	outcomes := merged(defaultOutcomes, h.Outcomes)

	// The operations, read once from a probe puller.
	probe := s.setup(t)
	ops := probe.pair.Puller.Operations()
	if len(ops) == 0 {
		t.Fatal("the puller declares no operation")
	}
	s.ops = ops
	if s.h.FaultOperation == "" {
		s.h.FaultOperation = ops[0].Name
	}
	t.Cleanup(func() {
		if s.lines.Load() == 0 {
			t.Error("the puller never logged through PullEnv.Logger: pass it as connectors.Deps.Logger")
		}
	})

	run := func(name string, f func(t *testing.T, b *pullBench)) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f(t, s.setup(t))
		})
	}
	run("operations", s.operations)
	for _, op := range ops {
		run("happy_path/"+op.Name, func(t *testing.T, b *pullBench) { s.happyPath(t, b, op.Name) })
		run("not_found/"+op.Name, func(t *testing.T, b *pullBench) { s.notFound(t, b, op.Name) })
	}
	run("all_operations", s.allOperations)
	run("bad_query", s.badQuery)
	run("partial", s.partial)
	run("token/cached", s.tokenCached)
	run("token/refreshed_after_expiry", s.tokenRefreshed)

	run("fault/latency/under_timeout", s.latencyUnderTimeout)
	run("fault/latency/over_timeout", func(t *testing.T, b *pullBench) {
		s.timeout(t, b, platform.Rule{Latency: &platform.Latency{Median: platform.Duration(20 * suiteTimeout)}}, "latency")
	})
	run("fault/hang", func(t *testing.T, b *pullBench) { s.timeout(t, b, platform.Rule{HangRate: 1}, "hang") })
	statuses := make([]int, 0, len(outcomes))
	for st := range outcomes {
		statuses = append(statuses, st)
	}
	slices.Sort(statuses)
	for _, st := range statuses {
		run("fault/status/"+strconv.Itoa(st), func(t *testing.T, b *pullBench) { s.status(t, b, st, outcomes[st]) })
	}
	run("fault/status/429", func(t *testing.T, b *pullBench) { s.rateLimited(t, b, false) })
	run("fault/status/429_http_date", func(t *testing.T, b *pullBench) { s.rateLimited(t, b, true) })
	run("fault/truncate", func(t *testing.T, b *pullBench) { s.spoiled(t, b, platform.Rule{TruncateRate: 1}, "truncate") })
	run("fault/malformed", func(t *testing.T, b *pullBench) { s.spoiled(t, b, platform.Rule{MalformedRate: 1}, "malformed") })
	for _, op := range ops {
		for _, f := range h.Routes[op.Name].Drift {
			field := f.Path[strings.LastIndexByte(f.Path, '/')+1:]
			for _, d := range []platform.Drift{
				{Kind: platform.DriftRename, Path: f.Path, To: "renamed_" + field},
				{Kind: platform.DriftRemove, Path: f.Path},
				{Kind: platform.DriftRetype, Path: f.Path, To: "object"},
			} {
				run("fault/drift/"+op.Name+"/"+field+"/"+d.Kind, func(t *testing.T, b *pullBench) { s.drift(t, b, op.Name, f.Call, d, field) })
			}
		}
	}
	run("fault/outage", s.outage)
}

// merged returns a copy of base with over's entries set.
func merged[K comparable, V any](base, over map[K]V) map[K]V {
	out := make(map[K]V, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

type pullSuite struct {
	h   PullHarness
	ops []connectors.PullOperation
	// lines counts the log lines of every subtest.
	lines atomic.Int64
}

// pullBench is one subtest's mock, puller, clock, log and recorded secrets.
type pullBench struct {
	clock *clock.Fake
	pair  PullPair
	log   *LogBuffer
	rec   *secretRecorder
	h     *PullHarness
}

func (s *pullSuite) setup(t *testing.T) *pullBench {
	t.Helper()
	c := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	buf := &LogBuffer{}
	rec := newSecretRecorder(s.h)
	env := PullEnv{
		Now:    c.Now,
		Stack:  suiteStack(),
		Logger: buf.Logger(),
		Wrap:   rec.wrap,
	}
	pair := s.h.Setup(t, env)
	if pair.Puller == nil || pair.Mock == nil {
		t.Fatal("PullHarness.Setup: the pair needs a Puller and a Mock")
	}
	b := &pullBench{clock: c, pair: pair, log: buf, rec: rec, h: &s.h}
	t.Cleanup(func() {
		s.lines.Add(int64(buf.Lines()))
		b.noSecretIn(t, "the log", buf.String())
	})
	return b
}

// faults replaces the mock's faults; a rule without Operations applies to
// the calls of the fault operation.
func (b *pullBench) faults(t *testing.T, rules ...platform.Rule) {
	t.Helper()
	setFaults(t, b.pair.Mock, b.h.Routes[b.h.FaultOperation].Calls, rules)
}

// pull pulls the Known person's operations (all when none) and checks the
// shape of the answer: one item per operation asked, in order, no Pull
// error, no secret in the errors, no data beside an error.
func (b *pullBench) pull(t *testing.T, ctx context.Context, q *connectors.PullQuery, ops ...string) []connectors.PullItem {
	t.Helper()
	q.Operations = ops
	items, err := b.pair.Puller.Pull(ctx, q)
	if err != nil {
		b.noSecretIn(t, "Pull's error", err.Error())
		t.Fatalf("Pull failed as a whole: %v; want one item per operation, failures as items", err)
	}
	want := ops
	if len(want) == 0 {
		for _, op := range b.pair.Puller.Operations() {
			want = append(want, op.Name)
		}
	}
	got := make([]string, len(items))
	for i := range items {
		got[i] = items[i].Operation
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Pull returned items %v, want %v (one per operation asked, in order)", got, want)
	}
	for i := range items {
		if items[i].Err == nil {
			continue
		}
		b.noSecretIn(t, "the error of "+items[i].Operation, items[i].Err.Error())
		if hasData(&items[i]) {
			t.Errorf("%s: the item has an error (%v) and data: exactly one of them is set", items[i].Operation, items[i].Err)
		}
	}
	return items
}

// pullOne pulls one operation of the Known person.
func (b *pullBench) pullOne(t *testing.T, ctx context.Context, op string) *connectors.PullItem {
	t.Helper()
	return &b.pull(t, ctx, b.h.Known(), op)[0]
}

// outcome checks the outcome of item and returns its error.
func outcome(t *testing.T, item *connectors.PullItem, want connectors.Outcome, what string) error {
	t.Helper()
	if got := connectors.OutcomeOf(item.Err); got != want {
		t.Fatalf("%s: %s is %s (%v), want %s", what, item.Operation, got, item.Err, want)
	}
	return item.Err
}

// okItem checks a successful item of the Known person: provenance, data
// that validates, the harness's own check.
func (b *pullBench) okItem(t *testing.T, item *connectors.PullItem, what string) {
	t.Helper()
	outcome(t, item, connectors.OutcomeOK, what)
	switch item.Provider {
	case mapping.ProviderCNAF, mapping.ProviderMSA, mapping.ProviderFranceTravail:
	default:
		t.Errorf("%s: %s: provider %q, want CNAF, MSA or FRANCE_TRAVAIL (provenance)", what, item.Operation, item.Provider)
	}
	now := b.clock.Now()
	if item.FetchedAt.IsZero() || item.FetchedAt.After(now) || item.FetchedAt.Before(now.Add(-48*time.Hour)) {
		t.Errorf("%s: %s: fetched at %s, want the suite's clock (%s) or the platform's time of the data shortly before", what, item.Operation, item.FetchedAt, now)
	}
	if !hasData(item) {
		t.Errorf("%s: %s: no data (household, benefits, employment or payments) in a successful item", what, item.Operation)
	}
	validate := func(field string, e mapping.Entity) {
		for _, fe := range e.Validate() {
			t.Errorf("%s: %s: %s.%s: %s", what, item.Operation, field, fe.Field, fe.Detail)
		}
	}
	if item.Identity != nil {
		validate("identity", item.Identity)
	}
	if item.Household != nil {
		validate("household", item.Household)
	}
	for i := range item.Benefits {
		validate(fmt.Sprintf("benefits[%d]", i), &item.Benefits[i])
	}
	if item.Employment != nil {
		validate("employment", item.Employment)
	}
	for i := range item.Payments {
		validate(fmt.Sprintf("payments[%d]", i), &item.Payments[i])
	}
	if b.h.Check != nil {
		if err := b.h.Check(item); err != nil {
			t.Errorf("%s: %s: %v", what, item.Operation, err)
		}
	}
}

// hasData reports whether any data field of item is set.
func hasData(item *connectors.PullItem) bool {
	return item.Identity != nil || item.Household != nil || item.Benefits != nil || item.Employment != nil || item.Payments != nil
}

// clean checks that every request of the puller matched the contract and
// every answer of the mock did too.
func (b *pullBench) clean(t *testing.T) {
	t.Helper()
	checkClean(t, b.pair.Mock, "puller")
}

// calls is how many requests the mock's operation id received.
func (b *pullBench) calls(id string) int64 { return b.pair.Mock.Stats().ByOperation[id] }

func (b *pullBench) tokens() int64 {
	if b.h.TokenOperation == "" {
		return 0
	}
	return b.calls(b.h.TokenOperation)
}

// noSecretIn fails t if text holds a recorded credential or a personal
// value of the Known person.
func (b *pullBench) noSecretIn(t *testing.T, where, text string) {
	t.Helper()
	for _, s := range b.rec.values() {
		if strings.Contains(text, s) {
			t.Errorf("%s holds a credential or personal value (%d characters starting %q)", where, len(s), s[:min(3, len(s))])
		}
	}
}

var operationName = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

func (s *pullSuite) operations(t *testing.T, b *pullBench) {
	if b.pair.Puller.Name() == "" {
		t.Error("the puller has no Name")
	}
	ids := b.pair.Mock.Operations()
	seen := map[string]bool{}
	for _, op := range b.pair.Puller.Operations() {
		if !operationName.MatchString(op.Name) {
			t.Errorf("operation %q: the name is not snake_case", op.Name)
		}
		if seen[op.Name] {
			t.Errorf("operation %q is declared twice", op.Name)
		}
		seen[op.Name] = true
		if !op.Demarche.Valid() {
			t.Errorf("operation %q declares the démarche %q, not one of %v", op.Name, op.Demarche, mapping.Demarches())
		}
		if !validCategory(op.Category) {
			t.Errorf("operation %q declares the data category %q, which a consent cannot list", op.Name, op.Category)
		}
		route, ok := s.h.Routes[op.Name]
		if !ok {
			t.Errorf("operation %q has no route in the harness", op.Name)
			continue
		}
		if len(route.Calls) == 0 {
			t.Errorf("operation %q: the route lists no call", op.Name)
		}
		for _, c := range route.Calls {
			if !slices.Contains(ids, c) {
				t.Errorf("operation %q: the mock's contract has no operation %q (it has %v)", op.Name, c, ids)
			}
		}
		for _, f := range route.Drift {
			if !slices.Contains(route.Calls, f.Call) || !strings.HasPrefix(f.Path, "/") {
				t.Errorf("operation %q: drift field %s %q is not a JSON pointer into one of the route's calls", op.Name, f.Call, f.Path)
			}
		}
	}
	for name := range s.h.Routes {
		if !seen[name] {
			t.Errorf("the harness routes %q, which the puller does not declare", name)
		}
	}
	if !seen[s.h.FaultOperation] {
		t.Errorf("the fault operation %q is not declared", s.h.FaultOperation)
	}
	if s.h.TokenOperation != "" && !slices.Contains(ids, s.h.TokenOperation) {
		t.Errorf("the mock's contract has no token operation %q", s.h.TokenOperation)
	}
}

// validCategory reports whether a consent may list c: the canonical
// consent's own check decides.
func validCategory(c mapping.DataCategory) bool {
	consent := mapping.Consent{DataCategories: []mapping.DataCategory{c}}
	return !slices.ContainsFunc(consent.Validate(), func(fe *mapping.FieldError) bool {
		return fe.Field == "data_categories[0]"
	})
}

func (s *pullSuite) happyPath(t *testing.T, b *pullBench, op string) {
	item := b.pullOne(t, context.Background(), op)
	b.okItem(t, item, "happy path")
	if b.rec.count() == 0 {
		t.Fatal("no request went through PullEnv.Wrap: Setup must serve env.Wrap(mock)")
	}
	route := s.h.Routes[op]
	st := b.pair.Mock.Stats()
	for id, n := range st.ByOperation {
		switch {
		case slices.Contains(route.Calls, id) && n < 1:
			t.Errorf("the route's call %s was not made", id)
		case !slices.Contains(route.Calls, id) && id != s.h.TokenOperation && n > 0:
			t.Errorf("%d calls of %s, which the route of %s does not list", n, id, op)
		}
	}
	if st := b.pair.Puller.Status(); st.Breaker != "closed" {
		t.Errorf("breaker %q after a success, want closed", st.Breaker)
	}
	b.clean(t)
}

func (s *pullSuite) allOperations(t *testing.T, b *pullBench) {
	items := b.pull(t, context.Background(), b.h.Known())
	for i := range items {
		b.okItem(t, &items[i], "all operations")
	}
	var rev []string
	for _, op := range slices.Backward(s.ops) {
		rev = append(rev, op.Name)
	}
	items = b.pull(t, context.Background(), b.h.Known(), rev...)
	for i := range items {
		b.okItem(t, &items[i], "operations in reverse order")
	}
	b.clean(t)
}

func (s *pullSuite) badQuery(t *testing.T, b *pullBench) {
	q := b.h.Known()
	q.Operations = []string{"no_such_operation"}
	items, err := b.pair.Puller.Pull(context.Background(), q)
	if !errors.Is(err, connectors.ErrInvalidQuery) {
		t.Fatalf("Pull of an unknown operation: %d items, error %v; want an error wrapping connectors.ErrInvalidQuery", len(items), err)
	}
	b.noSecretIn(t, "Pull's error", err.Error())
	if n := b.pair.Mock.Stats().Requests; n != 0 {
		t.Errorf("%d requests reached the platform for a query that cannot run", n)
	}
}

func (s *pullSuite) notFound(t *testing.T, b *pullBench, op string) {
	item := &b.pull(t, context.Background(), b.h.Unknown(), op)[0]
	outcome(t, item, connectors.OutcomeNotFound, "an unknown person")
	b.clean(t)
}

// partial makes the last call of one operation fail, a call no other
// operation makes: that item fails, the others succeed.
func (s *pullSuite) partial(t *testing.T, b *pullBench) {
	victim, call := "", ""
	for _, op := range s.ops {
		calls := s.h.Routes[op.Name].Calls
		if len(calls) == 0 {
			continue
		}
		last := calls[len(calls)-1]
		shared := slices.ContainsFunc(s.ops, func(o connectors.PullOperation) bool {
			return o.Name != op.Name && slices.Contains(s.h.Routes[o.Name].Calls, last)
		})
		if !shared {
			victim, call = op.Name, last
			break
		}
	}
	if victim == "" {
		t.Skip("no operation has a call of its own to fail")
	}
	b.faults(t, platform.Rule{Operations: []string{call}, Status: http.StatusServiceUnavailable})
	items := b.pull(t, context.Background(), b.h.Known())
	for i := range items {
		if items[i].Operation == victim {
			outcome(t, &items[i], connectors.OutcomeUnavailable, "the operation whose call fails")
			continue
		}
		b.okItem(t, &items[i], "beside a failing operation")
	}
	b.clean(t)
}

func (s *pullSuite) tokenCached(t *testing.T, b *pullBench) {
	if s.h.TokenOperation == "" {
		t.Skip("the puller's credentials are static")
	}
	for range 3 {
		for _, item := range b.pull(t, context.Background(), b.h.Known()) {
			b.okItem(t, &item, "a pull")
		}
	}
	if n := b.tokens(); n != 1 {
		t.Errorf("%d token requests for three pulls, want 1 (the token is cached)", n)
	}
	b.clean(t)
}

// tokenRefreshed lets the mock's clock pass the token's lifetime: the
// platform refuses the token with 401, the puller fetches a fresh one once
// and pulls.
func (s *pullSuite) tokenRefreshed(t *testing.T, b *pullBench) {
	if s.h.TokenOperation == "" || s.h.TokenTTL <= 0 {
		t.Skip("the puller's credentials do not expire")
	}
	b.okItem(t, b.pullOne(t, context.Background(), s.h.FaultOperation), "before the expiry")
	tokens := b.tokens()
	b.clock.Advance(s.h.TokenTTL + time.Second)
	b.okItem(t, b.pullOne(t, context.Background(), s.h.FaultOperation), "after the expiry")
	if n := b.tokens() - tokens; n != 1 {
		t.Errorf("%d token requests after the expiry, want 1", n)
	}
	b.clean(t)
}

func (s *pullSuite) latencyUnderTimeout(t *testing.T, b *pullBench) {
	b.faults(t, platform.Rule{Latency: &platform.Latency{Median: platform.Duration(suiteTimeout / 10)}})
	b.okItem(t, b.pullOne(t, context.Background(), s.h.FaultOperation), "latency under the timeout")
	if n := b.pair.Mock.Stats().Injected["latency"]; n < 1 {
		t.Fatalf("%d latency faults injected: the subtest proves nothing", n)
	}
	b.clean(t)
}

// timeout makes the fault operation's calls answer later than the per-try
// timeout (latency or hang): timeout, wrapping context.DeadlineExceeded;
// once the platform answers again, the next pull succeeds.
func (s *pullSuite) timeout(t *testing.T, b *pullBench, rule platform.Rule, kind string) {
	b.faults(t, rule)
	item := b.pullOne(t, context.Background(), s.h.FaultOperation)
	err := outcome(t, item, connectors.OutcomeTimeout, kind)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("%s: error %v does not wrap context.DeadlineExceeded", kind, err)
	}
	if n := b.pair.Mock.Stats().Injected[kind]; n < 1 {
		t.Fatalf("%d %s faults injected: the subtest proves nothing", n, kind)
	}
	b.faults(t)
	b.okItem(t, b.pullOne(t, context.Background(), s.h.FaultOperation), "after the "+kind)
	b.clean(t)
}

// status answers the fault operation's calls with status, in the
// platform's format.
func (s *pullSuite) status(t *testing.T, b *pullBench, status int, want connectors.Outcome) {
	if status == http.StatusUnauthorized {
		// A token held, so that its refresh shows.
		b.okItem(t, b.pullOne(t, context.Background(), s.h.FaultOperation), "before the 401")
	}
	tokens := b.tokens()
	b.faults(t, platform.Rule{Status: status})
	item := b.pullOne(t, context.Background(), s.h.FaultOperation)
	err := outcome(t, item, want, fmt.Sprintf("an injected %d", status))
	if ce, ok := errors.AsType[*connectors.Error](err); !ok || ce.Status != status {
		t.Errorf("an injected %d: error %v, want a *connectors.Error with the status", status, err)
	}
	if status == http.StatusUnauthorized && s.h.TokenOperation != "" {
		if n := b.tokens() - tokens; n != 1 {
			t.Errorf("a 401: %d token requests, want 1 (the token is dropped and fetched again, once)", n)
		}
	}
	b.faults(t)
	b.okItem(t, b.pullOne(t, context.Background(), s.h.FaultOperation), fmt.Sprintf("after the %d", status))
	b.clean(t)
}

// rateLimited answers the fault operation's calls with 429 and a
// Retry-After (delay-seconds, or an HTTP date): rate_limited with the
// Retry-After; nothing reaches the platform until it has passed, even once
// the platform would answer.
func (s *pullSuite) rateLimited(t *testing.T, b *pullBench, date bool) {
	retryAfter := strconv.Itoa(int(suiteRetryAfter / time.Second))
	if date {
		retryAfter = b.clock.Now().Add(suiteRetryAfter).UTC().Format(http.TimeFormat)
	}
	b.faults(t, platform.Rule{ErrorRate: 1, Statuses: []int{http.StatusTooManyRequests}, RetryAfter: retryAfter})
	item := b.pullOne(t, context.Background(), s.h.FaultOperation)
	err := outcome(t, item, connectors.OutcomeRateLimited, "an injected 429")
	if ce, ok := errors.AsType[*connectors.Error](err); !ok || ce.RetryAfter != suiteRetryAfter {
		t.Errorf("an injected 429: error %v, want a *connectors.Error with Retry-After %s (from %q)", err, suiteRetryAfter, retryAfter)
	}

	// The platform would answer now, but the wait is not over.
	b.faults(t)
	before := b.pair.Mock.Stats().Requests
	ctx, cancel := context.WithTimeout(context.Background(), pullHeldDeadline)
	defer cancel()
	outcome(t, b.pullOne(t, ctx, s.h.FaultOperation), connectors.OutcomeRateLimited, "a pull within the Retry-After")
	if n := b.pair.Mock.Stats().Requests - before; n != 0 {
		t.Fatalf("%d requests reached the platform before its Retry-After was over", n)
	}

	// Once it is over, pulls succeed again.
	b.clock.Advance(suiteRetryAfter)
	deadline := time.Now().Add(suiteMaxWait)
	for {
		item := b.pullOne(t, context.Background(), s.h.FaultOperation)
		if item.Err == nil {
			b.okItem(t, item, "after the Retry-After")
			break
		}
		outcome(t, item, connectors.OutcomeRateLimited, "a pull while waiting for the Retry-After to pass")
		if time.Now().After(deadline) {
			t.Fatalf("still rate_limited %s after the Retry-After passed", suiteMaxWait)
		}
		time.Sleep(pullPoll) // bounded poll
	}
	b.clean(t)
}

// spoiled cuts the answers of the fault operation's calls, or makes them
// invalid JSON: a failure, never data.
func (s *pullSuite) spoiled(t *testing.T, b *pullBench, rule platform.Rule, kind string) {
	b.faults(t, rule)
	item := b.pullOne(t, context.Background(), s.h.FaultOperation)
	if got := connectors.OutcomeOf(item.Err); got != connectors.OutcomeError && got != connectors.OutcomeUnavailable {
		t.Fatalf("%s: %s is %s (%v), want error or unavailable", kind, item.Operation, got, item.Err)
	}
	if n := b.pair.Mock.Stats().Injected[kind]; n < 1 {
		t.Fatalf("%d %s faults injected: the subtest proves nothing", n, kind)
	}
	b.faults(t)
	b.okItem(t, b.pullOne(t, context.Background(), s.h.FaultOperation), "after the "+kind)
	b.clean(t)
}

// drift changes one field of a call's success answer: an error naming the
// field, or wrapping the decoding error that says what did not decode.
func (s *pullSuite) drift(t *testing.T, b *pullBench, op, call string, d platform.Drift, field string) {
	b.faults(t, platform.Rule{Operations: []string{call}, Drift: []platform.Drift{d}})
	item := b.pullOne(t, context.Background(), op)
	err := outcome(t, item, connectors.OutcomeError, "a drifted answer ("+d.Kind+" "+d.Path+")")
	if !namesField(err.Error(), field) {
		t.Errorf("error %q does not name the field %q", err, field)
	}
	if n := b.pair.Mock.Stats().Injected["drift"]; n < 1 {
		t.Fatalf("%d drift faults injected: the subtest proves nothing", n)
	}
	b.faults(t)
	b.okItem(t, b.pullOne(t, context.Background(), op), "after the drift")
	b.clean(t)
}

// outage takes the platform down (503 with Retry-After, by the suite's
// clock): the breaker opens, then refuses without calling the platform;
// once the outage is over and the open timeout passed, a pull succeeds and
// closes it.
func (s *pullSuite) outage(t *testing.T, b *pullBench) {
	b.okItem(t, b.pullOne(t, context.Background(), s.h.FaultOperation), "before the outage") // a token held
	now := b.clock.Now()
	// Operations: empty, not nil: the whole platform is down.
	b.faults(t, platform.Rule{Operations: []string{}, Outage: &platform.Window{Start: now.Add(-time.Minute), End: now.Add(time.Hour)}})

	for pull := 1; b.pair.Puller.Status().Breaker != "open"; pull++ {
		if pull > suiteBreakerTrips {
			t.Fatalf("breaker %s after %d failing pulls, want open", b.pair.Puller.Status().Breaker, suiteBreakerTrips)
		}
		outcome(t, b.pullOne(t, context.Background(), s.h.FaultOperation), connectors.OutcomeUnavailable, fmt.Sprintf("pull %d during the outage", pull))
	}
	before := b.pair.Mock.Stats().Requests
	item := b.pullOne(t, context.Background(), s.h.FaultOperation)
	err := outcome(t, item, connectors.OutcomeUnavailable, "a pull while the breaker is open")
	if _, ok := errors.AsType[*connectors.BreakerOpenError](err); !ok {
		t.Errorf("while open: %v, want a *connectors.BreakerOpenError", err)
	}
	if n := b.pair.Mock.Stats().Requests - before; n != 0 {
		t.Fatalf("the open breaker let %d requests reach the platform", n)
	}

	// The outage ends (the mock's clock); the breaker lets a probe through
	// once its open timeout has passed (wall clock).
	b.clock.Advance(time.Hour)
	deadline := time.Now().Add(suiteMaxWait)
	for b.pair.Puller.Status().Breaker == "open" {
		if time.Now().After(deadline) {
			t.Fatalf("the breaker is still open %s after the outage", suiteMaxWait)
		}
		time.Sleep(suiteOpenTimeout / 10) // bounded poll
	}
	b.okItem(t, b.pullOne(t, context.Background(), s.h.FaultOperation), "after the outage")
	if st := b.pair.Puller.Status(); st.Breaker != "closed" {
		t.Errorf("breaker %s after a successful probe, want closed", st.Breaker)
	}
	b.clean(t)
}

// secretRecorder keeps the credentials the puller sends and the values the
// suite knows to be secret or personal.
type secretRecorder struct {
	headers []string

	mu       sync.Mutex
	secrets  map[string]bool
	requests int
}

// minSecret is the shortest value looked for: shorter ones ("M", "1990")
// would match innocent text.
const minSecret = 6

func newSecretRecorder(h PullHarness) *secretRecorder {
	r := &secretRecorder{headers: h.SecretHeaders, secrets: map[string]bool{}}
	for _, s := range h.Secrets {
		r.add(s)
	}
	q := h.Known()
	if q.Person.INS != nil {
		r.add(q.Person.INS.Value)
		r.add(q.Person.INS.Value[:min(13, len(q.Person.INS.Value))])
	}
	r.add(q.Person.BirthFamilyName)
	r.add(q.Person.UsedName)
	for _, g := range q.Person.GivenNames {
		r.add(g)
	}
	r.add(q.AccessToken.Reveal())
	return r
}

// add records s; the caller holds no lock or the lock (it is only called
// under it, or before any request).
func (r *secretRecorder) add(s string) {
	if s = strings.TrimSpace(s); len(s) >= minSecret {
		r.secrets[s] = true
	}
}

func (r *secretRecorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.requests++
		if v := req.Header.Get("Authorization"); v != "" {
			r.add(v)
			if _, cred, ok := strings.Cut(v, " "); ok {
				r.add(cred)
			}
		}
		for _, h := range r.headers {
			r.add(req.Header.Get(h))
		}
		r.mu.Unlock()
		next.ServeHTTP(w, req)
	})
}

func (r *secretRecorder) values() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.secrets))
	for s := range r.secrets {
		out = append(out, s)
	}
	return out
}

func (r *secretRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests
}
