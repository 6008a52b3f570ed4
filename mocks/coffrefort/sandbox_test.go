package coffrefort_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/relais-dev/relais/contracts"
	coffrefortcontract "github.com/relais-dev/relais/contracts/coffrefort"
	"github.com/relais-dev/relais/mocks/coffrefort"
)

// With Options.Sandbox, the contract's checks pass on the mock, the
// examples check included: every operation called with its documented
// input examples alone answers a documented success (the creations replay
// the sandbox's, whose Idempotency-Key is the example's).
func TestSandboxPassesTheContractChecks(t *testing.T) {
	t.Parallel()
	mock := coffrefort.New(coffrefort.Options{Sandbox: true})
	srv := httptest.NewServer(mock)
	t.Cleanup(srv.Close)
	base, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	for run := range 2 { // the sandbox makes runs repeatable
		rep := contracts.Verify(t.Context(), coffrefortcontract.Platform(), contracts.Target{Name: "coffrefort", BaseURL: base, Mock: true, Client: srv.Client()},
			func(string) string { return "" })
		for _, r := range rep.Results {
			for _, v := range r.Violations {
				t.Errorf("run %d: %s: %+v", run, r.Case, v)
			}
		}
	}
	if st := mock.Stats(); st.ResponseViolations != 0 {
		t.Errorf("%d answers broke the contract", st.ResponseViolations)
	}
}

// The sandbox holds the contract's example beneficiary and document; new
// ones take the other identifiers, and a reset brings the sandbox back.
func TestSandboxFixtures(t *testing.T) {
	t.Parallel()
	mock := coffrefort.New(coffrefort.Options{Sandbox: true})
	bens, docs := mock.Beneficiaries(), mock.Documents()
	if len(bens) != 1 || bens[0].ID != 42 || bens[0].DistantID != "dui-2024-00042" || len(bens[0].ExternalLinks) != 1 {
		t.Fatalf("sandbox beneficiaries = %+v", bens)
	}
	if len(docs) != 1 || docs[0].ID != 1337 || docs[0].BeneficiaryID != 42 || docs[0].SHA256 == "" || docs[0].IdempotencyKey != "dlv_01JQ3ZKX8N4T5" {
		t.Fatalf("sandbox documents = %+v", docs)
	}
	if got := mock.CreatedPerKey(); len(got) != 1 || got["dlv_01JQ3ZKX8N4T5"] != 1 {
		t.Fatalf("created per key = %v", got)
	}
	if empty := coffrefort.New(coffrefort.Options{}); len(empty.Beneficiaries()) != 0 || len(empty.Documents()) != 0 {
		t.Fatal("the sandbox is loaded without Options.Sandbox")
	}

	srv := httptest.NewServer(mock)
	t.Cleanup(srv.Close)
	post := func(path, token, body string) *http.Response {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rsp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rsp.Body.Close() })
		return rsp
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	rsp := post("/api/token", "", `{"grant_type":"client_credentials","client_id":"relais-sandbox","client_secret":"relais-sandbox-secret"}`)
	if err := json.NewDecoder(rsp.Body).Decode(&tok); err != nil {
		t.Fatal(err)
	}
	if rsp := post("/api/v3/beneficiaries", tok.AccessToken, `{"first_name":"Jean","last_name":"Martin","birth_date":"1990-01-01"}`); rsp.StatusCode != http.StatusCreated {
		t.Fatalf("creating = %d", rsp.StatusCode)
	}
	if bens := mock.Beneficiaries(); len(bens) != 2 || bens[0].ID != 1 || bens[1].ID != 42 {
		t.Fatalf("beneficiaries = %+v, want a new one with id 1 beside the sandbox's", bens)
	}
	mock.Reset()
	if bens := mock.Beneficiaries(); len(bens) != 1 || bens[0].ID != 42 || len(mock.Documents()) != 1 {
		t.Fatalf("after a reset: beneficiaries %+v, want the sandbox back", bens)
	}
}
