package coffrefort

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/relais-dev/relais/mocks/platform"
)

// The faults are the runtime's (mocks/platform tests them); these tests
// check how they meet the safe: its error format, its state, its log.

func (f *fixture) setFaults(t testing.TB, rules ...platform.Rule) {
	t.Helper()
	if err := f.srv.SetFaults(platform.Faults{Rules: rules}); err != nil {
		t.Fatalf("setting faults: %v", err)
	}
}

// createMany sends n beneficiary creations with distinct distant ids and
// returns the statuses.
func (f *fixture) createMany(t *testing.T, tok string, n int) []int {
	t.Helper()
	statuses := make([]int, n)
	for i := range n {
		rsp := f.do(t, request{method: "POST", path: "/api/v3/beneficiaries", token: tok, contentType: "application/json",
			body: fmt.Appendf(nil, `{"first_name":"A","last_name":"B","birth_date":"2000-01-01","distant_id":"d-%d"}`, i)})
		statuses[i] = rsp.status
	}
	return statuses
}

// waitInjected polls the runtime's counter of a fault kind until it
// reaches n (bounded: a test that waits longer fails).
func (f *fixture) waitInjected(t *testing.T, kind string, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for f.srv.Stats().Injected[kind] < n {
		if time.Now().After(deadline) {
			t.Fatalf("%s faults injected: %d, want %d", kind, f.srv.Stats().Injected[kind], n)
		}
		time.Sleep(time.Millisecond) // bounded poll
	}
}

func TestFaultErrorRateCreatesNothing(t *testing.T) {
	t.Parallel()
	const n = 400
	run := func() []int {
		f := setup(t, Options{Seed: 7})
		tok := f.token(t, "")
		f.setFaults(t, platform.Rule{ErrorRate: 0.3})
		statuses := f.createMany(t, tok, n)

		created, injected := 0, 0
		for _, s := range statuses {
			switch s {
			case http.StatusCreated:
				created++
			case http.StatusServiceUnavailable:
				injected++
			default:
				t.Fatalf("unexpected status %d", s)
			}
		}
		if injected < n*20/100 || injected > n*40/100 {
			t.Errorf("%d of %d requests injected, want about 30%%", injected, n)
		}
		st := f.srv.Stats()
		if st.Beneficiaries != int64(created) || st.Injected["error"] != int64(injected) || st.ResponseViolations != 0 {
			t.Errorf("stats = %+v; %d created, %d injected: an injected error created something", st, created, injected)
		}
		if _, inLog := countRoute(f.srv.Log(), "beneficiaries.create"); inLog != injected {
			t.Errorf("log marks %d injected, want %d", inLog, injected)
		}
		return statuses
	}
	if a, b := run(), run(); !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed injected different requests")
	}
}

func TestFaultAnswersInTheSafesFormat(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	tok := f.token(t, "")
	for _, tc := range []struct {
		status     int
		retryAfter string
	}{{429, "2"}, {503, "Fri, 14 Mar 2025 09:30:00 GMT"}, {502, ""}, {422, ""}} {
		f.setFaults(t, platform.Rule{Operations: []string{"documents.get"}, Status: tc.status, RetryAfter: tc.retryAfter})
		rsp := f.do(t, request{method: "GET", path: "/api/v3/documents/1", token: tok})
		wantStatus(t, rsp, tc.status)
		if got := rsp.header.Get("Retry-After"); got != tc.retryAfter {
			t.Errorf("%d: Retry-After = %q, want %q", tc.status, got, tc.retryAfter)
		}
		var p problem
		rsp.decode(t, &p)
		if p.Status != tc.status || p.Title != http.StatusText(tc.status) || rsp.header.Get("Content-Type") != contentTypeProblem {
			t.Errorf("%d: injected body = %s", tc.status, rsp.body)
		}
		if tc.status == 422 && len(p.Violations) != 1 {
			t.Errorf("an injected 422 has no violation, as the contract wants: %s", rsp.body)
		}
		log := f.srv.Log()
		if e := log[len(log)-1]; !e.Injected() || e.Fault != FaultError || e.Status != tc.status || e.RetryAfter != tc.retryAfter || e.Route != "documents.get" {
			t.Errorf("%d: log entry = %+v", tc.status, e)
		}
	}
}

