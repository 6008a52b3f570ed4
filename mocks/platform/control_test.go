package platform_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/relais-dev/relais/mocks/platform"
)

func TestControlAPIRoundTrip(t *testing.T) {
	t.Parallel()
	f := setup(t)
	expect(t, f.do(t, newLetter("good", "", letterBody)), http.StatusCreated)
	in := `{"rules":[
		{"operations":["listPeople"],"latency":{"distribution":"lognormal","median":"20ms","p99":250},"error_rate":0.1,"statuses":[502,503],"retry_after":"5"},
		{"operations":["createLetter","getLetter"],"drift":[{"kind":"retype","path":"/pages","to":"string"}],"malformed_rate":0.5,"truncate_rate":0.25,"hang_rate":0.01,
		 "outage":{"start":"2026-03-02T10:00:00Z","end":"2026-03-02T11:00:00Z"}}]}`
	r := f.do(t, call{method: http.MethodPut, path: "/_mock/faults", contentType: "application/json", body: in})
	expect(t, r, http.StatusOK)
	want := platform.Faults{Rules: []platform.Rule{
		{
			Operations: []string{"listPeople"},
			Latency:    &platform.Latency{Distribution: "lognormal", Median: platform.Duration(20 * time.Millisecond), P99: platform.Duration(250 * time.Millisecond)},
			ErrorRate:  0.1, Statuses: []int{502, 503}, RetryAfter: "5",
		},
		{
			Operations:    []string{"createLetter", "getLetter"},
			Drift:         []platform.Drift{{Kind: "retype", Path: "/pages", To: "string"}},
			MalformedRate: 0.5, TruncateRate: 0.25, HangRate: 0.01,
			Outage: &platform.Window{Start: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)},
		},
	}}
	if got := f.srv.Faults(); !reflect.DeepEqual(got, want) {
		t.Errorf("Faults() = %+v, want %+v", got, want)
	}
	var echoed platform.Faults
	if err := json.Unmarshal(r.body, &echoed); err != nil || !reflect.DeepEqual(echoed, want) {
		t.Errorf("PUT answered %s (%v)", r.body, err)
	}
	if !strings.Contains(string(r.body), `"median":"20ms","p99":"250ms"`) {
		t.Errorf("durations are not written as Go durations: %s", r.body)
	}

	r = f.do(t, call{method: http.MethodGet, path: "/_mock/faults"})
	expect(t, r, http.StatusOK)
	var got platform.Faults
	if err := json.Unmarshal(r.body, &got); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("GET /_mock/faults = %s (%v)", r.body, err)
	}

	// Control requests are not counted; API requests are.
	expect(t, f.do(t, call{method: http.MethodGet, path: "/base/health"}), http.StatusOK)
	r = f.do(t, call{method: http.MethodGet, path: "/_mock/stats"})
	expect(t, r, http.StatusOK)
	var st platform.Stats
	if err := json.Unmarshal(r.body, &st); err != nil {
		t.Fatal(err)
	}
	wantStats := platform.Stats{
		Requests:      2,
		ByOperation:   map[string]int64{"createLetter": 1, "getLetter": 0, "health": 1, "listPeople": 0, "uploadDocument": 0},
		PeakPerSecond: 1, // the letter created with a token
		Injected:      map[string]int64{"latency": 0, "error": 0, "hang": 0, "truncate": 0, "malformed": 0, "drift": 0, "outage": 0},
		ByStatus:      map[string]int64{"200": 1, "201": 1},
	}
	if !reflect.DeepEqual(st, wantStats) {
		t.Errorf("stats %+v, want %+v", st, wantStats)
	}

	// Reset clears faults, counters and the handlers' state.
	expect(t, f.do(t, call{method: http.MethodPost, path: "/_mock/reset"}), http.StatusNoContent)
	if fs := f.srv.Faults(); len(fs.Rules) != 0 {
		t.Errorf("faults after reset: %+v", fs)
	}
	if st := f.srv.Stats(); st.Requests != 0 || st.ByOperation["health"] != 0 {
		t.Errorf("stats after reset: %+v", st)
	}
	if n := f.letters.count(); n != 0 {
		t.Errorf("OnReset was not called: %d letters", n)
	}
}

