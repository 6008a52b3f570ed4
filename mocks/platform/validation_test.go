package platform_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/relais-dev/relais/mocks/platform"
)

func TestBodyErrorsNameTheDeepestField(t *testing.T) {
	t.Parallel()
	f := setup(t)
	cases := []struct {
		name, body, parameter, detail string
	}{
		{
			"property refused by additionalProperties", `{"recipient":{"nom":"Dupont","prenoms":["Jeanne"]},"pages":2,"urgent":true}`,
			"/urgent", "The body field /urgent is not allowed (additionalProperties).",
		},
		{
			"two failures at one depth: the first in pointer order", `{"recipient":{"nom":"","prenoms":[]},"pages":2}`,
			"/recipient/nom", "The body field /recipient/nom does not match its schema (minLength).",
		},
		{
			"the deepest of several failures", `{"recipient":{"nom":"Dupont","prenoms":["Jeanne",""]},"pages":99}`,
			"/recipient/prenoms/1", "The body field /recipient/prenoms/1 does not match its schema (minLength).",
		},
		{
			"missing required property of the root", `{"recipient":{"nom":"Dupont","prenoms":["Jeanne"]}}`,
			"/pages", "The body field /pages is missing.",
		},
		{"wrong type of the body itself", `["Dupont"]`, "", "The body field (the body itself) does not match its schema (type)."},
		{"data after the JSON value", letterBody + `{"pages":3}`, "", "The request body cannot be parsed as application/json."},
	}
	for _, tc := range cases {
		// The validator visits properties in map order: the answer must
		// not depend on it.
		for range 5 {
			r := f.do(t, newLetter("good", "", tc.body))
			expect(t, r, http.StatusBadRequest)
			p := r.problem(t)
			if p.Parameter != tc.parameter || p.Message != tc.detail {
				t.Fatalf("%s: parameter %q detail %q, want %q %q", tc.name, p.Parameter, p.Message, tc.parameter, tc.detail)
			}
		}
	}
	if n := f.letters.count(); n != 0 {
		t.Errorf("the handler ran %d times for invalid bodies", n)
	}
	if st := f.srv.Stats(); st.ResponseViolations != 0 || st.Violations != int64(5*len(cases)) {
		t.Errorf("stats %+v", st)
	}
}

// formsContract has a form-encoded token endpoint, a JSON body with the
// formats kin-openapi asserts (date, date-time, int32) and does not (email,
// uri), a +json media type, and a query parameter whose const only JSON
// Schema 2020-12 enforces.
var formsContract = []byte(`openapi: 3.1.0
info: {title: forms, version: "1"}
paths:
  /token:
    post:
      operationId: token
      requestBody:
        required: true
        content:
          application/x-www-form-urlencoded:
            schema:
              type: object
              required: [grant_type, client_id]
              properties:
                grant_type: {type: string, enum: [client_credentials]}
                client_id: {type: string, minLength: 3}
      responses:
        "200":
          description: issued
          content:
            application/json:
              schema:
                type: object
                required: [access_token]
                properties:
                  access_token: {type: string}
        "400": {description: refused}
  /people:
    post:
      operationId: createPerson
      requestBody:
        required: true
        content:
          application/vnd.relais+json:
            schema: {$ref: "#/components/schemas/Person"}
      responses:
        "201": {description: created}
        "400": {description: refused}
  /version:
    get:
      operationId: version
      parameters:
        - name: v
          in: query
          required: true
          schema: {type: string, const: v1}
      responses:
        "200": {description: ok}
        "400": {description: refused}
components:
  schemas:
    Person:
      type: object
      required: [birth]
      properties:
        birth: {type: string, format: date}
        seen: {type: string, format: date-time}
        count: {type: integer, format: int32}
        email: {type: string, format: email}
        site: {type: string, format: uri}
`)

