package platform_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/relais-dev/relais/mocks/platform"
)

func TestNewPanicsOnProgrammingErrors(t *testing.T) {
	t.Parallel()
	l := &letters{byID: map[string]letter{}}
	base := func() platform.Config {
		return platform.Config{Name: "p", Contract: testContract, Operations: l.handlers(), Errors: writeProblem}
	}
	cases := map[string]struct {
		edit func(*platform.Config)
		want string
	}{
		"invalid contract": {func(c *platform.Config) { c.Contract = []byte("openapi: 3.1.0\ninfo: {}\npaths: {}\n") }, "validating contract"},
		"not a contract":   {func(c *platform.Config) { c.Contract = []byte("{") }, "loading contract"},
		"missing handler":  {func(c *platform.Config) { delete(c.Operations, "getLetter") }, `operation "getLetter" (GET /letters/{id}) has no handler`},
		"extra handler": {func(c *platform.Config) {
			c.Operations["deleteLetter"] = http.NotFoundHandler()
		}, `handler "deleteLetter" has no operation`},
		"nil errors": {func(c *platform.Config) { c.Errors = nil }, "Config.Errors is nil"},
		"no name":    {func(c *platform.Config) { c.Name = "" }, "Config.Name is empty"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := base()
			cfg.Operations = l.handlers()
			tc.edit(&cfg)
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), tc.want) {
					t.Fatalf("panic %v, want one mentioning %q", r, tc.want)
				}
			}()
			platform.New(cfg)
		})
	}
}

func TestServerAccessors(t *testing.T) {
	t.Parallel()
	f := setup(t)
	if f.srv.Name() != "testplatform" {
		t.Errorf("Name = %q", f.srv.Name())
	}
	if got := f.srv.Contract().Info.Title; got != "Relais platform runtime test contract" {
		t.Errorf("Contract().Info.Title = %q", got)
	}
	want := []string{"createLetter", "getLetter", "health", "listPeople", "uploadDocument"}
	if got := f.srv.Operations(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Operations() = %v, want %v", got, want)
	}
}

func TestRoutingUsesTheServersBasePathOnAnyHost(t *testing.T) {
	t.Parallel()
	f := setup(t)

	r := f.do(t, call{method: http.MethodGet, path: "/base/health"})
	expect(t, r, http.StatusOK)
	if string(r.body) != `{"status":"ok"}` || r.header.Get("Content-Length") != "15" {
		t.Errorf("health answered %s (Content-Length %s)", r.body, r.header.Get("Content-Length"))
	}

	r = f.do(t, call{method: http.MethodGet, path: "/health"}) // without the base path
	expect(t, r, http.StatusNotFound)
	if p := r.problem(t); p.Code != string(platform.KindNotFound) {
		t.Errorf("404 code %q", p.Code)
	}

	r = f.do(t, call{method: http.MethodDelete, path: "/base/letters/L-000001", token: "good"})
	expect(t, r, http.StatusMethodNotAllowed)
	if got := r.header.Get("Allow"); got != "GET" {
		t.Errorf("Allow = %q, want GET", got)
	}
	if p := r.problem(t); p.Code != string(platform.KindMethod) {
		t.Errorf("405 code %q", p.Code)
	}

	st := f.srv.Stats()
	if st.Requests != 3 || st.Violations != 2 || st.ByOperation["health"] != 1 {
		t.Errorf("stats %+v, want 3 requests, 2 violations, 1 health", st)
	}
}

func TestRoutingWithoutServersAndWithPathPrefixes(t *testing.T) {
	t.Parallel()
	contract := []byte(`openapi: 3.1.0
info: {title: prefixed, version: "1"}
paths:
  /api/v2/ping:
    get:
      operationId: ping
      responses:
        "200": {description: pong}
`)
	srv := platform.New(platform.Config{
		Name: "prefixed", Contract: contract, Errors: writeProblem,
		Operations: map[string]http.Handler{"ping": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Operation", platform.OperationID(r))
		})},
	})
	rec := serve(srv, http.MethodGet, "http://any.host.example/api/v2/ping", "")
	if rec.Code != http.StatusOK || rec.Header().Get("X-Operation") != "ping" {
		t.Fatalf("ping answered %d, X-Operation %q", rec.Code, rec.Header().Get("X-Operation"))
	}
	if rec := serve(srv, http.MethodGet, "http://any.host.example/ping", ""); rec.Code != http.StatusNotFound {
		t.Fatalf("/ping answered %d, want 404", rec.Code)
	}
	if v := srv.Stats().ResponseViolations; v != 0 {
		t.Errorf("ResponseViolations = %d", v)
	}
}

