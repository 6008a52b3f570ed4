package coffrefort

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

func TestControlAPI(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	control := func(method, path, body string) response {
		return f.do(t, request{method: method, path: "/__control/" + path, contentType: "application/json", body: []byte(body)})
	}

	rsp := control("PUT", "faults", `{"error_rate":1,"statuses":[429],"retry_after":"5","latency":"1ms","routes":["documents.get"]}`)
	wantStatus(t, rsp, http.StatusOK)
	if got := f.srv.Faults(); got.ErrorRate != 1 || got.Latency != time.Millisecond || got.RetryAfter != "5" || len(got.Routes) != 1 {
		t.Fatalf("faults after PUT = %+v", got)
	}
	rsp = control("GET", "faults", "")
	var echoed map[string]any
	rsp.decode(t, &echoed)
	if rsp.status != 200 || echoed["latency"] != "1ms" || echoed["retry_after"] != "5" {
		t.Fatalf("GET faults = %d %s", rsp.status, rsp.body)
	}

	for _, bad := range []string{`{"error_rate":2}`, `{"latency":"1s","unknown":true}`, `{"status":200}`, `not json`, `{"routes":["nope"]}`} {
		rsp := control("PUT", "faults", bad)
		var p problem
		rsp.decode(t, &p)
		if rsp.status != http.StatusBadRequest || p.Detail == "" {
			t.Errorf("PUT %s = %d %s, want 400", bad, rsp.status, rsp.body)
		}
	}
	if f.srv.Faults().ErrorRate != 1 {
		t.Fatal("a rejected PUT changed the faults")
	}

	// Faults apply to the API, never to the control routes.
	tok := f.token(t, "")
	rsp = f.do(t, request{method: "GET", path: "/api/v3/documents/1", token: tok})
	wantStatus(t, rsp, http.StatusTooManyRequests)
	if rsp.header.Get("Retry-After") != "5" {
		t.Fatalf("Retry-After = %q", rsp.header.Get("Retry-After"))
	}

	rsp = control("GET", "stats", "")
	wantStatus(t, rsp, http.StatusOK)
	var st struct {
		Requests           int64            `json:"requests"`
		Injected           int64            `json:"injected"`
		TokensIssued       int64            `json:"tokens_issued"`
		Beneficiaries      int64            `json:"beneficiaries"`
		Documents          int64            `json:"documents"`
		DuplicateRequests  int64            `json:"duplicate_requests"`
		ContractViolations int64            `json:"contract_violations"`
		ByRoute            map[string]int64 `json:"by_route"`
	}
	dec := json.NewDecoder(bytes.NewReader(rsp.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		t.Fatalf("decoding stats %s: %v", rsp.body, err)
	}
	if st.Requests != 2 || st.Injected != 1 || st.TokensIssued != 1 || st.ByRoute["documents.get"] != 1 || len(st.ByRoute) != len(RouteNames()) {
		t.Fatalf("stats = %+v: control requests must not count", st)
	}

	wantStatus(t, control("DELETE", "faults", ""), http.StatusNoContent)
	if got := f.srv.Faults(); got.ErrorRate != 0 || got.Routes != nil {
		t.Fatalf("faults after DELETE = %+v", got)
	}
	wantStatus(t, f.do(t, request{method: "GET", path: "/api/v3/documents/1", token: tok}), http.StatusNotFound)

	f.createBeneficiary(t, tok, "dui-1")
	wantStatus(t, control("POST", "reset", ""), http.StatusNoContent)
	if st := f.srv.Stats(); st.Requests != 0 || st.Beneficiaries != 0 {
		t.Fatalf("stats after reset = %+v", st)
	}
	if len(f.srv.Log()) != 0 {
		t.Fatal("control requests were logged")
	}
	wantStatus(t, control("GET", "nothing", ""), http.StatusNotFound)
}
