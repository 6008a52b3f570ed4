package proconnectcontract_test

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/relais-dev/relais/contracts"
	proconnectcontract "github.com/relais-dev/relais/contracts/proconnect"
	"github.com/relais-dev/relais/mocks/idp"
	"github.com/relais-dev/relais/mocks/platform"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestContractDocument(t *testing.T) {
	t.Parallel()
	doc, err := proconnectcontract.Load()
	if err != nil {
		t.Fatalf("loading: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi = %q, want 3.1", doc.OpenAPI)
	}
	for _, phrase := range []string{"Facts from the platform's public material", "Designed by Relais", "UNKNOWN", "siret"} {
		if !strings.Contains(doc.Info.Description, phrase) {
			t.Errorf("info.description does not say %q", phrase)
		}
	}
	if len(doc.Servers) < 3 {
		t.Errorf("%d servers: the real hosts and the mock are expected", len(doc.Servers))
	}
	p := idp.ProConnect()
	for id, path := range map[string]string{"discovery": p.IssuerPath + p.DiscoveryPath, "jwks": p.IssuerPath + p.JWKSPath} {
		item := doc.Paths.Find(path)
		if item == nil || item.Get == nil || item.Get.OperationID != id || item.Get.Summary == "" || len(item.Get.Tags) == 0 {
			t.Errorf("no documented GET %s named %q", path, id)
		}
	}
}

// verify runs the platform's cases against a mock of profile p.
func verify(t *testing.T, p idp.Profile) (contracts.Report, *idp.Server) {
	t.Helper()
	mock := idp.New(p, idp.Options{})
	ts := httptest.NewServer(mock)
	t.Cleanup(ts.Close)
	base, err := url.Parse(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	rep := contracts.Verify(t.Context(), proconnectcontract.Platform(), contracts.Target{Name: proconnectcontract.Name, BaseURL: base, Client: ts.Client(), Mock: true},
		func(string) string { return "" })
	return rep, mock
}

func TestVerifyAgainstTheMock(t *testing.T) {
	t.Parallel()
	rep, mock := verify(t, idp.ProConnect())
	ran := 0
	for _, r := range rep.Results {
		if r.Failed() || r.Skipped != "" {
			t.Errorf("%s: expected %d, got %d, skipped %q: %v", r.Case, r.Status, r.Got, r.Skipped, r.Violations)
		}
		ran++
	}
	if ran < len(proconnectcontract.Platform().Cases) {
		t.Fatalf("%d results for %d cases", ran, len(proconnectcontract.Platform().Cases))
	}
	// Each operation is called by its case and by the examples check.
	if st := mock.Platform().Stats(); st.ResponseViolations != 0 || st.Violations != 0 || st.ByOperation["discovery"] != 2 || st.ByOperation["jwks"] != 2 {
		t.Fatalf("stats %+v", st)
	}
}

// TestVerifyReportsADriftingProvider removes jwks_uri from the metadata:
// the report must name it.
func TestVerifyReportsADriftingProvider(t *testing.T) {
	t.Parallel()
	mock := idp.New(idp.ProConnect(), idp.Options{})
	if err := mock.Platform().SetFaults(platform.Faults{Rules: []platform.Rule{{
		Operations: []string{"discovery"},
		Drift:      []platform.Drift{{Kind: platform.DriftRemove, Path: "/jwks_uri"}},
	}}}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(mock)
	t.Cleanup(ts.Close)
	base, _ := url.Parse(ts.URL)
	rep := contracts.Verify(t.Context(), proconnectcontract.Platform(), contracts.Target{Name: proconnectcontract.Name, BaseURL: base, Client: ts.Client(), Mock: true},
		func(string) string { return "" })
	found := false
	for _, r := range rep.Results {
		for _, v := range r.Violations {
			if r.Case == "discovery" && v.Kind == contracts.KindRemoved && v.Path == "$.jwks_uri" {
				found = true
			}
		}
	}
	if !found {
		t.Fatalf("the missing jwks_uri was not reported: %+v", rep.Results)
	}
}

// TestVerifyRefusesAnotherProvider serves the FranceConnect mock on the same
// paths: its metadata must break this contract.
func TestVerifyRefusesAnotherProvider(t *testing.T) {
	t.Parallel()
	rep, _ := verify(t, idp.FranceConnect())
	if !rep.Failed() {
		t.Fatal("FranceConnect's metadata passed the proconnect contract")
	}
}