func TestRequestValidationNamesTheParameter(t *testing.T) {
	t.Parallel()
	f := setup(t)
	uploadCT, uploadNoTitle := multipartBody(t, "", "%PDF-1.7")
	cases := []struct {
		name      string
		call      call
		status    int
		parameter string
	}{
		{"missing query parameter", call{method: http.MethodGet, path: "/base/people?annee=1984"}, 400, "nom"},
		{"query parameter of the wrong type", call{method: http.MethodGet, path: "/base/people?nom=Dupont&annee=mil"}, 400, "annee"},
		{"query parameter out of range", call{method: http.MethodGet, path: "/base/people?nom=Dupont&annee=1850"}, 400, "annee"},
		{"path parameter breaks its pattern", call{method: http.MethodGet, path: "/base/letters/42", token: "good"}, 400, "id"},
		{"header parameter too short", call{method: http.MethodPost, path: "/base/letters", token: "good", contentType: "application/json", body: letterBody, header: map[string]string{"Idempotency-Key": "k"}}, 400, "Idempotency-Key"},
		{"missing body field", newLetter("good", "", `{"recipient":{"prenoms":["Jeanne"]},"pages":2}`), 400, "/recipient/nom"},
		{"invalid array item", newLetter("good", "", `{"recipient":{"nom":"Dupont","prenoms":[""]},"pages":2}`), 400, "/recipient/prenoms/0"},
		{"body field of the wrong type", newLetter("good", "", `{"recipient":{"nom":"Dupont","prenoms":["Jeanne"]},"pages":"2"}`), 400, "/pages"},
		{"missing body", newLetter("good", "", ""), 400, ""},
		{"body not JSON", newLetter("good", "", `{"recipient":`), 400, ""},
		{"wrong content type", call{method: http.MethodPost, path: "/base/letters", token: "good", contentType: "text/plain", body: "bonjour"}, 415, ""},
		{"multipart part missing", call{method: http.MethodPost, path: "/base/documents", token: "good", contentType: uploadCT, body: uploadNoTitle}, 400, "/title"},
	}
	for i, tc := range cases {
		r := f.do(t, tc.call)
		if r.status != tc.status {
			t.Errorf("%s: status %d, want %d (%s)", tc.name, r.status, tc.status, r.body)
			continue
		}
		p := r.problem(t)
		if p.Code != string(platform.KindInvalidRequest) || p.Parameter != tc.parameter {
			t.Errorf("%s: code %q parameter %q, want %q %q (%s)", tc.name, p.Code, p.Parameter, platform.KindInvalidRequest, tc.parameter, p.Message)
		}
		if strings.Contains(p.Message, "Dupont") || strings.Contains(p.Message, "mil") {
			t.Errorf("%s: detail quotes the request: %q", tc.name, p.Message)
		}
		if got := f.srv.Stats().Violations; got != int64(i+1) {
			t.Errorf("%s: Violations = %d, want %d", tc.name, got, i+1)
		}
	}
	if n := f.letters.count(); n != 0 {
		t.Errorf("the handler ran %d times for invalid requests", n)
	}
	if v := f.srv.Stats().ResponseViolations; v != 0 {
		t.Errorf("ResponseViolations = %d: the runtime's error answers break the contract", v)
	}
}

