package contracts_test

import (
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/relais-dev/relais/contracts"
	"github.com/relais-dev/relais/contracts/connectortest"
	franceconnectcontract "github.com/relais-dev/relais/contracts/franceconnect"
	franceconnectpluscontract "github.com/relais-dev/relais/contracts/franceconnectplus"
	proconnectcontract "github.com/relais-dev/relais/contracts/proconnect"
	prosanteconnectcontract "github.com/relais-dev/relais/contracts/prosanteconnect"
	"github.com/relais-dev/relais/mocks/oidc"
	"github.com/relais-dev/relais/mocks/platform"
)

// identityProvider is one identity provider's contract and mock profile.
type identityProvider struct {
	name     string
	load     func() (*openapi3.T, error)
	platform func() contracts.Platform
	profile  func() oidc.Profile
	// says is a phrase the contract's description must hold, proper to
	// the provider.
	says string
	// other is another provider whose metadata must break this contract;
	// nil when none is served on the same paths.
	other func() oidc.Profile
}

func identityProviders() []identityProvider {
	return []identityProvider{
		{franceconnectcontract.Name, franceconnectcontract.Load, franceconnectcontract.Platform, oidc.FranceConnect, "eidas1", oidc.FranceConnectPlus},
		{franceconnectpluscontract.Name, franceconnectpluscontract.Load, franceconnectpluscontract.Platform, oidc.FranceConnectPlus, "eidas2", oidc.FranceConnect},
		{proconnectcontract.Name, proconnectcontract.Load, proconnectcontract.Platform, oidc.ProConnect, "siret", oidc.FranceConnect},
		{prosanteconnectcontract.Name, prosanteconnectcontract.Load, prosanteconnectcontract.Platform, oidc.ProSanteConnect, "esante-wallet", nil},
	}
}

// newProvider starts the full mock provider of p with one client.
func newProvider(t *testing.T, p oidc.Profile) *oidc.Provider {
	t.Helper()
	prov, err := oidc.New(p, oidc.Options{Clients: []oidc.Client{{
		ID: "contract-check", Secret: "contract-check-secret", RedirectURIs: []string{"http://127.0.0.1/callback"},
		JWKSURL: "http://127.0.0.1/.well-known/jwks.json",
	}}})
	if err != nil {
		t.Fatalf("building the %s mock: %v", p.Name, err)
	}
	return prov
}

func TestIdentityProviderContracts(t *testing.T) {
	t.Parallel()
	for _, ip := range identityProviders() {
		t.Run(ip.name, func(t *testing.T) {
			t.Parallel()
			doc, err := ip.load()
			if err != nil {
				t.Fatalf("loading: %v", err)
			}
			if !doc.IsOpenAPI31OrLater() {
				t.Fatalf("openapi = %q, want 3.1", doc.OpenAPI)
			}
			for _, phrase := range []string{"Facts from the platform's public material", "Designed by Relais", "UNKNOWN", ip.says} {
				if !strings.Contains(doc.Info.Description, phrase) {
					t.Errorf("info.description does not say %q", phrase)
				}
			}
			if len(doc.Servers) < 3 {
				t.Errorf("%d servers: the real hosts and the mock are expected", len(doc.Servers))
			}
			p := ip.profile()
			for id, path := range map[string]string{"discovery": p.IssuerPath + p.DiscoveryPath, "jwks": p.IssuerPath + p.JWKSPath} {
				item := doc.Paths.Find(path)
				if item == nil || item.Get == nil || item.Get.OperationID != id || item.Get.Summary == "" || len(item.Get.Tags) == 0 {
					t.Errorf("no documented GET %s named %q", path, id)
				}
			}
		})
	}
}

func TestIdentityProvidersPassTheirContracts(t *testing.T) {
	t.Parallel()
	for _, ip := range identityProviders() {
		t.Run(ip.name, func(t *testing.T) {
			t.Parallel()
			mock := newProvider(t, ip.profile())
			connectortest.RequirePass(t, ip.platform(), connectortest.VerifyMock(t, ip.platform(), mock))
			// Each operation is called by its case and by the examples check.
			if st := mock.Platform().Stats(); st.ResponseViolations != 0 || st.Violations != 0 || st.ByOperation["discovery"] != 2 || st.ByOperation["jwks"] != 2 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// A provider whose metadata lost jwks_uri is reported with that path; and
// another provider's metadata on the same paths breaks the contract.
func TestIdentityProviderContractsCatchChanges(t *testing.T) {
	t.Parallel()
	for _, ip := range identityProviders() {
		t.Run(ip.name, func(t *testing.T) {
			t.Parallel()
			mock := newProvider(t, ip.profile())
			if err := mock.Platform().SetFaults(platform.Faults{Rules: []platform.Rule{{
				Operations: []string{"discovery"},
				Drift:      []platform.Drift{{Kind: platform.DriftRemove, Path: "/jwks_uri"}},
			}}}); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, r := range connectortest.VerifyMock(t, ip.platform(), mock).Results {
				for _, v := range r.Violations {
					found = found || (r.Case == "discovery" && v.Kind == contracts.KindRemoved && v.Path == "$.jwks_uri")
				}
			}
			if !found {
				t.Fatal("the missing jwks_uri was not reported")
			}
			if ip.other != nil && !connectortest.VerifyMock(t, ip.platform(), newProvider(t, ip.other())).Failed() {
				t.Fatalf("another provider's metadata passed the %s contract", ip.name)
			}
		})
	}
}