func TestFormsFormatsAndConstParameters(t *testing.T) {
	t.Parallel()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch platform.OperationID(r) {
		case "token":
			platform.WriteJSON(w, http.StatusOK, map[string]string{"access_token": "t"})
		case "createPerson":
			w.WriteHeader(http.StatusCreated)
		}
	})
	srv := platform.New(platform.Config{
		Name: "forms", Contract: formsContract, Errors: writeProblem,
		Operations: map[string]http.Handler{"token": ok, "createPerson": ok, "version": ok},
	})
	form := func(v url.Values) string { return v.Encode() }
	cases := []struct {
		name, method, path, contentType, body string
		status                                int
		parameter                             string
	}{
		{
			"valid form", http.MethodPost, "/token", "application/x-www-form-urlencoded",
			form(url.Values{"grant_type": {"client_credentials"}, "client_id": {"abc"}}), 200, "",
		},
		{
			"form field outside its enum", http.MethodPost, "/token", "application/x-www-form-urlencoded",
			form(url.Values{"grant_type": {"password"}, "client_id": {"abc"}}), 400, "/grant_type",
		},
		{
			"form field missing", http.MethodPost, "/token", "application/x-www-form-urlencoded",
			form(url.Values{"grant_type": {"client_credentials"}}), 400, "/client_id",
		},
		{
			"valid formats", http.MethodPost, "/people", "application/vnd.relais+json",
			`{"birth":"1984-02-29","seen":"2026-03-02T09:00:00Z","count":3,"email":"pas une adresse","site":"pas une uri"}`, 201, "",
		},
		{"a date that does not exist", http.MethodPost, "/people", "application/vnd.relais+json", `{"birth":"1985-02-29"}`, 400, "/birth"},
		{"a date-time without zone", http.MethodPost, "/people", "application/vnd.relais+json", `{"birth":"1985-02-28","seen":"2026-03-02T09:00:00"}`, 400, "/seen"},
		{"an int32 out of range", http.MethodPost, "/people", "application/vnd.relais+json", `{"birth":"1985-02-28","count":3000000000}`, 400, "/count"},
		{"const parameter", http.MethodGet, "/version?v=v1", "", "", 200, ""},
		{"const parameter broken", http.MethodGet, "/version?v=v2", "", "", 400, "v"},
	}
	for _, tc := range cases {
		rec := serveWith(srv, tc.method, "http://mock"+tc.path, tc.contentType, tc.body)
		if rec.Code != tc.status {
			t.Errorf("%s: status %d, want %d (%s)", tc.name, rec.Code, tc.status, rec.Body)
			continue
		}
		if tc.status != http.StatusBadRequest {
			continue
		}
		p := problemOf(t, rec.Body.Bytes())
		if p.Parameter != tc.parameter {
			t.Errorf("%s: parameter %q, want %q (%s)", tc.name, p.Parameter, tc.parameter, p.Message)
		}
		if strings.Contains(p.Message, "1985") || strings.Contains(p.Message, "password") || strings.Contains(p.Message, "3000000000") {
			t.Errorf("%s: detail quotes the request: %q", tc.name, p.Message)
		}
	}
	if v := srv.Stats().ResponseViolations; v != 0 {
		t.Errorf("ResponseViolations = %d", v)
	}
}

func TestResponseSelfCheckOfFormatsAndMediaTypes(t *testing.T) {
	t.Parallel()
	answers := map[string]func(w http.ResponseWriter){
		"good": func(w http.ResponseWriter) {
			platform.WriteJSON(w, http.StatusOK, map[string]string{"access_token": "t"})
		},
		"missing": func(w http.ResponseWriter) { platform.WriteJSON(w, http.StatusOK, map[string]string{"token": "t"}) },
		"garbage": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token":"t"} trailing`))
		},
		"xml": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/xml")
			_, _ = w.Write([]byte(`<token/>`))
		},
	}
	srv := platform.New(platform.Config{
		Name: "forms", Contract: formsContract, Errors: writeProblem,
		Operations: map[string]http.Handler{
			"token": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_ = r.ParseForm()
				answers[r.PostForm.Get("client_id")](w)
			}),
			"createPerson": http.NotFoundHandler(), "version": http.NotFoundHandler(),
		},
	})
	for i, id := range []string{"good", "missing", "garbage", "xml"} {
		body := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}}.Encode()
		rec := serveWith(srv, http.MethodPost, "http://mock/token", "application/x-www-form-urlencoded", body)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d", id, rec.Code)
		}
		if got := srv.Stats().ResponseViolations; got != int64(i) {
			t.Errorf("after %q: ResponseViolations = %d, want %d", id, got, i)
		}
	}
}

// serveWith runs one request with a body of contentType through srv in
// memory.
func serveWith(srv *platform.Server, method, target, contentType, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return rec
}

func problemOf(t *testing.T, body []byte) problemBody {
	t.Helper()
	var p problemBody
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("decoding problem %s: %v", body, err)
	}
	return p
}

// TestConcurrentValidationOnASharedContract drives two mocks of one
// contract (one cached load, one set of compiled validators) from many
// goroutines; run with -race.
func TestConcurrentValidationOnASharedContract(t *testing.T) {
	t.Parallel()
	a, b := setup(t), setup(t)
	if a.srv.Contract() != b.srv.Contract() {
		t.Fatalf("two mocks of one contract text do not share its load")
	}
	bodies := []struct {
		body   string
		status int
	}{
		{letterBody, http.StatusCreated},
		{`{"recipient":{"nom":"Dupont","prenoms":[""]},"pages":2}`, http.StatusBadRequest},
		{`{"recipient":{"nom":"Dupont","prenoms":["Jeanne"]},"pages":"2"}`, http.StatusBadRequest},
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			f := a
			if g%2 == 1 {
				f = b
			}
			for i := range 20 {
				tc := bodies[(g+i)%len(bodies)]
				r, err := f.send(newLetter("good", "", tc.body))
				if err != nil || r.status != tc.status {
					t.Errorf("goroutine %d: %v status %d, want %d", g, err, r.status, tc.status)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, f := range []*fixture{a, b} {
		if st := f.srv.Stats(); st.ResponseViolations != 0 || st.Requests != 80 {
			t.Errorf("stats %+v", st)
		}
	}
	if a.letters.count()+b.letters.count() == 0 {
		t.Errorf("no letter created")
	}
}
