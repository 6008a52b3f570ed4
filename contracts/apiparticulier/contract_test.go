package apiparticuliercontract_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/relais-dev/relais/contracts"
	apiparticuliercontract "github.com/relais-dev/relais/contracts/apiparticulier"
	"github.com/relais-dev/relais/contracts/connectortest"
	"github.com/relais-dev/relais/mocks/apiparticulier"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestContractDocument(t *testing.T) {
	t.Parallel()
	doc, err := apiparticuliercontract.Load()
	if err != nil {
		t.Fatalf("loading: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi = %q, want 3.1", doc.OpenAPI)
	}
	for _, phrase := range []string{"Facts from the platform's public material", "Designed by Relais", "prenoms[]", "no-cache", "x-relais-idempotent", "NOT part of this contract"} {
		if !strings.Contains(doc.Info.Description, phrase) {
			t.Errorf("info.description does not say %q", phrase)
		}
	}
	var hosts []string
	for _, s := range doc.Servers {
		hosts = append(hosts, s.URL)
	}
	for _, h := range []string{"https://particulier.api.gouv.fr", "https://staging.particulier.api.gouv.fr"} {
		if !slices.Contains(hosts, h) {
			t.Errorf("servers lack %s", h)
		}
	}

	benefits := []string{"quotient_familial", "participation_familiale_eaje", "prime_activite", "revenu_solidarite_active",
		"allocation_adulte_handicape", "allocation_enfant_handicape", "allocation_soutien_familial", "complementaire_sante_solidaire"}
	want := map[string]string{
		"france_travail.statut":     "/v3/france_travail/statut/identifiant",
		"france_travail.indemnites": "/v3/france_travail/indemnites/identifiant",
	}
	for _, b := range benefits {
		want[b+".identite"] = "/v3/dss/" + b + "/identite"
		want[b+".france_connect"] = "/v3/dss/" + b + "/france_connect"
	}
	got := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if method != http.MethodGet {
				t.Errorf("%s %s: every operation of the platform is a GET", method, path)
			}
			got[op.OperationID] = path
			if op.Summary == "" || len(op.Tags) == 0 {
				t.Errorf("%s: no summary or no tags", op.OperationID)
			}
			if op.Extensions["x-relais-idempotent"] != nil {
				t.Errorf("%s: nothing is created, nothing is idempotent", op.OperationID)
			}
			for _, code := range []int{200, 401, 403, 404, 422, 429, 500, 502, 503, 504} {
				if op.Responses.Status(code) == nil {
					t.Errorf("%s: response %d is not documented", op.OperationID, code)
				}
			}
			if h := op.Responses.Status(429).Value.Headers["Retry-After"]; h == nil || !h.Value.Required {
				t.Errorf("%s: the 429 does not require Retry-After", op.OperationID)
			}
			fc := strings.HasSuffix(path, "/france_connect")
			if sec := op.Security; fc != (sec != nil && len(*sec) == 1 && (*sec)[0]["franceConnect"] != nil) {
				t.Errorf("%s: the FranceConnect bearer is for the /france_connect routes only", op.OperationID)
			}
			for _, p := range op.Parameters {
				if p.Value.Required && p.Value.Example == nil {
					t.Errorf("%s: the required parameter %s has no example", op.OperationID, p.Value.Name)
				}
			}
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d operations, want %d", len(got), len(want))
	}
	for id, path := range want {
		if got[id] != path {
			t.Errorf("operation %s is at %q, want %q", id, got[id], path)
		}
	}

	// prenoms[] keeps the platform's name and is sent exploded.
	p := doc.Components.Parameters["prenoms"].Value
	if p.Name != "prenoms[]" || p.Style != "form" || p.Explode == nil || !*p.Explode || p.Schema.Value.MaxItems == nil || *p.Schema.Value.MaxItems != 3 {
		t.Errorf("prenoms[] is %q style %q explode %v: want form, exploded, 1 to 3 names", p.Name, p.Style, p.Explode)
	}
	if !bytes.Equal(apiparticuliercontract.Spec(), apiparticuliercontract.Spec()) {
		t.Fatal("Spec is not stable")
	}
}

// The credentials' mock defaults are the mock's own constants.
func TestCredentialsMatchTheMock(t *testing.T) {
	t.Parallel()
	p := apiparticuliercontract.Platform()
	want := map[string]string{
		apiparticuliercontract.EnvToken:              apiparticulier.DefaultToken,
		apiparticuliercontract.EnvFranceConnectToken: apiparticulier.DefaultFranceConnectToken,
	}
	if len(p.Credentials) != len(want) {
		t.Fatalf("%d credentials, want %d", len(p.Credentials), len(want))
	}
	for _, c := range p.Credentials {
		if c.MockDefault != want[c.Env] || !c.Secret {
			t.Errorf("%s: mock default %q (secret %v), want %q, secret", c.Env, c.MockDefault, c.Secret, want[c.Env])
		}
	}
}

