package cafpsu_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/relais-dev/relais/connectors/clock"
	"github.com/relais-dev/relais/mocks/cafpsu"
)

type fixture struct {
	t     *testing.T
	mock  *cafpsu.Server
	ts    *httptest.Server
	clock *clock.Fake
	token string
}

// setup starts the mock with its clock at now and gets a token of the
// default client.
func setup(t *testing.T, now time.Time) *fixture {
	t.Helper()
	c := clock.NewFake(now)
	mock := cafpsu.New(cafpsu.Options{Now: c.Now})
	ts := httptest.NewServer(mock)
	t.Cleanup(ts.Close)
	f := &fixture{t: t, mock: mock, ts: ts, clock: c}
	f.token = f.tokenOf(cafpsu.DefaultClientID, cafpsu.DefaultClientSecret)
	return f
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("decoding %s: %v", a.body, err)
	}
	return m
}

func (f *fixture) tokenAnswer(id, secret, scope string) answer {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}
	if scope != "" {
		form.Set("scope", scope)
	}
	return f.do(http.MethodPost, "/oauth/token", "application/x-www-form-urlencoded", form.Encode(), "", nil)
}

func (f *fixture) tokenOf(id, secret string) string {
	f.t.Helper()
	a := f.tokenAnswer(id, secret, "psu.declarations")
	if a.status != http.StatusOK {
		f.t.Fatalf("token: %d %s", a.status, a.body)
	}
	return a.json(f.t)["access_token"].(string)
}

func (f *fixture) do(method, path, contentType, body, token string, header map[string]string) answer {
	f.t.Helper()
	req, err := http.NewRequest(method, f.ts.URL+path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rsp, err := f.ts.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rsp.Body.Close()
	b, err := io.ReadAll(rsp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return answer{status: rsp.StatusCode, header: rsp.Header, body: b}
}

func (f *fixture) get(path string) answer {
	f.t.Helper()
	return f.do(http.MethodGet, path, "", "", f.token, nil)
}

func (f *fixture) declare(partner, body string) answer {
	f.t.Helper()
	return f.do(http.MethodPost, "/v1/structures/"+partner+"/declarations", "application/json", body, f.token, nil)
}

// The establishments of the sandbox structures, as JSON.
const (
	luciolesEst = `{"siret":"21759901800017","finess":"750012346"}`
	sandboxEst  = `{"siret":"99000001000019","finess":null}`
)

// body builds a declaration of n months whose figures come from fig.
func body(year int, kind, est string, n int, fig func(i int) string) string {
	parts := make([]string, n)
	for i := range parts {
		f := `"billed_hours":2800,"attended_hours":2650.5,"psu_hours":2750,"children":28,"opening_days":20`
		if fig != nil {
			f = fig(i)
		}
		parts[i] = fmt.Sprintf(`{"month":"%04d-%02d",%s}`, year, i+1, f)
	}
	return fmt.Sprintf(`{"year":%d,"kind":"%s","establishment":%s,"months":[%s]}`, year, kind, est, strings.Join(parts, ","))
}

// wantProblem checks a problem details answer and returns its field
// errors' pointers.
func wantProblem(t *testing.T, a answer, status int, code string) []string {
	t.Helper()
	m := a.json(t)
	if a.status != status || m["code"] != code || m["status"] != float64(status) || a.header.Get("Content-Type") != "application/problem+json" || m["detail"] == "" {
		t.Fatalf("got %d %s, want %d %s", a.status, a.body, status, code)
	}
	var ptrs []string
	if errs, ok := m["errors"].([]any); ok {
		for _, e := range errs {
			ptrs = append(ptrs, e.(map[string]any)["pointer"].(string))
		}
	}
	return ptrs
}

func noContractBreach(t *testing.T, mock *cafpsu.Server) {
	t.Helper()
	if n := mock.Stats().ResponseViolations; n != 0 {
		t.Fatalf("the mock broke its contract %d times", n)
	}
}

// paris returns a time given in Paris.
func paris(layout string) time.Time {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err)
	}
	t, err := time.ParseInLocation("2006-01-02 15:04:05", layout, loc)
	if err != nil {
		panic(err)
	}
	return t
}