func TestValidRequestsReachTheHandlerIntact(t *testing.T) {
	t.Parallel()
	f := setup(t)
	r := f.do(t, call{method: http.MethodGet, path: peoplePath})
	expect(t, r, http.StatusOK)
	if want := `{"data":{"items":[{"age":34,"nom":"Dupont","prenom":"Jeanne"},{"age":7,"nom":"Dupont","prenom":"Luc"}],"total":2}}`; string(r.body) != want {
		t.Errorf("listPeople answered %s, want %s", r.body, want)
	}

	r = f.do(t, newLetter("good", "", letterBody))
	expect(t, r, http.StatusCreated)
	if string(r.body) != `{"id":"L-000001","status":"queued","pages":2}` {
		t.Errorf("createLetter answered %s", r.body)
	}
	r = f.do(t, call{method: http.MethodGet, path: "/base/letters/L-000001", token: "good"})
	expect(t, r, http.StatusOK)
	r = f.do(t, call{method: http.MethodGet, path: "/base/letters/L-000009", token: "good"})
	expect(t, r, http.StatusNotFound)

	ct, body := multipartBody(t, "Courrier CAF", "%PDF-1.7 contenu")
	r = f.do(t, call{method: http.MethodPost, path: "/base/documents", token: "good", contentType: ct, body: body})
	expect(t, r, http.StatusCreated)
	if string(r.body) != `{"size":16,"title":"Courrier CAF"}` {
		t.Errorf("uploadDocument answered %s", r.body)
	}
	st := f.srv.Stats()
	if st.ResponseViolations != 0 || st.Violations != 0 || st.Requests != 5 {
		t.Errorf("stats %+v", st)
	}
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	f := setup(t)
	cases := []struct {
		token  string
		status int
		code   string
	}{
		{"", http.StatusUnauthorized, string(platform.KindUnauthorized)},
		{"forged", http.StatusUnauthorized, string(platform.KindUnauthorized)},
		{"readonly", http.StatusForbidden, string(platform.KindForbidden)},
	}
	for _, tc := range cases {
		// The body is invalid too: authentication comes first.
		r := f.do(t, newLetter(tc.token, "", `{}`))
		expect(t, r, tc.status)
		if p := r.problem(t); p.Code != tc.code {
			t.Errorf("token %q: code %q, want %q", tc.token, p.Code, tc.code)
		}
	}
	// Operations without a security requirement never ask.
	expect(t, f.do(t, call{method: http.MethodGet, path: peoplePath, token: "forged"}), http.StatusOK)
	if n := f.letters.count(); n != 0 {
		t.Errorf("created %d letters without credentials", n)
	}
	if st := f.srv.Stats(); st.Violations != 0 || st.ResponseViolations != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	f := setup(t, func(c *platform.Config) { c.RateLimit = platform.RateLimit{Limit: 2, Window: 2 * time.Second} })
	get := call{method: http.MethodGet, path: "/base/letters/L-000001", token: "good"}
	for i, remaining := range []string{"1", "0"} {
		r := f.do(t, get)
		expect(t, r, http.StatusNotFound) // a business answer, still counted
		if r.header.Get("RateLimit-Limit") != "2" || r.header.Get("RateLimit-Remaining") != remaining || r.header.Get("RateLimit-Reset") != "2" {
			t.Errorf("request %d: RateLimit headers %v", i, r.header)
		}
	}
	f.clock.Advance(500 * time.Millisecond)
	r := f.do(t, get)
	expect(t, r, http.StatusTooManyRequests)
	if r.header.Get("Retry-After") != "2" || r.header.Get("RateLimit-Remaining") != "0" || r.header.Get("RateLimit-Reset") != "2" {
		t.Errorf("429 headers %v, want Retry-After 2 (1.5s rounded up)", r.header)
	}
	if p := r.problem(t); p.Code != string(platform.KindRateLimited) {
		t.Errorf("429 code %q", p.Code)
	}
	// Another token has its own window; the exempt operation none.
	expect(t, f.do(t, call{method: http.MethodGet, path: "/base/letters/L-000001", token: "other"}), http.StatusNotFound)
	r = f.do(t, call{method: http.MethodGet, path: "/base/health"})
	expect(t, r, http.StatusOK)
	if r.header.Get("RateLimit-Limit") != "" {
		t.Errorf("exempt operation sent RateLimit headers")
	}
	// The window resets with the clock.
	f.clock.Advance(1500 * time.Millisecond)
	r = f.do(t, get)
	expect(t, r, http.StatusNotFound)
	if r.header.Get("RateLimit-Remaining") != "1" {
		t.Errorf("after the window: RateLimit-Remaining %q", r.header.Get("RateLimit-Remaining"))
	}
	if st := f.srv.Stats(); st.RateLimited != 1 || st.ResponseViolations != 0 {
		t.Errorf("stats %+v", st)
	}
	// Reset forgets the windows.
	for range 2 {
		f.do(t, get)
	}
	f.srv.Reset()
	expect(t, f.do(t, get), http.StatusNotFound)
}

