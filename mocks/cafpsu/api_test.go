package cafpsu_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/relais-dev/relais/mocks/cafpsu"
	"github.com/relais-dev/relais/mocks/platform"
)

func TestCalendarInParisTime(t *testing.T) {
	t.Parallel()
	forecast := body(2026, "previsionnel", luciolesEst, 12, nil)
	june := body(2026, "actualisation_juin", luciolesEst, 6, nil)
	for _, tc := range []struct {
		name, at, body string
		status         int
		code           string
	}{
		{"forecast before it opens", "2025-09-30 23:59:59", forecast, 422, "PERIOD_NOT_OPEN"},
		{"forecast on opening", "2025-10-01 00:00:00", forecast, 201, ""},
		{"forecast on its deadline", "2026-02-15 23:59:59", forecast, 201, ""},
		{"forecast the day after", "2026-02-16 00:00:00", forecast, 422, "DEADLINE_PASSED"},
		{"June update in June", "2026-06-30 23:59:59", june, 422, "PERIOD_NOT_OPEN"},
		{"June update on 1 July", "2026-07-01 00:00:00", june, 201, ""},
		{"June update on 10 July", "2026-07-10 23:59:59", june, 201, ""},
		{"June update on 11 July", "2026-07-11 00:00:00", june, 422, "DEADLINE_PASSED"},
		{"actual of 2025 on 31 March", "2026-03-31 23:59:59", body(2025, "reel", luciolesEst, 12, nil), 201, ""},
		{"September update on 12 October", "2026-10-12 12:00:00", body(2026, "actualisation_septembre", luciolesEst, 9, nil), 201, ""},
	} {
		f := setup(t, paris(tc.at))
		a := f.declare(cafpsu.PartnerLucioles, tc.body)
		if tc.status == http.StatusCreated {
			if a.status != http.StatusCreated {
				t.Errorf("%s: %d %s", tc.name, a.status, a.body)
			}
		} else if ptrs := wantProblem(t, a, tc.status, tc.code); !slices.Equal(ptrs, []string{"/year"}) {
			t.Errorf("%s: pointers %v", tc.name, ptrs)
		}
		noContractBreach(t, f.mock)
	}
}

func TestCorrectionKeepsHistory(t *testing.T) {
	t.Parallel()
	f := setup(t, paris("2026-03-10 10:00:00"))
	first := f.declare(cafpsu.PartnerLucioles, body(2025, "reel", luciolesEst, 12, nil))
	if first.status != http.StatusCreated {
		t.Fatalf("first: %d %s", first.status, first.body)
	}
	d1 := first.json(t)
	n1 := d1["declaration_number"].(string)
	if !strings.HasPrefix(n1, "PSU2025R") || d1["version"] != float64(1) || d1["supersedes"] != nil || d1["status"] != "received" ||
		first.header.Get("Location") != "/v1/declarations/"+n1 || d1["deadline"] != "2026-03-31" {
		t.Fatalf("first: %s", first.body)
	}
	tot := d1["totals"].(map[string]any)
	if tot["billed_hours"] != float64(12*2800) || tot["opening_days"] != float64(240) || tot["billing_rate"] != 1.0564 {
		t.Fatalf("totals %v", tot)
	}

	f.clock.Advance(48 * time.Hour)
	f.token = f.tokenOf(cafpsu.DefaultClientID, cafpsu.DefaultClientSecret) // the last one has expired
	second := f.declare(cafpsu.PartnerLucioles, body(2025, "reel", luciolesEst, 12, func(i int) string {
		return `"billed_hours":2810,"attended_hours":2650.5,"psu_hours":2750,"children":28,"opening_days":20`
	}))
	d2 := second.json(t)
	n2 := d2["declaration_number"].(string)
	if second.status != http.StatusCreated || d2["version"] != float64(2) || d2["supersedes"] != n1 ||
		d2["receipt_message"] != "Déclaration reel 2025 reçue le 12/03/2026 (version 2, remplace "+n1+")." {
		t.Fatalf("second: %s", second.body)
	}

	old := f.get("/v1/declarations/" + n1).json(t)
	if old["status"] != "superseded" || old["superseded_by"] != n2 {
		t.Fatalf("first after the correction: %v", old)
	}
	list := f.get("/v1/structures/" + cafpsu.PartnerLucioles + "/declarations?year=2025&kind=reel").json(t)["declarations"].([]any)
	if len(list) != 2 || list[0].(map[string]any)["declaration_number"] != n2 || list[1].(map[string]any)["declaration_number"] != n1 {
		t.Fatalf("history %v", list)
	}
	all := f.get("/v1/structures/" + cafpsu.PartnerLucioles + "/declarations").json(t)["declarations"].([]any)
	if len(all) != 6 { // 4 in the sandbox history, 2 here
		t.Fatalf("%d declarations, want 6", len(all))
	}

	cal := f.get("/v1/structures/" + cafpsu.PartnerLucioles).json(t)["calendar"].([]any)
	actual := cal[1].(map[string]any)
	if actual["year"] != float64(2025) || actual["kind"] != "reel" || actual["state"] != "open" || actual["last_version"] != float64(2) || actual["last_declaration_number"] != n2 {
		t.Fatalf("calendar %v", cal)
	}
	if f.mock.Declared() != 2 {
		t.Fatalf("declared %d", f.mock.Declared())
	}
	noContractBreach(t, f.mock)
}

