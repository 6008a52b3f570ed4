package platform_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/relais-dev/relais/mocks/platform"
)

func TestOutageWindowFollowsTheClock(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.setFaults(t, platform.Faults{Rules: []platform.Rule{{
		Operations: []string{"listPeople"},
		Outage:     &platform.Window{Start: epoch.Add(time.Minute), End: epoch.Add(3 * time.Minute)},
	}}})
	get := call{method: http.MethodGet, path: peoplePath}
	expect(t, f.do(t, get), http.StatusOK)

	f.clock.Advance(time.Minute)
	r := f.do(t, get)
	expect(t, r, http.StatusServiceUnavailable)
	if p := r.problem(t); p.Code != string(platform.KindOutage) {
		t.Errorf("outage code %q", p.Code)
	}
	if got := r.header.Get("Retry-After"); got != "120" {
		t.Errorf("Retry-After %q, want 120 (seconds to the end of the outage)", got)
	}
	// Other operations are not in the rule.
	expect(t, f.do(t, call{method: http.MethodGet, path: "/base/health"}), http.StatusOK)

	f.clock.Advance(2 * time.Minute)
	expect(t, f.do(t, get), http.StatusOK)

	st := f.srv.Stats()
	if st.Injected["outage"] != 1 || st.ResponseViolations != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestOpenEndedOutageUsesTheRulesRetryAfter(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.setFaults(t, platform.Faults{Rules: []platform.Rule{{RetryAfter: "30", Outage: &platform.Window{}}}})
	r := f.do(t, newLetter("good", "", letterBody))
	expect(t, r, http.StatusServiceUnavailable)
	if r.header.Get("Retry-After") != "30" {
		t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
	}
	if n := f.letters.count(); n != 0 {
		t.Errorf("the handler ran during an outage")
	}
}

func TestFixedStatusWithRetryAfter(t *testing.T) {
	t.Parallel()
	f := setup(t)
	date := "Mon, 02 Mar 2026 09:05:00 GMT"
	f.setFaults(t, platform.Faults{Rules: []platform.Rule{
		{Operations: []string{"health"}}, // the first matching rule wins: health has no fault
		{Status: http.StatusBadGateway, RetryAfter: date},
	}})
	for range 3 {
		r := f.do(t, newLetter("good", "", letterBody))
		expect(t, r, http.StatusBadGateway)
		if r.header.Get("Retry-After") != date {
			t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
		}
		if p := r.problem(t); p.Code != string(platform.KindInjected) {
			t.Errorf("code %q", p.Code)
		}
	}
	expect(t, f.do(t, call{method: http.MethodGet, path: "/base/health"}), http.StatusOK)
	st := f.srv.Stats()
	if st.Injected["error"] != 3 || st.ResponseViolations != 0 || f.letters.count() != 0 {
		t.Errorf("stats %+v, letters %d", st, f.letters.count())
	}
}

func TestErrorRateIsStatisticallyBoundedAndRepeatable(t *testing.T) {
	t.Parallel()
	f := setup(t, func(c *platform.Config) { c.Seed = 42 })
	rule := platform.Rule{ErrorRate: 0.3, Statuses: []int{500, 503}}
	f.setFaults(t, platform.Faults{Rules: []platform.Rule{rule}})
	const n = 400
	run := func() (seq []int) {
		for range n {
			seq = append(seq, f.do(t, call{method: http.MethodGet, path: "/base/health"}).status)
		}
		return seq
	}
	first := run()
	counts := map[int]int{}
	for _, s := range first {
		counts[s]++
	}
	// Binomial(400, 0.3): mean 120, standard deviation 9.2; allow 5 of them.
	if failed := counts[500] + counts[503]; failed < 74 || failed > 166 {
		t.Errorf("%d injected errors out of %d at rate 0.3 (%v)", failed, n, counts)
	}
	if counts[500] == 0 || counts[503] == 0 || counts[200]+counts[500]+counts[503] != n {
		t.Errorf("statuses %v, want a mix of 200, 500 and 503", counts)
	}
	if got := f.srv.Stats().Injected["error"]; got != int64(counts[500]+counts[503]) {
		t.Errorf("Injected[error] = %d, want %d", got, counts[500]+counts[503])
	}
	// Reset reseeds: the same faults give the same sequence.
	f.srv.Reset()
	f.setFaults(t, platform.Faults{Rules: []platform.Rule{rule}})
	second := run()
	for i := range first {
		if first[i] != second[i] {
			t.Fatalf("request %d: %d then %d after Reset; the seeded sequence does not repeat", i, first[i], second[i])
		}
	}
}

func TestHangEndsWhenTheClientGivesUp(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.setFaults(t, platform.Faults{Rules: []platform.Rule{{HangRate: 1}}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := f.send(call{method: http.MethodGet, path: peoplePath, ctx: ctx})
		done <- err
	}()
	waitFor(t, "the hang to start", func() bool { return f.srv.Stats().Injected["hang"] == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("hung request ended with %v, want context.Canceled", err)
	}
}

func TestHangEndsAtMaxHangWithoutAnswer(t *testing.T) {
	t.Parallel()
	f := setup(t, func(c *platform.Config) { c.MaxHang = 20 * time.Millisecond })
	f.setFaults(t, platform.Faults{Rules: []platform.Rule{{HangRate: 1}}})
	_, err := f.send(call{method: http.MethodGet, path: peoplePath})
	if err == nil {
		t.Fatal("a hang bounded by MaxHang answered; want the connection closed")
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Logf("closed connection reported as %v", err)
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	f := setup(t)
	const d = 30 * time.Millisecond
	f.setFaults(t, platform.Faults{Rules: []platform.Rule{{Operations: []string{"listPeople"}, Latency: &platform.Latency{Median: platform.Duration(d)}}}})
	start := time.Now()
	expect(t, f.do(t, call{method: http.MethodGet, path: peoplePath}), http.StatusOK)
	if took := time.Since(start); took < d {
		t.Errorf("answered in %s with a fixed latency of %s", took, d)
	}
	if got := f.srv.Stats().Injected["latency"]; got != 1 {
		t.Errorf("Injected[latency] = %d", got)
	}

	// Lognormal and uniform latencies are drawn and counted too.
	f.setFaults(t, platform.Faults{Rules: []platform.Rule{
		{Operations: []string{"listPeople"}, Latency: &platform.Latency{Distribution: "lognormal", Median: platform.Duration(time.Millisecond), P99: platform.Duration(3 * time.Millisecond)}},
		{Operations: []string{"health"}, Latency: &platform.Latency{Distribution: "uniform", Min: platform.Duration(time.Millisecond), Max: platform.Duration(2 * time.Millisecond)}},
	}})
	start = time.Now()
	expect(t, f.do(t, call{method: http.MethodGet, path: "/base/health"}), http.StatusOK)
	if took := time.Since(start); took < time.Millisecond {
		t.Errorf("answered in %s with a uniform latency of at least 1ms", took)
	}
	expect(t, f.do(t, call{method: http.MethodGet, path: peoplePath}), http.StatusOK)
	if got := f.srv.Stats().Injected["latency"]; got != 3 {
		t.Errorf("Injected[latency] = %d, want 3", got)
	}
}

func TestLatencyEndsWhenTheClientGivesUp(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.setFaults(t, platform.Faults{Rules: []platform.Rule{{Latency: &platform.Latency{Median: platform.Duration(time.Hour)}}}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := f.send(newLetter("good", "", letterBody).withContext(ctx))
		done <- err
	}()
	waitFor(t, "the latency to start", func() bool { return f.srv.Stats().Injected["latency"] == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("delayed request ended with %v", err)
	}
	if n := f.letters.count(); n != 0 {
		t.Errorf("the handler ran for a client that gave up")
	}
}

func TestTruncatedBody(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.setFaults(t, platform.Faults{Rules: []platform.Rule{{TruncateRate: 1}}})
	r, err := f.send(call{method: http.MethodGet, path: peoplePath})
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("reading a truncated body: %v, want io.ErrUnexpectedEOF", err)
	}
	full := len(`{"data":{"items":[{"age":34,"nom":"Dupont","prenom":"Jeanne"},{"age":7,"nom":"Dupont","prenom":"Luc"}],"total":2}}`)
	if r.header.Get("Content-Length") != strconv.Itoa(full) || len(r.body) != full/2 {
		t.Errorf("Content-Length %s, got %d bytes: want %d announced and %d sent", r.header.Get("Content-Length"), len(r.body), full, full/2)
	}
	if got := f.srv.Stats().Injected["truncate"]; got != 1 {
		t.Errorf("Injected[truncate] = %d", got)
	}
}

func TestMalformedJSON(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.setFaults(t, platform.Faults{Rules: []platform.Rule{{MalformedRate: 1}}})
	for _, c := range []call{{method: http.MethodGet, path: peoplePath}, newLetter("good", "", letterBody), newLetter("", "", letterBody)} {
		r := f.do(t, c)
		if r.status != http.StatusOK && r.status != http.StatusCreated && r.status != http.StatusUnauthorized {
			t.Fatalf("status %d", r.status)
		}
		var v any
		if r.status != http.StatusUnauthorized {
			if err := json.Unmarshal(r.body, &v); err == nil {
				t.Errorf("malformed body %s decodes", r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q changed", ct)
			}
			continue
		}
		// The runtime's own error answers are never altered.
		if err := json.Unmarshal(r.body, &v); err != nil {
			t.Errorf("the 401 answer was altered: %s", r.body)
		}
	}
	if got := f.srv.Stats().Injected["malformed"]; got != 2 {
		t.Errorf("Injected[malformed] = %d, want 2", got)
	}
}

func TestDrift(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		drift []platform.Drift
		want  string
	}{
		{
			"rename in every array element",
			[]platform.Drift{{Kind: "rename", Path: "/data/items/*/prenom", To: "prenoms"}},
			`{"data":{"items":[{"age":34,"nom":"Dupont","prenoms":"Jeanne"},{"age":7,"nom":"Dupont","prenoms":"Luc"}],"total":2}}`,
		},
		{
			"remove a member",
			[]platform.Drift{{Kind: "remove", Path: "/data/total"}},
			`{"data":{"items":[{"age":34,"nom":"Dupont","prenom":"Jeanne"},{"age":7,"nom":"Dupont","prenom":"Luc"}]}}`,
		},
		{
			"retype every age to a string",
			[]platform.Drift{{Kind: "retype", Path: "/data/items/*/age", To: "string"}},
			`{"data":{"items":[{"age":"34","nom":"Dupont","prenom":"Jeanne"},{"age":"7","nom":"Dupont","prenom":"Luc"}],"total":2}}`,
		},
		{
			"remove one element, retype another field",
			[]platform.Drift{{Kind: "remove", Path: "/data/items/0"}, {Kind: "retype", Path: "/data/total", To: "array"}},
			`{"data":{"items":[{"age":7,"nom":"Dupont","prenom":"Luc"}],"total":[2]}}`,
		},
		{
			"absent path changes nothing",
			[]platform.Drift{{Kind: "remove", Path: "/data/nothing/*"}},
			`{"data":{"items":[{"age":34,"nom":"Dupont","prenom":"Jeanne"},{"age":7,"nom":"Dupont","prenom":"Luc"}],"total":2}}`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.setFaults(t, platform.Faults{Rules: []platform.Rule{{Operations: []string{"listPeople"}, Drift: tc.drift}}})
			r := f.do(t, call{method: http.MethodGet, path: peoplePath})
			expect(t, r, http.StatusOK)
			if string(r.body) != tc.want {
				t.Errorf("body\n%s\nwant\n%s", r.body, tc.want)
			}
			if r.header.Get("Content-Length") != strconv.Itoa(len(tc.want)) {
				t.Errorf("Content-Length %s, want %d", r.header.Get("Content-Length"), len(tc.want))
			}
			// Error answers do not drift.
			expect(t, f.do(t, call{method: http.MethodGet, path: "/base/people"}), http.StatusBadRequest)
			st := f.srv.Stats()
			wantDrift := int64(1)
			if tc.name == "absent path changes nothing" {
				wantDrift = 0
			}
			if st.Injected["drift"] != wantDrift || st.ResponseViolations != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestResponseFaultsApplyToReplays(t *testing.T) {
	t.Parallel()
	f := setup(t)
	expect(t, f.do(t, newLetter("good", "key-00000001", letterBody)), http.StatusCreated)
	f.setFaults(t, platform.Faults{Rules: []platform.Rule{{Drift: []platform.Drift{{Kind: "rename", Path: "/id", To: "identifiant"}}}}})
	r := f.do(t, newLetter("good", "key-00000001", letterBody))
	if string(r.body) != `{"identifiant":"L-000001","status":"queued","pages":2}` {
		t.Errorf("replay with drift: %s", r.body)
	}
	// The stored answer itself is untouched.
	f.setFaults(t, platform.Faults{})
	r = f.do(t, newLetter("good", "key-00000001", letterBody))
	if string(r.body) != `{"id":"L-000001","status":"queued","pages":2}` {
		t.Errorf("replay without drift: %s", r.body)
	}
}