// Every operation has a success case that also runs against the real
// sandbox, except the ones the platform's sandbox has no data for.
func TestCasesCoverTheContract(t *testing.T) {
	t.Parallel()
	p := apiparticuliercontract.Platform()
	doc, err := apiparticuliercontract.Load()
	if err != nil {
		t.Fatal(err)
	}
	mockOnly := []string{"participation_familiale_eaje.identite", "participation_familiale_eaje.france_connect",
		"allocation_enfant_handicape.identite", "allocation_enfant_handicape.france_connect",
		"allocation_soutien_familial.identite", "complementaire_sante_solidaire.identite"}
	success, real := map[string]bool{}, map[string]bool{}
	names := map[string]bool{}
	for _, c := range p.Cases {
		if names[c.Name] {
			t.Errorf("case %s appears twice", c.Name)
		}
		names[c.Name] = true
		if !strings.HasPrefix(c.Name, c.Operation+".") {
			t.Errorf("case %s is not named after its operation %s", c.Name, c.Operation)
		}
		if c.Status == http.StatusOK {
			success[c.Operation] = true
			if !c.MockOnly {
				real[c.Operation] = true
			}
		}
	}
	for path, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if !success[op.OperationID] {
				t.Errorf("%s (%s) has no success case", op.OperationID, path)
			}
			if !real[op.OperationID] && !slices.Contains(mockOnly, op.OperationID) {
				t.Errorf("%s has no success case for the real sandbox", op.OperationID)
			}
		}
	}
}

// Verify runs every case against the mock and finds nothing to report,
// and the mock never breaks its own contract.
func TestVerifyAgainstTheMock(t *testing.T) {
	t.Parallel()
	clock := time.Date(2024, time.December, 16, 10, 0, 0, 0, time.UTC)
	// Verify does not pace its calls: the limit is raised so that the run
	// is not cut by the platform's 20 requests per second.
	mock := apiparticulier.New(apiparticulier.Options{Now: func() time.Time { return clock }, RateLimit: 1000})
	p := apiparticuliercontract.Platform()
	connectortest.RequirePass(t, p, connectortest.VerifyMock(t, p, mock))

	st := mock.Stats()
	if st.ResponseViolations != 0 {
		t.Errorf("the mock broke its contract %d times", st.ResponseViolations)
	}
	// Refused by the contract before any handler: two missing recipients,
	// a missing first name, a missing identifier.
	if st.Violations != 4 {
		t.Errorf("%d requests refused by the contract, want 4", st.Violations)
	}
}

// Against a real target, the MockOnly cases are skipped and the platform's
// token goes to the identity and France Travail routes, the FranceConnect
// one to the /france_connect routes.
func TestAuthorizeSendsTheRightToken(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string]map[string]bool{} // path -> Authorization headers
	real := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if seen[r.URL.Path] == nil {
			seen[r.URL.Path] = map[string]bool{}
		}
		seen[r.URL.Path][r.Header.Get("Authorization")] = true
		mu.Unlock()
		http.Error(w, "{}", http.StatusTeapot)
	}))
	defer real.Close()
	base, err := url.Parse(real.URL)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{apiparticuliercontract.EnvToken: "staging-token", apiparticuliercontract.EnvFranceConnectToken: "fc-token"}
	rep := contracts.Verify(t.Context(), apiparticuliercontract.Platform(), contracts.Target{Name: "apiparticulier", BaseURL: base, Client: real.Client()},
		func(k string) string { return env[k] })
	skipped, mockOnly := 0, 0
	for _, r := range rep.Results {
		if r.Skipped != "" {
			skipped++
		}
	}
	for _, c := range apiparticuliercontract.Platform().Cases {
		if c.MockOnly {
			mockOnly++
		}
	}
	if skipped != mockOnly {
		t.Errorf("%d cases skipped against a real target, want the %d MockOnly ones", skipped, mockOnly)
	}

	mu.Lock()
	defer mu.Unlock()
	other := map[bool]string{true: "Bearer staging-token", false: "Bearer fc-token"}
	used := map[string]bool{}
	for path, auths := range seen {
		fc := strings.HasSuffix(path, "/france_connect")
		for auth := range auths {
			used[auth] = true
			if auth == other[fc] {
				t.Errorf("%s got %q", path, auth)
			}
		}
	}
	if !used["Bearer staging-token"] || !used["Bearer fc-token"] {
		t.Errorf("the tokens used were %v, want both", used)
	}
}