func TestIdempotency(t *testing.T) {
	t.Parallel()
	f := setup(t)
	first := f.do(t, newLetter("good", "key-00000001", letterBody))
	expect(t, first, http.StatusCreated)
	again := f.do(t, newLetter("good", "key-00000001", letterBody))
	expect(t, again, http.StatusCreated)
	if !bytes.Equal(first.body, again.body) || first.header.Get("Content-Type") != again.header.Get("Content-Type") || first.header.Get("Content-Length") != again.header.Get("Content-Length") {
		t.Errorf("replay differs: %s %v / %s %v", first.body, first.header, again.body, again.header)
	}
	if n := f.letters.count(); n != 1 {
		t.Errorf("handler ran %d times, want 1", n)
	}

	conflict := f.do(t, newLetter("good", "key-00000001", strings.Replace(letterBody, `"pages":2`, `"pages":3`, 1)))
	expect(t, conflict, http.StatusConflict)
	if p := conflict.problem(t); p.Code != string(platform.KindConflict) || p.Parameter != "Idempotency-Key" {
		t.Errorf("conflict problem %+v", p)
	}
	// Keys are per caller, and requests without a key are never deduplicated.
	expect(t, f.do(t, newLetter("other", "key-00000001", letterBody)), http.StatusCreated)
	expect(t, f.do(t, newLetter("good", "", letterBody)), http.StatusCreated)
	expect(t, f.do(t, newLetter("good", "", letterBody)), http.StatusCreated)
	if n := f.letters.count(); n != 4 {
		t.Errorf("handler ran %d times, want 4", n)
	}
	st := f.srv.Stats()
	if st.Duplicates != 1 || st.ResponseViolations != 0 || st.ByOperation["createLetter"] != 6 {
		t.Errorf("stats %+v", st)
	}

	// Concurrent requests with one key create one letter.
	var wg sync.WaitGroup
	bodies := make([][]byte, 8)
	for i := range bodies {
		wg.Go(func() {
			r, err := f.send(newLetter("good", "key-concurrent", letterBody))
			if err != nil || r.status != http.StatusCreated {
				t.Errorf("concurrent request: %v %d", err, r.status)
			}
			bodies[i] = r.body
		})
	}
	wg.Wait()
	for _, b := range bodies[1:] {
		if !bytes.Equal(b, bodies[0]) {
			t.Errorf("concurrent answers differ: %s / %s", b, bodies[0])
		}
	}
	if n := f.letters.count(); n != 5 {
		t.Errorf("handler ran %d times, want 5", n)
	}
	if d := f.srv.Stats().Duplicates; d != 8 {
		t.Errorf("Duplicates = %d, want 8", d)
	}

	// Reset forgets the keys.
	f.srv.Reset()
	expect(t, f.do(t, newLetter("good", "key-00000001", letterBody)), http.StatusCreated)
	if n := f.letters.count(); n != 1 {
		t.Errorf("after Reset: handler ran %d times, want 1", n)
	}
}