func TestBusinessRules(t *testing.T) {
	t.Parallel()
	f := setup(t, paris("2026-07-05 10:00:00"))
	fig := func(bad int, figures string) func(int) string {
		return func(i int) string {
			if i == bad {
				return figures
			}
			return `"billed_hours":2800,"attended_hours":2650.5,"psu_hours":2750,"children":28,"opening_days":20`
		}
	}
	june := func(est string, n int, f func(int) string) string { return body(2026, "actualisation_juin", est, n, f) }
	for _, tc := range []struct {
		name, partner, body, code string
		pointers                  []string
	}{
		{"another SIRET", cafpsu.PartnerLucioles, june(`{"siret":"78345612200028","finess":"750012346"}`, 6, nil), "ESTABLISHMENT_MISMATCH", []string{"/establishment/siret"}},
		{"FINESS missing", cafpsu.PartnerLucioles, june(`{"siret":"21759901800017","finess":null}`, 6, nil), "ESTABLISHMENT_MISMATCH", []string{"/establishment/finess"}},
		{"FINESS where there is none", cafpsu.PartnerSandbox, june(`{"siret":"99000001000019","finess":"750012346"}`, 6, nil), "ESTABLISHMENT_MISMATCH", []string{"/establishment/finess"}},
		{"a month missing", cafpsu.PartnerLucioles, june(luciolesEst, 5, nil), "MONTHS_MISMATCH", []string{"/months"}},
		{"a month too many", cafpsu.PartnerLucioles, june(luciolesEst, 7, nil), "MONTHS_MISMATCH", []string{"/months/6/month"}},
		{"a month twice", cafpsu.PartnerLucioles, strings.Replace(june(luciolesEst, 6, nil), "2026-06", "2026-05", 1), "MONTHS_MISMATCH", []string{"/months/5/month", "/months"}},
		{"another year", cafpsu.PartnerLucioles, strings.Replace(june(luciolesEst, 6, nil), "2026-03", "2025-03", 1), "MONTHS_MISMATCH", []string{"/months/2/month", "/months"}},
		{"PSU above billed", cafpsu.PartnerLucioles, june(luciolesEst, 6, fig(3, `"billed_hours":100,"attended_hours":90,"psu_hours":101,"children":3,"opening_days":20`)), "INCONSISTENT_FIGURES", []string{"/months/3/psu_hours"}},
		{"31 days in February", cafpsu.PartnerLucioles, june(luciolesEst, 6, fig(1, `"billed_hours":100,"attended_hours":90,"psu_hours":90,"children":3,"opening_days":29`)), "INCONSISTENT_FIGURES", []string{"/months/1/opening_days"}},
		{"activity while closed", cafpsu.PartnerLucioles, june(luciolesEst, 6, fig(4, `"billed_hours":10,"attended_hours":0,"psu_hours":0,"children":0,"opening_days":0`)), "INCONSISTENT_FIGURES", []string{"/months/4/opening_days"}},
	} {
		ptrs := wantProblem(t, f.declare(tc.partner, tc.body), http.StatusUnprocessableEntity, tc.code)
		if !slices.Equal(ptrs, tc.pointers) {
			t.Errorf("%s: pointers %v, want %v", tc.name, ptrs, tc.pointers)
		}
	}
	// A closed month with no activity is fine (August-like).
	ok := june(luciolesEst, 6, fig(4, `"billed_hours":0,"attended_hours":0,"psu_hours":0,"children":0,"opening_days":0`))
	if a := f.declare(cafpsu.PartnerLucioles, ok); a.status != http.StatusCreated {
		t.Fatalf("closed month: %d %s", a.status, a.body)
	}
	if got := f.mock.Stats().Violations; got != 0 {
		t.Errorf("business errors counted as contract violations: %d", got)
	}
	noContractBreach(t, f.mock)
}