func TestFaultStatusesMix(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	tok := f.token(t, "")
	f.setFaults(t, platform.Rule{ErrorRate: 1, Statuses: []int{503, 429}})
	seen := map[int]int{}
	for _, s := range f.createMany(t, tok, 40) {
		seen[s]++
	}
	if len(seen) != 2 || seen[503] == 0 || seen[429] == 0 {
		t.Fatalf("statuses = %v, want a mix of 503 and 429", seen)
	}
	if st := f.srv.Stats(); st.Beneficiaries != 0 || st.Injected["error"] != 40 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestFaultOutageWindow(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{TokenTTL: 72 * time.Hour})
	tok := f.token(t, "")
	start := f.clock.Now().Add(time.Minute)
	f.setFaults(t, platform.Rule{Outage: &platform.Window{Start: start, End: start.Add(time.Hour)}})
	get := request{method: "GET", path: "/api/v3/beneficiaries?distantId=x", token: tok}

	wantStatus(t, f.do(t, get), http.StatusOK)
	f.clock.Advance(time.Minute)
	rsp := f.do(t, get)
	wantStatus(t, rsp, http.StatusServiceUnavailable)
	if rsp.header.Get("Retry-After") != "3600" {
		t.Fatalf("Retry-After = %q, want the seconds left", rsp.header.Get("Retry-After"))
	}
	if log := f.srv.Log(); log[len(log)-1].Fault != FaultOutage {
		t.Fatalf("log entry = %+v", log[len(log)-1])
	}
	wantStatus(t, f.do(t, request{method: "POST", path: "/api/token", contentType: "application/json", body: []byte(`{}`)}), http.StatusServiceUnavailable)
	f.clock.Advance(time.Hour - time.Nanosecond)
	wantStatus(t, f.do(t, get), http.StatusServiceUnavailable)
	f.clock.Advance(time.Nanosecond)
	wantStatus(t, f.do(t, get), http.StatusOK)

	// An open-ended outage lasts until the faults change.
	f.setFaults(t, platform.Rule{Outage: &platform.Window{Start: f.clock.Now()}})
	f.clock.Advance(24 * time.Hour)
	wantStatus(t, f.do(t, get), http.StatusServiceUnavailable)
}

func TestFaultLatencyHonoursCancellation(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	f.setFaults(t, platform.Rule{Operations: []string{"documents.get"}, Latency: &platform.Latency{Median: platform.Duration(time.Hour)}})
	tok := f.token(t, "")

	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := f.send(request{method: "GET", path: "/api/v3/documents/1", token: tok, ctx: ctx})
		errc <- err
	}()
	f.waitInjected(t, "latency", 1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("client error = %v, want context.Canceled", err)
	}
	// Close waits for the handler: it returns only if the wait ended.
	f.ts.Close()
	log := f.srv.Log()
	if e := log[len(log)-1]; e.Route != "documents.get" || e.Status != statusClientClosed {
		t.Fatalf("log entry = %+v, want a 499", e)
	}
}

func TestFaultHangLeavesNoTrace(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	tok := f.token(t, "")
	bid := f.createBeneficiary(t, tok, "dui-1")
	f.setFaults(t, platform.Rule{Operations: []string{"documents.create"}, HangRate: 1})

	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		req := uploadRequest(t, tok, "k-hang", bid, []byte("%PDF"))
		req.ctx = ctx
		_, err := f.send(req)
		errc <- err
	}()
	f.waitInjected(t, "hang", 1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("client error = %v, want context.Canceled", err)
	}
	f.ts.Close()
	if n := len(f.srv.Documents()); n != 0 {
		t.Fatalf("a hung upload stored %d documents", n)
	}
	log := f.srv.Log()
	if e := log[len(log)-1]; e.Route != "documents.create" || e.Status != statusClientClosed || e.IdempotencyKey != "k-hang" {
		t.Fatalf("log entry = %+v", e)
	}
}

