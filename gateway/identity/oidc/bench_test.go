package oidc_test

import (
	"testing"

	"github.com/relais-dev/relais/gateway/identity/oidc"
)

// BenchmarkLogin measures a whole login (Begin, authorize, Callback with
// token exchange, id_token and userinfo checks) against the test OP.
func BenchmarkLogin(b *testing.B) {
	for _, p := range []oidc.Profile{oidc.ProfileFranceConnect, oidc.ProfileFranceConnectPlus} {
		b.Run(string(p), func(b *testing.B) {
			bb := setup(b, p)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bb.login(b, oidc.BeginOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
