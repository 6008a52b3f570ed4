package oidc_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/relais-dev/relais/mocks/oidc"
)

// BenchmarkUserinfo measures userinfo: op's lookup, then the JWT signing
// (and, on FranceConnect+, the encryption).
func BenchmarkUserinfo(b *testing.B) {
	for _, p := range []oidc.Profile{oidc.FranceConnect(), oidc.FranceConnectPlus()} {
		b.Run(p.Name, func(b *testing.B) {
			bu := setup(b, p, setupOpts{ecEncKey: true})
			params := bu.authParams("openid identite_pivot email")
			if p.Name == "franceconnectplus" {
				params.Set("acr_values", "eidas2")
			}
			back := bu.authorize(b, bu.browser(b), params, "angela.dubois")
			_, tr := bu.exchange(b, back.Query().Get("code"), "")
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, p.IssuerPath+p.UserinfoPath, nil)
				req.Header.Set("Authorization", "Bearer "+tr.AccessToken)
				rec := httptest.NewRecorder()
				bu.prov.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("userinfo: status %d", rec.Code)
				}
			}
		})
	}
}