// The response faults act on the answer of a request the safe processed:
// a retry with the same key replays it and stores nothing twice.
func TestFaultsOnTheAnswerKeepDeduplication(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		rule  platform.Rule
		check func(t *testing.T, rsp response, err error)
	}{
		{"truncate", platform.Rule{TruncateRate: 1}, func(t *testing.T, _ response, err error) {
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("reading a truncated answer: %v, want io.ErrUnexpectedEOF", err)
			}
		}},
		{"malformed", platform.Rule{MalformedRate: 1}, func(t *testing.T, rsp response, err error) {
			if err != nil || rsp.status != http.StatusCreated || json.Valid(rsp.body) {
				t.Errorf("malformed answer = %d %s, %v; want a 201 that is not JSON", rsp.status, rsp.body, err)
			}
		}},
		{"drift", platform.Rule{Drift: []platform.Drift{{Kind: platform.DriftRename, Path: "/id", To: "document_id"}}}, func(t *testing.T, rsp response, err error) {
			var doc map[string]any
			if err != nil || json.Unmarshal(rsp.body, &doc) != nil || doc["id"] != nil || doc["document_id"] == nil {
				t.Errorf("drifted answer = %d %s, %v; want document_id instead of id", rsp.status, rsp.body, err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, Options{})
			tok := f.token(t, "")
			bid := f.createBeneficiary(t, tok, "dui-1")
			rule := tc.rule
			rule.Operations = []string{"documents.create"}
			f.setFaults(t, rule)
			rsp, err := f.send(uploadRequest(t, tok, "k-1", bid, []byte("%PDF-1.7")))
			tc.check(t, rsp, err)

			f.setFaults(t)
			again := f.do(t, uploadRequest(t, tok, "k-1", bid, []byte("%PDF-1.7")))
			wantStatus(t, again, http.StatusCreated)
			if again.header.Get(headerReplayed) != "true" {
				t.Error("the retry was not a replay")
			}
			if got := f.srv.CreatedPerKey(); len(got) != 1 || got["k-1"] != 1 || len(f.srv.Documents()) != 1 {
				t.Errorf("created per key %v: want k-1 once", got)
			}
			log := f.srv.Log()
			want := FaultAltered
			if tc.name == "truncate" {
				want = FaultTruncate
			}
			if e := log[len(log)-2]; e.Fault != want || e.Route != "documents.create" || e.Status != http.StatusCreated {
				t.Errorf("log entry = %+v, want fault %s", e, want)
			}
			if e := log[len(log)-1]; e.Fault != "" {
				t.Errorf("the clean replay is logged with fault %q", e.Fault)
			}
			if n := f.srv.Stats().Injected[tc.name]; n != 1 {
				t.Errorf("%s injected %d times, want 1", tc.name, n)
			}
		})
	}
}

func TestFaultsOnlyOnTheirOperations(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	f.setFaults(t, platform.Rule{Operations: []string{"documents.create"}, ErrorRate: 1})
	tok := f.token(t, "")
	bid := f.createBeneficiary(t, tok, "dui-1")
	wantStatus(t, f.do(t, uploadRequest(t, tok, "k", bid, []byte("a"))), http.StatusServiceUnavailable)
	wantStatus(t, f.do(t, request{method: "GET", path: "/api/v3/beneficiaries/1/documents", token: tok}), http.StatusOK)
	st := f.srv.Stats()
	if st.Injected["error"] != 1 || st.Documents != 0 || len(f.srv.CreatedPerKey()) != 0 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestSetFaultsNamesTheFaultyField(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	err := s.SetFaults(platform.Faults{Rules: []platform.Rule{{Operations: []string{"documents.upload"}}}})
	if fe, ok := errors.AsType[*platform.FieldError](err); !ok || fe.Field != "rules[0].operations[0]" || !strings.Contains(err.Error(), "documents.create") {
		t.Fatalf("error = %v, want a FieldError listing the operations", err)
	}
	if len(s.Faults().Rules) != 0 {
		t.Fatal("rejected faults were kept")
	}
}
