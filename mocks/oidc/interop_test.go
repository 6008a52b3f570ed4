package oidc_test

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/relais-dev/relais/connectors"
	rpoidc "github.com/relais-dev/relais/gateway/identity/oidc"
	"github.com/relais-dev/relais/mocks/oidc"
)

// TestRelaisRelyingParty signs in through each mock provider with Relais'
// own relying party (gateway/identity/oidc), which checks everything a
// real provider's tokens must pass: discovery, PKCE, JWE, signatures,
// nonce, acr, signed userinfo.
func TestRelaisRelyingParty(t *testing.T) {
	t.Parallel()
	cases := []struct {
		profile oidc.Profile
		rp      rpoidc.Profile
		user    string
		scopes  []string
		claim   string
		want    string
	}{
		{oidc.FranceConnect(), rpoidc.ProfileFranceConnect, "angela.dubois", []string{"openid", "identite_pivot"}, "given_name", "Angela Claire Louise"},
		{oidc.FranceConnectPlus(), rpoidc.ProfileFranceConnectPlus, "jean-philippe.dartois", []string{"openid", "identite_pivot"}, "family_name", "D'ARTOIS-LÉVÊQUE"},
		{oidc.ProConnect(), rpoidc.ProfileProConnect, "karim.benali", []string{"openid", "given_name", "usual_name", "email", "uid", "siret", "idp_id"}, "siret", "77501234500010"},
		{oidc.ProSanteConnect(), rpoidc.ProfileProSanteConnect, "marc.leblanc", []string{"openid", "scope_all"}, "SubjectNameID", "810009876543"},
	}
	for _, tc := range cases {
		t.Run(tc.profile.Name, func(t *testing.T) {
			t.Parallel()
			keys, err := rpoidc.GenerateDecryptionKeys()
			if err != nil {
				t.Fatalf("generating Relais' keys: %v", err)
			}
			jwks := httptest.NewServer(keys.Handler())
			t.Cleanup(jwks.Close)
			b := setup(t, tc.profile, setupOpts{clients: func(*bundle) []oidc.Client {
				return []oidc.Client{{ID: clientID, Secret: clientSecret, RedirectURIs: []string{redirectURI}, JWKSURL: jwks.URL}}
			}})
			cfg := rpoidc.Config{
				Profile: tc.rp, IssuerURL: b.prov.Issuer(), ClientID: clientID, ClientSecret: connectors.Secret(clientSecret),
				RedirectURL: redirectURI, Scopes: tc.scopes, Encrypted: len(tc.profile.IDTokenEncryptionAlgs) > 0,
			}
			if cfg.Encrypted {
				// The relying party's Config wants the key file even when
				// Options.Keys is given.
				raw, err := keys.MarshalJSON()
				if err != nil {
					t.Fatalf("encoding Relais' keys: %v", err)
				}
				cfg.EncryptionKeyFile = filepath.Join(t.TempDir(), "keys.json")
				if err := os.WriteFile(cfg.EncryptionKeyFile, raw, 0o600); err != nil {
					t.Fatalf("writing Relais' keys: %v", err)
				}
			}
			rp, err := rpoidc.New(t.Context(), cfg, rpoidc.Options{
				Pending: rpoidc.NewMemoryPending(10*time.Minute, 100, b.clock.Now), HTTPClient: b.srv.Client(),
				Now: b.clock.Now, Keys: keys,
			})
			if err != nil {
				t.Fatalf("building the relying party: %v", err)
			}
			login, err := rp.Begin(t.Context(), rpoidc.BeginOptions{})
			if err != nil {
				t.Fatalf("Begin: %v", err)
			}
			c := b.browser(t)
			res, body := get(t, c, login.URL)
			id := res.Request.URL.Query().Get("id")
			if id == "" {
				t.Fatalf("authorize did not lead to the login page: status %d, %.300s", res.StatusCode, body)
			}
			if res, body = postForm(t, c, b.url("/login"), map[string][]string{"id": {id}, "user": {tc.user}}); res.StatusCode != 200 {
				t.Fatalf("login: status %d, %.300s", res.StatusCode, body)
			}
			back := b.answerConsent(t, c, id, "accept")
			ident, err := rp.Callback(t.Context(), back.Query(), login.Binding)
			if err != nil {
				t.Fatalf("Callback: %v", err)
			}
			sub, _ := b.prov.Subject(clientID, tc.user)
			if ident.Subject != sub || ident.Claims[tc.claim] != tc.want {
				t.Fatalf("identity sub %q (want %q), %s = %v (want %q)", ident.Subject, sub, tc.claim, ident.Claims[tc.claim], tc.want)
			}
		})
	}
}