// TestIdempotencyKeepsNoServerError: a 5xx is not stored under its key, so
// a retry with the same key runs the handler again (and a third request
// replays the retry's answer).
func TestIdempotencyKeepsNoServerError(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	f := setup(t, func(c *platform.Config) {
		create := c.Operations["createLetter"]
		c.Operations["createLetter"] = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				writeProblem(w, r, platform.Problem{Kind: "unavailable", Status: http.StatusServiceUnavailable, Detail: "Down for a moment."})
				return
			}
			create.ServeHTTP(w, r)
		})
	})
	expect(t, f.do(t, newLetter("good", "key-00000001", letterBody)), http.StatusServiceUnavailable)
	retry := f.do(t, newLetter("good", "key-00000001", letterBody))
	expect(t, retry, http.StatusCreated)
	again := f.do(t, newLetter("good", "key-00000001", letterBody))
	expect(t, again, http.StatusCreated)
	if !bytes.Equal(retry.body, again.body) {
		t.Errorf("third request: %s, want the retry's %s replayed", again.body, retry.body)
	}
	if n, d := calls.Load(), f.srv.Stats().Duplicates; n != 2 || d != 1 {
		t.Errorf("handler ran %d times with %d replays, want 2 and 1", n, d)
	}
}

func TestIdempotentAnswersExpire(t *testing.T) {
	t.Parallel()
	f := setup(t, func(c *platform.Config) { c.IdempotencyTTL = time.Hour })
	expect(t, f.do(t, newLetter("good", "key-00000001", letterBody)), http.StatusCreated)
	f.clock.Advance(time.Hour)
	r := f.do(t, newLetter("good", "key-00000001", letterBody))
	expect(t, r, http.StatusCreated)
	if string(r.body) != `{"id":"L-000002","status":"queued","pages":2}` {
		t.Errorf("after the TTL: %s, want a new letter", r.body)
	}
}

func TestResponseViolationsAreCountedAndLogged(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	f := setup(t, func(c *platform.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
		c.Operations["listPeople"] = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Query().Get("nom") {
			case "type":
				platform.WriteJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"items": "none", "total": 0}})
			case "status":
				platform.WriteJSON(w, http.StatusTeapot, map[string]any{"code": "teapot", "message": "no"})
			default:
				w.Header().Set("Content-Type", "text/plain")
				_, _ = w.Write([]byte("ok"))
			}
		})
	})
	for _, nom := range []string{"type", "status", "text"} {
		f.do(t, call{method: http.MethodGet, path: "/base/people?annee=1984&nom=" + nom})
	}
	if v := f.srv.Stats().ResponseViolations; v != 3 {
		t.Errorf("ResponseViolations = %d, want 3", v)
	}
	var line struct {
		Msg, Platform, Operation string
		Status                   int
	}
	first, _, _ := bytes.Cut(logs.Bytes(), []byte("\n"))
	if err := json.Unmarshal(first, &line); err != nil {
		t.Fatalf("log %q: %v", logs.String(), err)
	}
	if line.Msg != "mock answer breaks the contract" || line.Platform != "testplatform" || line.Operation != "listPeople" || line.Status != 200 {
		t.Errorf("log line %+v", line)
	}
}

func TestHandlersSeeOperationAndPathValues(t *testing.T) {
	t.Parallel()
	got := make(chan string, 1)
	f := setup(t, func(c *platform.Config) {
		c.Operations["getLetter"] = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got <- platform.OperationID(r) + " " + r.PathValue("id")
			platform.WriteJSON(w, http.StatusOK, letter{ID: r.PathValue("id"), Status: "sent", Pages: 1})
		})
	})
	expect(t, f.do(t, call{method: http.MethodGet, path: "/base/letters/L-000042", token: "good"}), http.StatusOK)
	if s := <-got; s != "getLetter L-000042" {
		t.Errorf("handler saw %q", s)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	f := setup(t, func(c *platform.Config) { c.Registry = reg })
	// A second mock shares the registry.
	other := platform.New(platform.Config{Name: "other", Contract: testContract, Operations: f.letters.handlers(), Errors: writeProblem, Registry: reg})
	serve(other, http.MethodGet, "http://x/base/health", "")

	f.do(t, call{method: http.MethodGet, path: peoplePath})
	f.do(t, call{method: http.MethodGet, path: "/base/people"})
	f.do(t, call{method: http.MethodGet, path: "/nowhere"})
	f.do(t, newLetter("", "", letterBody))

	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "relais_mock_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, lp := range m.GetLabel() {
				labels = append(labels, lp.GetValue())
			}
			got[strings.Join(labels, ",")] = m.GetCounter().GetValue()
		}
	}
	want := map[string]float64{
		"listPeople,handled,testplatform":         1,
		"listPeople,invalid_request,testplatform": 1,
		"none,not_found,testplatform":             1,
		"createLetter,unauthorized,testplatform":  1,
		"health,handled,other":                    1,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("metrics %v, want %v", got, want)
	}
}

