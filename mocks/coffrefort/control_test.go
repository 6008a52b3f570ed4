package coffrefort

import (
	"encoding/json"
	"net/http"
	"testing"
)

// The control API is the runtime's; on the mock safe it drives the safe's
// state too.
func TestControlAPI(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	control := func(method, path, body string) response {
		return f.do(t, request{method: method, path: "/_mock/" + path, contentType: "application/json", body: []byte(body)})
	}

	rsp := control("PUT", "faults", `{"rules":[{"operations":["documents.get"],"error_rate":1,"statuses":[429],"retry_after":"5","latency":{"median":"1ms"}}]}`)
	wantStatus(t, rsp, http.StatusOK)
	if got := f.srv.Faults(); len(got.Rules) != 1 || got.Rules[0].RetryAfter != "5" || got.Rules[0].Operations[0] != "documents.get" {
		t.Fatalf("faults after PUT = %+v", got)
	}
	for _, bad := range []string{`{"rules":[{"error_rate":2}]}`, `{"rules":[{"operations":["documents.upload"]}]}`, `{"rules":[],"unknown":true}`, `not json`} {
		rsp := control("PUT", "faults", bad)
		var p problem
		rsp.decode(t, &p)
		if rsp.status != http.StatusBadRequest || p.Detail == "" {
			t.Errorf("PUT %s = %d %s, want 400", bad, rsp.status, rsp.body)
		}
	}
	if len(f.srv.Faults().Rules) != 1 {
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
		Requests    int64            `json:"requests"`
		ByOperation map[string]int64 `json:"by_operation"`
		Injected    map[string]int64 `json:"injected"`
	}
	if err := json.Unmarshal(rsp.body, &st); err != nil {
		t.Fatalf("decoding stats %s: %v", rsp.body, err)
	}
	if st.Requests != 2 || st.Injected["error"] != 1 || st.ByOperation["documents.get"] != 1 || len(st.ByOperation) != len(f.srv.Operations()) {
		t.Fatalf("stats = %+v: control requests must not count", st)
	}

	wantStatus(t, control("PUT", "faults", `{"rules":[]}`), http.StatusOK)
	wantStatus(t, f.do(t, request{method: "GET", path: "/api/v3/documents/1", token: tok}), http.StatusNotFound)

	f.createBeneficiary(t, tok, "dui-1")
	wantStatus(t, control("POST", "reset", ""), http.StatusNoContent)
	if st := f.srv.Stats(); st.Requests != 0 || st.Beneficiaries != 0 || st.TokensIssued != 0 {
		t.Fatalf("stats after reset = %+v", st)
	}
	if len(f.srv.Log()) != 0 {
		t.Fatal("the log survived the reset, or control requests were logged")
	}
	wantStatus(t, f.do(t, request{method: "GET", path: "/api/v3/documents/1", token: tok}), http.StatusUnauthorized)
	wantStatus(t, control("GET", "nothing", ""), http.StatusNotFound)
}