func TestClientsActForTheirStructures(t *testing.T) {
	t.Parallel()
	f := setup(t, paris("2026-01-05 10:00:00"))
	other := f.tokenOf("autre-gestionnaire", "autre-secret")
	if a := f.do(http.MethodGet, "/v1/structures/"+cafpsu.PartnerGalopins, "", "", other, nil); a.status != http.StatusOK {
		t.Fatalf("own structure: %d %s", a.status, a.body)
	}
	wantProblem(t, f.do(http.MethodGet, "/v1/structures/"+cafpsu.PartnerLucioles, "", "", other, nil), http.StatusForbidden, "NOT_YOUR_STRUCTURE")
	wantProblem(t, f.get("/v1/structures/"+cafpsu.PartnerGalopins+"/declarations"), http.StatusForbidden, "NOT_YOUR_STRUCTURE")
	wantProblem(t, f.get("/v1/declarations/PSU2025P000002"), http.StatusForbidden, "NOT_YOUR_STRUCTURE")
	wantProblem(t, f.get("/v1/structures/12345678"), http.StatusNotFound, "STRUCTURE_NOT_FOUND")
	wantProblem(t, f.get("/v1/declarations/PSU2025P999999"), http.StatusNotFound, "DECLARATION_NOT_FOUND")

	oauth := func(a answer, status int, code string) {
		t.Helper()
		if a.status != status || a.json(t)["error"] != code {
			t.Fatalf("got %d %s, want %d %s", a.status, a.body, status, code)
		}
	}
	oauth(f.tokenAnswer(cafpsu.DefaultClientID, "nope", ""), http.StatusUnauthorized, "invalid_client")
	oauth(f.tokenAnswer(cafpsu.DefaultClientID, cafpsu.DefaultClientSecret, "psu.admin"), http.StatusBadRequest, "invalid_scope")
	oauth(f.do(http.MethodPost, "/oauth/token", "application/x-www-form-urlencoded", "grant_type=password&client_id=a&client_secret=b", "", nil), http.StatusBadRequest, "unsupported_grant_type")
	if a := f.tokenAnswer(cafpsu.DefaultClientID, cafpsu.DefaultClientSecret, ""); a.status != http.StatusOK || a.json(t)["scope"] != "psu.declarations" {
		t.Fatalf("token without scope: %d %s", a.status, a.body)
	}

	f.clock.Advance(cafpsu.DefaultTokenTTL)
	a := f.get("/v1/structures/" + cafpsu.PartnerLucioles)
	wantProblem(t, a, http.StatusUnauthorized, "UNAUTHORIZED")
	if a.header.Get("WWW-Authenticate") != "Bearer" {
		t.Error("401 without WWW-Authenticate")
	}
	noContractBreach(t, f.mock)
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	f := setup(t, paris("2026-07-05 10:00:00"))
	key := map[string]string{"Idempotency-Key": "dlv-7"}
	b := body(2026, "actualisation_juin", sandboxEst, 6, nil)
	one := f.do(http.MethodPost, "/v1/structures/"+cafpsu.PartnerSandbox+"/declarations", "application/json", b, f.token, key)
	two := f.do(http.MethodPost, "/v1/structures/"+cafpsu.PartnerSandbox+"/declarations", "application/json", b, f.token, key)
	if one.status != http.StatusCreated || string(one.body) != string(two.body) || two.header.Get("Location") != one.header.Get("Location") {
		t.Fatalf("replay: %d %s / %d %s", one.status, one.body, two.status, two.body)
	}
	other := f.do(http.MethodPost, "/v1/structures/"+cafpsu.PartnerSandbox+"/declarations", "application/json",
		strings.Replace(b, "2650.5", "2650.75", 1), f.token, key)
	wantProblem(t, other, http.StatusConflict, "IDEMPOTENCY_CONFLICT")
	if f.mock.Declared() != 1 || f.mock.Stats().Duplicates != 1 {
		t.Fatalf("declared %d, duplicates %d", f.mock.Declared(), f.mock.Stats().Duplicates)
	}
	noContractBreach(t, f.mock)
}