func TestErrorWriterChoosesTheStatus(t *testing.T) {
	t.Parallel()
	// Like API Particulier, this platform answers 422 to invalid requests.
	f := setup(t, func(c *platform.Config) {
		c.Errors = func(w http.ResponseWriter, r *http.Request, p platform.Problem) {
			if p.Kind == platform.KindInvalidRequest {
				p.Status = http.StatusUnprocessableEntity
			}
			writeProblem(w, r, p)
		}
	})
	r := f.do(t, call{method: http.MethodGet, path: "/base/people?nom=Dupont"})
	expect(t, r, http.StatusUnprocessableEntity)
	if p := r.problem(t); p.Parameter != "annee" {
		t.Errorf("parameter %q", p.Parameter)
	}
	// The contract documents no 422 for listPeople: the self-check says so.
	if v := f.srv.Stats().ResponseViolations; v != 1 {
		t.Errorf("ResponseViolations = %d, want 1 (undocumented 422)", v)
	}
}

func TestRoutingWithServerVariablesAndPathServers(t *testing.T) {
	t.Parallel()
	contract := []byte(`openapi: 3.1.0
info: {title: fhir, version: "1"}
servers:
  - url: https://{env}.dmp.example.test/{base}
    variables:
      env: {default: sandbox, enum: [sandbox, production]}
      base: {default: fhir}
paths:
  /Patient:
    get:
      operationId: searchPatient
      responses:
        "200": {description: found}
  /token:
    servers:
      - url: https://auth.example.test/oauth2
    post:
      operationId: token
      responses:
        "200": {description: issued}
`)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Header().Set("X-Operation", platform.OperationID(r)) })
	srv := platform.New(platform.Config{
		Name: "fhir", Contract: contract, Errors: writeProblem,
		Operations: map[string]http.Handler{"searchPatient": ok, "token": ok},
	})
	for path, want := range map[string]string{
		"GET /fhir/Patient":    "searchPatient",
		"POST /oauth2/token":   "token",
		"GET /Patient":         "",
		"POST /fhir/token":     "",
		"GET /sandbox/Patient": "",
	} {
		method, p, _ := strings.Cut(path, " ")
		rec := serve(srv, method, "http://127.0.0.1:8080"+p, "")
		if got := rec.Header().Get("X-Operation"); got != want || (want == "" && rec.Code != http.StatusNotFound) {
			t.Errorf("%s: operation %q status %d, want %q", path, got, rec.Code, want)
		}
	}
}

func TestAuthenticateAndHandlerBothReadTheBody(t *testing.T) {
	t.Parallel()
	seen := make(chan string, 2)
	f := setup(t, func(c *platform.Config) {
		c.Authenticate = func(r *http.Request, _ string) (string, *platform.Problem) {
			b, _ := io.ReadAll(r.Body)
			seen <- "auth " + string(b)
			return "k", nil
		}
		c.Operations["createLetter"] = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			seen <- "handler " + string(b)
			platform.WriteJSON(w, http.StatusCreated, letter{ID: "L-000001", Status: "queued", Pages: 2})
		})
	})
	expect(t, f.do(t, newLetter("", "", letterBody)), http.StatusCreated)
	if a, h := <-seen, <-seen; a != "auth "+letterBody || h != "handler "+letterBody {
		t.Errorf("Authenticate saw %q, the handler %q", a, h)
	}
}
