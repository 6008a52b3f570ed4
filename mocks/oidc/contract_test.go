package oidc_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/relais-dev/relais/contracts"
	franceconnectcontract "github.com/relais-dev/relais/contracts/franceconnect"
	franceconnectpluscontract "github.com/relais-dev/relais/contracts/franceconnectplus"
	proconnectcontract "github.com/relais-dev/relais/contracts/proconnect"
	prosanteconnectcontract "github.com/relais-dev/relais/contracts/prosanteconnect"
	"github.com/relais-dev/relais/mocks/oidc"
)

// TestContracts checks the discovery document and the JWKS of each
// provider against its contract, as `relais contracts verify` does.
func TestContracts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		profile  oidc.Profile
		platform contracts.Platform
	}{
		{oidc.FranceConnect(), franceconnectcontract.Platform()},
		{oidc.FranceConnectPlus(), franceconnectpluscontract.Platform()},
		{oidc.ProConnect(), proconnectcontract.Platform()},
		{oidc.ProSanteConnect(), prosanteconnectcontract.Platform()},
	}
	for _, tc := range cases {
		t.Run(tc.profile.Name, func(t *testing.T) {
			t.Parallel()
			// As `relais mocks` serves them: the issuer from the Host.
			b := setup(t, tc.profile, setupOpts{dynamicIssuer: true})
			u, err := url.Parse(b.srv.URL)
			if err != nil {
				t.Fatalf("parsing the server URL: %v", err)
			}
			target := contracts.Target{Name: tc.profile.Name, BaseURL: u, Client: b.srv.Client(), Timeout: 5 * time.Second, Mock: true}
			rep := contracts.Verify(t.Context(), tc.platform, target, func(string) string { return "" })
			if len(rep.Results) == 0 {
				t.Fatalf("the contract check ran nothing")
			}
			for _, res := range rep.Results {
				for _, v := range res.Violations {
					t.Errorf("%s: %s: %s", res.Case, v.Kind, v.Detail)
				}
			}
		})
	}
}
