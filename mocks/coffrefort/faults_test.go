package coffrefort

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"
)

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

func TestFaultErrorRate(t *testing.T) {
	t.Parallel()
	const n = 400
	run := func() []int {
		f := setup(t, Options{Seed: 7})
		tok := f.token(t, "")
		f.srv.SetFaults(Faults{ErrorRate: 0.3})
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
		if st.Beneficiaries != int64(created) || st.Injected != int64(injected) {
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

func TestFaultStatuses(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	tok := f.token(t, "")
	f.srv.SetFaults(Faults{ErrorRate: 1, Statuses: []int{503, 429}})
	seen := map[int]int{}
	for _, s := range f.createMany(t, tok, 40) {
		seen[s]++
	}
	if len(seen) != 2 || seen[503] == 0 || seen[429] == 0 {
		t.Fatalf("statuses = %v, want a mix of 503 and 429", seen)
	}

	f.srv.SetFaults(Faults{ErrorRate: 1, Status: 502})
	for _, s := range f.createMany(t, tok, 3) {
		if s != 502 {
			t.Fatalf("status = %d, want 502", s)
		}
	}
	if st := f.srv.Stats(); st.Beneficiaries != 0 || st.Injected != 43 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestFaultRetryAfter(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	tok := f.token(t, "")
	for _, retryAfter := range []string{"2", "Fri, 14 Mar 2025 09:30:00 GMT", ""} {
		f.srv.SetFaults(Faults{ErrorRate: 1, Status: 429, RetryAfter: retryAfter})
		rsp := f.do(t, request{method: "GET", path: "/api/v3/documents/1", token: tok})
		wantStatus(t, rsp, http.StatusTooManyRequests)
		if got := rsp.header.Get("Retry-After"); got != retryAfter {
			t.Errorf("Retry-After = %q, want %q", got, retryAfter)
		}
		var p problem
		rsp.decode(t, &p)
		if p.Status != 429 || rsp.header.Get("Content-Type") != contentTypeProblem {
			t.Errorf("injected body = %s", rsp.body)
		}
		log := f.srv.Log()
		if e := log[len(log)-1]; !e.Injected || e.Status != 429 || e.RetryAfter != retryAfter || e.Route != "documents.get" {
			t.Errorf("log entry = %+v", e)
		}
	}
}

func TestFaultOutageWindow(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{TokenTTL: 72 * time.Hour})
	tok := f.token(t, "")
	start := f.clock.Now().Add(time.Minute)
	f.srv.SetFaults(Faults{OutageStart: start, OutageEnd: start.Add(time.Hour), RetryAfter: "3600"})
	get := request{method: "GET", path: "/api/v3/beneficiaries?distantId=x", token: tok}

	wantStatus(t, f.do(t, get), http.StatusOK)
	f.clock.Advance(time.Minute)
	rsp := f.do(t, get)
	wantStatus(t, rsp, http.StatusServiceUnavailable)
	if rsp.header.Get("Retry-After") != "3600" {
		t.Fatalf("Retry-After = %q", rsp.header.Get("Retry-After"))
	}
	wantStatus(t, f.do(t, request{method: "POST", path: "/api/token", contentType: "application/json", body: []byte(`{}`)}), http.StatusServiceUnavailable)
	f.clock.Advance(time.Hour - time.Nanosecond)
	wantStatus(t, f.do(t, get), http.StatusServiceUnavailable)
	f.clock.Advance(time.Nanosecond)
	wantStatus(t, f.do(t, get), http.StatusOK)

	// An open-ended outage lasts until the faults change.
	f.srv.SetFaults(Faults{OutageStart: f.clock.Now()})
	f.clock.Advance(24 * time.Hour)
	wantStatus(t, f.do(t, get), http.StatusServiceUnavailable)
}

func TestFaultLatency(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	tok := f.token(t, "")
	const latency = 20 * time.Millisecond
	f.srv.SetFaults(Faults{Latency: latency, LatencyJitter: 5 * time.Millisecond})
	start := time.Now()
	wantStatus(t, f.do(t, request{method: "GET", path: "/api/v3/documents/1", token: tok}), http.StatusNotFound)
	if elapsed := time.Since(start); elapsed < latency {
		t.Fatalf("answered in %s, before the %s latency", elapsed, latency)
	}
	if e := f.srv.Log()[1]; e.Injected {
		t.Fatal("latency alone marked the answer injected")
	}
}

func TestFaultLatencyHonoursCancellation(t *testing.T) {
	t.Parallel()
	waiting := make(chan struct{}, 1)
	f := setup(t, Options{}, func(s *Server) {
		s.latencyHook = func() { waiting <- struct{}{} }
	})
	f.srv.SetFaults(Faults{Latency: time.Hour, Routes: []string{"documents.get"}})
	tok := f.token(t, "")

	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := f.send(request{method: "GET", path: "/api/v3/documents/1", token: tok, ctx: ctx})
		errc <- err
	}()
	<-waiting
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

func TestFaultRoutesFilter(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	f.srv.SetFaults(Faults{ErrorRate: 1, Routes: []string{"documents.create"}})
	tok := f.token(t, "")
	bid := f.createBeneficiary(t, tok, "dui-1")
	wantStatus(t, f.do(t, uploadRequest(t, tok, "k", bid, []byte("a"))), http.StatusServiceUnavailable)
	wantStatus(t, f.do(t, request{method: "GET", path: "/api/v3/beneficiaries/1/documents", token: tok}), http.StatusOK)
	st := f.srv.Stats()
	if st.Injected != 1 || st.Documents != 0 || len(f.srv.CreatedPerKey()) != 0 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestFaultsJSON(t *testing.T) {
	t.Parallel()
	var f Faults
	in := `{"latency":"150ms","latency_jitter":20,"error_rate":0.5,"statuses":[503,429],"retry_after":"2",
		"outage_start":"2025-03-14T10:00:00Z","outage_end":"2025-03-14T11:00:00+01:00","routes":["token"]}`
	if err := json.Unmarshal([]byte(in), &f); err != nil {
		t.Fatalf("decoding: %v", err)
	}
	want := Faults{
		Latency: 150 * time.Millisecond, LatencyJitter: 20 * time.Millisecond, ErrorRate: 0.5,
		Statuses: []int{503, 429}, RetryAfter: "2", Routes: []string{"token"},
		OutageStart: time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC),
	}
	if !f.OutageEnd.Equal(want.OutageStart) {
		t.Fatalf("outage_end = %s", f.OutageEnd)
	}
	f.OutageEnd = time.Time{}
	if !reflect.DeepEqual(f, want) {
		t.Fatalf("decoded %+v, want %+v", f, want)
	}

	out, err := json.Marshal(Faults{Latency: 1500 * time.Millisecond, Status: 503})
	if err != nil || string(out) != `{"latency":"1.5s","latency_jitter":"0s","error_rate":0,"status":503}` {
		t.Fatalf("encoded %s, %v", out, err)
	}
	var back Faults
	if err := json.Unmarshal(out, &back); err != nil || back.Latency != 1500*time.Millisecond {
		t.Fatalf("round trip: %+v, %v", back, err)
	}

	for _, bad := range []string{`{"latency":"soon"}`, `{"error_rate":"high"}`, `{"latancy":"1s"}`, `{"latency":1e300}`} {
		if err := json.Unmarshal([]byte(bad), &f); err == nil {
			t.Errorf("%s decoded", bad)
		}
	}
}

func TestFaultsValidate(t *testing.T) {
	t.Parallel()
	now := time.Now()
	for _, f := range []Faults{
		{Latency: -1},
		{LatencyJitter: -1},
		{ErrorRate: 1.5},
		{ErrorRate: -0.1},
		{Status: 200},
		{Statuses: []int{503, 302}},
		{RetryAfter: "soon"},
		{OutageStart: now, OutageEnd: now},
		{Routes: []string{"documents.upload"}},
	} {
		if err := f.Validate(); err == nil {
			t.Errorf("%+v validated", f)
		}
	}
	ok := Faults{Latency: time.Second, ErrorRate: 1, Status: 429, RetryAfter: "Fri, 14 Mar 2025 09:30:00 GMT", OutageEnd: now, Routes: RouteNames()}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid faults rejected: %v", err)
	}

	s := New(Options{})
	s.SetFaults(Faults{ErrorRate: 3, Latency: -time.Second, Status: 200, Statuses: []int{429, 200}})
	if got := s.Faults(); got.ErrorRate != 1 || got.Latency != 0 || got.Status != 503 || !reflect.DeepEqual(got.Statuses, []int{429}) {
		t.Fatalf("clamped faults = %+v", got)
	}
}
