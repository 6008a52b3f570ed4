package francetravail_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/relais-dev/relais/connectors/clock"
	francetravailcontract "github.com/relais-dev/relais/contracts/francetravail"
	"github.com/relais-dev/relais/mocks/francetravail"
)

// start is the fake clock's start: 2025-06-02, while Alex Mallette
// (123461A) is still registered.
var start = time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)

type fixture struct {
	t     *testing.T
	mock  *francetravail.Server
	ts    *httptest.Server
	clock *clock.Fake
}

// setup starts a mock on a fake clock; mutate adjusts its options.
func setup(t *testing.T, mutate func(*francetravail.Options)) *fixture {
	t.Helper()
	c := clock.NewFake(start)
	opts := francetravail.Options{Now: c.Now}
	if mutate != nil {
		mutate(&opts)
	}
	mock := francetravail.New(opts)
	ts := httptest.NewServer(mock)
	t.Cleanup(ts.Close)
	return &fixture{t: t, mock: mock, ts: ts, clock: c}
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

func (f *fixture) do(req *http.Request) answer {
	f.t.Helper()
	rsp, err := f.ts.Client().Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer rsp.Body.Close()
	body, err := io.ReadAll(rsp.Body)
	if err != nil {
		f.t.Fatalf("reading: %v", err)
	}
	return answer{status: rsp.StatusCode, header: rsp.Header, body: body}
}

func (f *fixture) tokenAnswer(clientID, secret, scope string) answer {
	f.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}, "scope": {scope}}
	req, _ := http.NewRequest(http.MethodPost, f.ts.URL+"/connexion/oauth2/access_token?realm=%2Fpartenaire", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return f.do(req)
}

// token returns an access token of the default application with every
// scope.
func (f *fixture) token() string {
	f.t.Helper()
	a := f.tokenAnswer(francetravail.DefaultClientID, francetravail.DefaultClientSecret, francetravailcontract.Scope(francetravail.DefaultClientID))
	if a.status != http.StatusOK {
		f.t.Fatalf("token: %d %s", a.status, a.body)
	}
	return a.json(f.t)["access_token"].(string)
}

func (f *fixture) post(token, path, body string) answer {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.ts.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("pa-identifiant-agent", "BATCH")
	return f.do(req)
}

func (f *fixture) get(token, personToken, pathAndQuery string) answer {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.ts.URL+pathAndQuery, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if personToken != "" {
		req.Header.Set("ft-jeton-usager", personToken)
	}
	return f.do(req)
}

// search finds a person by birth date and NIR and returns the answer.
func (f *fixture) search(token, birthDate, nir string) answer {
	f.t.Helper()
	return f.post(token, "/rechercher-usager/v2/usagers/par-datenaissance-et-nir", `{"dateNaissance":"`+birthDate+`","nir":"`+nir+`"}`)
}

// wantBusiness checks a France Travail business error.
func wantBusiness(t *testing.T, a answer, status int, code string) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a.body)
	}
	m := a.json(t)
	if m["codeErreur"] != code || m["codeHttp"] != float64(status) || m["message"] == "" {
		t.Fatalf("body %s, want codeErreur %s and codeHttp %d", a.body, code, status)
	}
}

// noContractBreach fails when a handler answered outside the contract.
func noContractBreach(t *testing.T, mock *francetravail.Server) {
	t.Helper()
	if n := mock.Stats().ResponseViolations; n != 0 {
		t.Fatalf("the mock broke its contract %d times", n)
	}
}
