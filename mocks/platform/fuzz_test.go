package platform_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/relais-dev/relais/mocks/platform"
)

// FuzzControlFaults sends arbitrary bodies to PUT /_mock/faults: the answer
// is 200 with faults that survive a round trip, or 400 with a detail, and
// never anything else.
func FuzzControlFaults(f *testing.F) {
	for _, seed := range []string{
		`{"rules":[{"operations":["listPeople"],"latency":{"distribution":"lognormal","median":"20ms","p99":250},"error_rate":0.1,"statuses":[502,503],"retry_after":"5"}]}`,
		`{"rules":[{"drift":[{"kind":"retype","path":"/data/items/*/age","to":"string"},{"kind":"rename","path":"/a~1b","to":"c"}],"truncate_rate":1}]}`,
		`{"rules":[{"outage":{"start":"2026-03-02T10:00:00+01:00","end":"2026-03-02T11:00:00Z"},"retry_after":"Mon, 02 Mar 2026 09:05:00 GMT"}]}`,
		`{"rules":[{"latency":{"distribution":"uniform","min":1,"max":"2ms"},"hang_rate":0.5,"malformed_rate":0.5}]}`,
		`{"rules":null}`, `{}`, `[]`, `{"rules":[{"error_rate":"x"}]}`, ``,
	} {
		f.Add([]byte(seed))
	}
	l := &letters{byID: map[string]letter{}}
	srv := platform.New(platform.Config{Name: "fuzz", Contract: testContract, Operations: l.handlers(), Errors: writeProblem})
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodPut, "/_mock/faults", bytes.NewReader(body)))
		switch rec.Code {
		case http.StatusOK:
			fs, err := platform.DecodeFaults(rec.Body.Bytes())
			if err != nil {
				t.Fatalf("the accepted faults %s do not decode: %v", rec.Body.Bytes(), err)
			}
			if err := fs.Validate(srv.Operations()); err != nil {
				t.Fatalf("the accepted faults %s do not validate: %v", rec.Body.Bytes(), err)
			}
			again, _ := json.Marshal(fs)
			if first := bytes.TrimSpace(rec.Body.Bytes()); !bytes.Equal(again, first) {
				t.Fatalf("round trip changed the faults:\n%s\n%s", first, again)
			}
		case http.StatusBadRequest:
			var p struct{ Detail string }
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Detail == "" {
				t.Fatalf("400 without a detail: %s", rec.Body.Bytes())
			}
		default:
			t.Fatalf("status %d for %q", rec.Code, body)
		}
	})
}

// FuzzApplyDrift applies arbitrary drifts to arbitrary bodies: valid JSON
// stays valid JSON, and a body that did not change comes back as is.
func FuzzApplyDrift(f *testing.F) {
	body := `{"data":{"items":[{"age":34,"nom":"Dupont","prenom":"Jeanne"},{"age":7,"nom":"Dupont","prenom":"Luc"}],"total":2}}`
	for _, seed := range []struct{ body, kind, path, to string }{
		{body, "rename", "/data/items/*/prenom", "prenoms"},
		{body, "remove", "/data/items/*", ""},
		{body, "retype", "/data/items/*/age", "string"},
		{body, "retype", "/data", "array"},
		{`[[1,"2",true,null,{}]]`, "retype", "/*/*", "number"},
		{`{"a~b":{"c/d":1}}`, "rename", "/a~0b/c~1d", "e"},
		{`{"a":1,"b":2}`, "rename", "/a", "b"},
		{`{"a":`, "remove", "/a", ""},
	} {
		f.Add([]byte(seed.body), seed.kind, seed.path, seed.to)
	}
	f.Fuzz(func(t *testing.T, body []byte, kind, path, to string) {
		out, changed, err := platform.ApplyDrift(body, platform.Drift{Kind: kind, Path: path, To: to})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "applying drift: drift[0].") {
				t.Fatalf("error %q does not name the field", err)
			}
			return
		}
		if !changed {
			if !bytes.Equal(out, body) {
				t.Fatalf("unchanged body rewritten: %q -> %q", body, out)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("invalid JSON %q reported as changed", body)
		}
		if !json.Valid(out) {
			t.Fatalf("drift %s %s %s turned %s into invalid JSON %s", kind, path, to, body, out)
		}
	})
}