func TestControlAPIRefusesInvalidFaults(t *testing.T) {
	t.Parallel()
	f := setup(t)
	valid := `{"rules":[{"error_rate":0.5}]}`
	expect(t, f.do(t, call{method: http.MethodPut, path: "/_mock/faults", body: valid}), http.StatusOK)

	cases := map[string]string{
		`{"rules":[{"eror_rate":0.5}]}`:                                                                      `unknown field "eror_rate"`,
		`{"rules":[{"error_rate":1.5}]}`:                                                                     `rules[0].error_rate: 1.5 is not within [0, 1]`,
		`{"rules":[{},{"hang_rate":-0.1}]}`:                                                                  `rules[1].hang_rate: -0.1 is not within [0, 1]`,
		`{"rules":[{"status":200}]}`:                                                                         `rules[0].status: 200 is not a 4xx or 5xx status`,
		`{"rules":[{"statuses":[503,302]}]}`:                                                                 `rules[0].statuses[1]: 302 is not a 4xx or 5xx status`,
		`{"rules":[{"retry_after":"soon"}]}`:                                                                 `rules[0].retry_after: "soon" is neither delay-seconds nor an HTTP date`,
		`{"rules":[{"operations":["listPeople","deleteAll"]}]}`:                                              `rules[0].operations[1]: unknown operationId "deleteAll" (known: createLetter, getLetter, health, listPeople, uploadDocument)`,
		`{"rules":[{"latency":{"distribution":"lognormal","median":"2s","p99":"1s"}}]}`:                      `rules[0].latency.p99: 1s is below median 2s`,
		`{"rules":[{"latency":{"distribution":"lognormal","p99":"1s"}}]}`:                                    `rules[0].latency.median: must be positive`,
		`{"rules":[{"latency":{"distribution":"gaussian"}}]}`:                                                `rules[0].latency.distribution: "gaussian" is not one of`,
		`{"rules":[{"latency":{"median":"1s","max":"2s"}}]}`:                                                 `rules[0].latency.max: is not used by distribution "fixed"`,
		`{"rules":[{"latency":{"distribution":"uniform","min":"2s","max":"1s"}}]}`:                           `rules[0].latency.max: 1s is below min 2s`,
		`{"rules":[{"latency":{"median":"-1s"}}]}`:                                                           `rules[0].latency.median: -1s is negative`,
		`{"rules":[{"latency":{"median":"soon"}}]}`:                                                          `time: invalid duration "soon"`,
		`{"rules":[{},{"drift":[{"kind":"remove","path":"/a"},{"kind":"retype","path":"/a","to":"date"}]}]}`: `rules[1].drift[1].to: "date" is not a JSON type`,
		`{"rules":[{"drift":[{"kind":"rename","path":"/a"}]}]}`:                                              `rules[0].drift[0].to: is required by kind "rename"`,
		`{"rules":[{"drift":[{"kind":"rename","path":"/a/*","to":"b"}]}]}`:                                   `rules[0].drift[0].path: a rename must end with a member name`,
		`{"rules":[{"drift":[{"kind":"remove","path":"a"}]}]}`:                                               `rules[0].drift[0].path: "a" is not a JSON pointer`,
		`{"rules":[{"drift":[{"kind":"remove","path":"/a~2"}]}]}`:                                            `rules[0].drift[0].path: "/a~2" has a "~" not followed by 0 or 1`,
		`{"rules":[{"drift":[{"kind":"mangle","path":"/a"}]}]}`:                                              `rules[0].drift[0].kind: "mangle" is not one of`,
		`{"rules":[{"outage":{"start":"2026-03-02T10:00:00Z","end":"2026-03-02T09:00:00Z"}}]}`:               `rules[0].outage.end: 2026-03-02T09:00:00Z is not after start 2026-03-02T10:00:00Z`,
		`{"rules":[]} {}`: `trailing data`,
		`[]`:              `cannot unmarshal array`,
	}
	for body, want := range cases {
		r := f.do(t, call{method: http.MethodPut, path: "/_mock/faults", body: body})
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", body, r.status)
			continue
		}
		var p struct {
			Status int
			Detail string
		}
		if err := json.Unmarshal(r.body, &p); err != nil || p.Status != 400 || !strings.Contains(p.Detail, want) {
			t.Errorf("%s:\n got %s\nwant a detail with %q", body, r.body, want)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("%s: Content-Type %q", body, ct)
		}
	}
	// A refused configuration leaves the active one in place.
	if fs := f.srv.Faults(); len(fs.Rules) != 1 || fs.Rules[0].ErrorRate != 0.5 {
		t.Errorf("faults after refusals: %+v", fs)
	}
}

func TestControlAPIRoutes(t *testing.T) {
	t.Parallel()
	f := setup(t)
	r := f.do(t, call{method: http.MethodDelete, path: "/_mock/faults"})
	expect(t, r, http.StatusMethodNotAllowed)
	if r.header.Get("Allow") != "GET, PUT" {
		t.Errorf("Allow %q", r.header.Get("Allow"))
	}
	expect(t, f.do(t, call{method: http.MethodGet, path: "/_mock/reset"}), http.StatusMethodNotAllowed)
	expect(t, f.do(t, call{method: http.MethodGet, path: "/_mock/nothing"}), http.StatusNotFound)
	// Faults never apply to the control API.
	f.setFaults(t, platform.Faults{Rules: []platform.Rule{{Status: 503, Outage: &platform.Window{}}}})
	expect(t, f.do(t, call{method: http.MethodGet, path: "/_mock/stats"}), http.StatusOK)
	if n := f.srv.Stats().Requests; n != 0 {
		t.Errorf("control requests counted: %d", n)
	}
}

func TestMaxBody(t *testing.T) {
	t.Parallel()
	f := setup(t, func(c *platform.Config) { c.MaxBody = 16 })
	r := f.do(t, newLetter("good", "", letterBody))
	expect(t, r, http.StatusRequestEntityTooLarge)
	if p := r.problem(t); p.Code != string(platform.KindInvalidRequest) {
		t.Errorf("code %q", p.Code)
	}
	if st := f.srv.Stats(); st.Violations != 1 {
		t.Errorf("stats %+v", st)
	}
}
