package francetravailcontract_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/relais-dev/relais/contracts/connectortest"
	francetravailcontract "github.com/relais-dev/relais/contracts/francetravail"
	"github.com/relais-dev/relais/mocks/francetravail"
	"github.com/relais-dev/relais/mocks/platform"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestContractDocument(t *testing.T) {
	t.Parallel()
	doc, err := francetravailcontract.Load()
	if err != nil {
		t.Fatalf("loading: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi = %q, want 3.1", doc.OpenAPI)
	}
	for _, phrase := range []string{"Facts from France Travail's public material", "Designed by Relais", "separate hosts", "mock serves both on one base URL", "NOT part of this contract"} {
		if !strings.Contains(strings.Join(strings.Fields(doc.Info.Description), " "), phrase) {
			t.Errorf("info.description does not say %q", phrase)
		}
	}
	hosts := []string{}
	for _, s := range doc.Servers {
		hosts = append(hosts, s.URL)
	}
	if !slices.Contains(hosts, "https://api.francetravail.io/partenaire") {
		t.Errorf("servers %v lack the real API host", hosts)
	}
	token := doc.Paths.Find("/connexion/oauth2/access_token")
	if token == nil || len(token.Servers) == 0 || token.Servers[0].URL != "https://entreprise.francetravail.fr" {
		t.Errorf("the token path does not name the real authentication host")
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "" || op.Summary == "" || len(op.Tags) == 0 {
				t.Errorf("%s %s lacks an operationId, a summary or tags", method, path)
			}
			for _, status := range []string{"400", "429", "500", "503"} {
				if op.Responses.Value(status) == nil {
					t.Errorf("%s does not document %s", op.OperationID, status)
				}
			}
		}
	}
	if !bytes.Equal(francetravailcontract.Spec(), francetravailcontract.Spec()) {
		t.Fatal("Spec is not stable")
	}
}

func TestVerifyAgainstMock(t *testing.T) {
	t.Parallel()
	// The suite sends about 25 requests at once; the mock's per-application
	// limit (10/s, like the platform) is tested in mocks/francetravail.
	mock := francetravail.New(francetravail.Options{RateLimit: platform.RateLimit{Limit: -1}})
	p := francetravailcontract.Platform()
	connectortest.RequirePass(t, p, connectortest.VerifyMock(t, p, mock))
	st := mock.Stats()
	if st.ResponseViolations != 0 {
		t.Errorf("the mock broke its contract %d times", st.ResponseViolations)
	}
	// The requests the runtime refuses for breaking the contract, before
	// any handler: counted, and answered in the platform's format (checked
	// by Verify against the documented 400).
	refused := []string{
		"token.missing_realm", "usagers.search_by_nir.missing_nir", "usagers.search_by_number.malformed",
		"situation.registration.missing_person_token", "situation.payments.malformed_date",
	}
	if st.Violations != int64(len(refused)) {
		t.Errorf("the mock counted %d contract violations, want %d (%v)", st.Violations, len(refused), refused)
	}
	if st.RateLimited != 0 || st.Duplicates != 0 {
		t.Errorf("unexpected rate limiting or duplicates: %+v", st)
	}
}