func TestSandboxHistory(t *testing.T) {
	t.Parallel()
	f := setup(t, paris("2025-11-02 10:00:00"))
	v2 := f.get("/v1/declarations/PSU2024R000005").json(t)
	v1 := f.get("/v1/declarations/PSU2024R000004").json(t)
	if v2["version"] != float64(2) || v2["supersedes"] != "PSU2024R000004" || v1["superseded_by"] != "PSU2024R000005" || v1["status"] != "superseded" {
		t.Fatalf("history: %v / %v", v1, v2)
	}
	jan := func(d map[string]any) float64 {
		return d["months"].([]any)[0].(map[string]any)["billed_hours"].(float64)
	}
	if jan(v2)-jan(v1) != 40 {
		t.Fatalf("the correction does not change January: %v, %v", jan(v1), jan(v2))
	}
	st := f.get("/v1/structures/" + cafpsu.PartnerLucioles).json(t)
	var states []string
	for _, e := range st["calendar"].([]any) {
		m := e.(map[string]any)
		states = append(states, m["kind"].(string)+":"+m["state"].(string))
	}
	want := []string{"previsionnel:closed", "reel:closed", "actualisation_juin:closed", "actualisation_septembre:closed", "previsionnel:open"}
	if !slices.Equal(states, want) || st["deadlines_enforced"] != true || st["finess"] != "750012346" {
		t.Fatalf("structure: %v", st)
	}
	if sb := f.get("/v1/structures/" + cafpsu.PartnerSandbox).json(t); sb["deadlines_enforced"] != false || sb["finess"] != nil {
		t.Fatalf("sandbox structure: %v", sb)
	}
	noContractBreach(t, f.mock)
}

func TestRefusalsAndReset(t *testing.T) {
	t.Parallel()
	f := setup(t, paris("2026-07-05 10:00:00"))
	ptrs := wantProblem(t, f.declare(cafpsu.PartnerSandbox, strings.Replace(body(2026, "actualisation_juin", sandboxEst, 6, nil), `"children":28`, `"children":-2`, 1)),
		http.StatusBadRequest, "INVALID_REQUEST")
	if !slices.Equal(ptrs, []string{"/months/0/children"}) {
		t.Errorf("pointers %v", ptrs)
	}
	wantProblem(t, f.do(http.MethodPost, "/v1/structures/"+cafpsu.PartnerSandbox+"/declarations", "text/csv", "a;b", f.token, nil), http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE")
	wantProblem(t, f.do(http.MethodDelete, "/v1/declarations/PSU2024R000005", "", "", f.token, nil), http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
	wantProblem(t, f.get("/v2/structures"), http.StatusNotFound, "NOT_FOUND")
	if v := f.mock.Stats().Violations; v != 4 {
		t.Errorf("violations %d, want 4", v)
	}

	if err := f.mock.Platform().SetFaults(platform.Faults{Rules: []platform.Rule{{Operations: []string{"declarations.create"}, Status: 503, RetryAfter: "60"}}}); err != nil {
		t.Fatal(err)
	}
	a := f.declare(cafpsu.PartnerSandbox, body(2026, "actualisation_juin", sandboxEst, 6, nil))
	wantProblem(t, a, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE")
	if a.header.Get("Retry-After") != "60" || f.mock.Declared() != 0 {
		t.Fatalf("injected: %v, declared %d", a.header, f.mock.Declared())
	}
	f.mock.Reset()
	if a := f.get("/v1/structures/" + cafpsu.PartnerSandbox); a.status != http.StatusUnauthorized {
		t.Fatalf("a token from before the reset: %d %s", a.status, a.body)
	}
	f.token = f.tokenOf(cafpsu.DefaultClientID, cafpsu.DefaultClientSecret)
	d := f.declare(cafpsu.PartnerSandbox, body(2026, "actualisation_juin", sandboxEst, 6, nil))
	if d.status != http.StatusCreated || d.json(t)["declaration_number"] != "PSU2026J000007" {
		t.Fatalf("after reset: %d %s", d.status, d.body)
	}
	noContractBreach(t, f.mock)
}

func TestOptions(t *testing.T) {
	t.Parallel()
	d := cafpsu.Options{}.WithDefaults()
	if len(d.Clients) != 2 || d.TokenTTL != cafpsu.DefaultTokenTTL || len(d.Structures) != 4 || d.RateLimit.Limit != 0 {
		t.Fatalf("defaults %+v", d)
	}
	bad := cafpsu.SandboxStructures()
	bad[0].SIRET = "21759901800018"
	for name, o := range map[string]cafpsu.Options{
		"TokenTTL":   {TokenTTL: -time.Second},
		"Clients":    {Clients: map[string]cafpsu.Client{"x": {}}},
		"SIRET":      {Structures: bad},
		"Structures": {Structures: append(cafpsu.SandboxStructures(), cafpsu.SandboxStructures()[0])},
	} {
		if err := o.WithDefaults().Validate(); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
