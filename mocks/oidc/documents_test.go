package oidc_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/relais-dev/relais/mocks/oidc"
	"github.com/relais-dev/relais/mocks/platform"
)

// discover reads a provider's metadata the way a relying party does,
// sending host as the Host header when it is not empty.
func discover(t *testing.T, b *bundle, host string) zoidc.DiscoveryConfiguration {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, b.url(b.profile.DiscoveryPath), nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	res, err := b.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("%s discovery: %d %q", b.profile.Name, res.StatusCode, res.Header.Get("Content-Type"))
	}
	var d zoidc.DiscoveryConfiguration
	if err := json.NewDecoder(res.Body).Decode(&d); err != nil {
		t.Fatalf("%s discovery: %v", b.profile.Name, err)
	}
	return d
}

// TestDiscoveryPointsAtTheMock reads each provider's metadata where it is
// served, its issuer taken from the request: every endpoint is under the
// issuer, and the JWKS publishes one public key per signing algorithm and
// no private member.
func TestDiscoveryPointsAtTheMock(t *testing.T) {
	t.Parallel()
	for _, p := range oidc.Profiles() {
		t.Run(p.Name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, p, setupOpts{dynamicIssuer: true})
			d := discover(t, b, "")
			if d.Issuer != b.issuer {
				t.Fatalf("issuer %q, want %q", d.Issuer, b.issuer)
			}
			for name, u := range map[string]string{"authorization": d.AuthorizationEndpoint, "token": d.TokenEndpoint,
				"userinfo": d.UserinfoEndpoint, "end_session": d.EndSessionEndpoint, "jwks": d.JwksURI} {
				if !strings.HasPrefix(u, b.issuer+"/") {
					t.Errorf("%s endpoint %q is not under the issuer", name, u)
				}
			}
			if !slices.Equal(d.ResponseTypesSupported, []string{"code"}) || !slices.Contains(d.ScopesSupported, "openid") {
				t.Errorf("response types %v, scopes %v", d.ResponseTypesSupported, d.ScopesSupported)
			}
			if !slices.Equal(d.ACRValuesSupported, p.ACRValues) || !slices.Equal(d.IDTokenSigningAlgValuesSupported, p.IDTokenSigningAlgs) {
				t.Errorf("acr %v, signing %v", d.ACRValuesSupported, d.IDTokenSigningAlgValuesSupported)
			}
			_, body := get(t, b.srv.Client(), d.JwksURI)
			var raw struct{ Keys []map[string]any }
			if err := json.Unmarshal([]byte(body), &raw); err != nil {
				t.Fatal(err)
			}
			for _, k := range raw.Keys {
				for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
					if _, ok := k[private]; ok {
						t.Fatalf("the JWKS publishes the private member %q of %v", private, k["kid"])
					}
				}
			}
			set := b.jwks(t)
			for _, alg := range p.KeyAlgorithms {
				if !slices.Contains(d.IDTokenSigningAlgValuesSupported, string(alg)) {
					t.Errorf("%s keys are published but not advertised", alg)
				}
				n := 0
				for _, k := range set.Keys {
					if k.Algorithm == string(alg) && k.Use == "sig" && k.IsPublic() && k.Valid() {
						n++
					}
				}
				if n != 1 {
					t.Errorf("%d public %s signing keys, want 1", n, alg)
				}
			}
		})
	}
}

// TestIssuer: a fixed Options.Issuer is always the issuer; without one,
// the issuer follows the Host the request reached.
func TestIssuer(t *testing.T) {
	t.Parallel()
	p := oidc.ProSanteConnect()
	dyn := setup(t, p, setupOpts{dynamicIssuer: true})
	if got := discover(t, dyn, "psc.mocks.test:9000").Issuer; got != "http://psc.mocks.test:9000/auth/realms/esante-wallet" {
		t.Fatalf("issuer behind another Host: %q", got)
	}
	if dyn.prov.Issuer() != "" {
		t.Fatalf("Issuer() = %q for a provider without Options.Issuer", dyn.prov.Issuer())
	}
	fixed := setup(t, p, setupOpts{})
	if got := discover(t, fixed, "psc.mocks.test:9000"); got.Issuer != fixed.issuer || got.JwksURI != fixed.issuer+p.JWKSPath {
		t.Fatalf("fixed issuer: %q, jwks %q; want %q", got.Issuer, got.JwksURI, fixed.issuer)
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if fixed.prov.IssuerFor(req) != fixed.issuer || dyn.prov.IssuerFor(req) != "http://example.com/auth/realms/esante-wallet" {
		t.Fatalf("IssuerFor: %q, %q", fixed.prov.IssuerFor(req), dyn.prov.IssuerFor(req))
	}
}

func TestProviderSpecifics(t *testing.T) {
	t.Parallel()
	fc, fcp, pc, psc := oidc.FranceConnect(), oidc.FranceConnectPlus(), oidc.ProConnect(), oidc.ProSanteConnect()
	tests := []struct {
		name string
		ok   bool
	}{
		{"FranceConnect is eidas1 only", slices.Equal(fc.ACRValues, []string{"eidas1"})},
		{"FranceConnect has pairwise subjects", slices.Equal(fc.SubjectTypes, []string{"pairwise"})},
		{"FranceConnect advertises no encryption", fc.IDTokenEncryptionAlgs == nil && fc.UserinfoEncryptionAlgs == nil},
		{"FranceConnect+ is eidas2 and eidas3", slices.Equal(fcp.ACRValues, []string{"eidas2", "eidas3"})},
		{"FranceConnect+ signs with ES256 only", slices.Equal(fcp.IDTokenSigningAlgs, []string{"ES256"}) && slices.Equal(fcp.KeyAlgorithms, []jose.SignatureAlgorithm{jose.ES256})},
		{"FranceConnect+ encrypts id_token", slices.Equal(fcp.IDTokenEncryptionAlgs, []string{"ECDH-ES", "RSA-OAEP", "RSA-OAEP-256"}) && slices.Equal(fcp.IDTokenEncryptionEncs, []string{"A256GCM"})},
		{"FranceConnect+ encrypts userinfo", slices.Equal(fcp.UserinfoEncryptionAlgs, fcp.IDTokenEncryptionAlgs) && slices.Equal(fcp.UserinfoEncryptionEncs, []string{"A256GCM"})},
		{"ProConnect gives the SIRET", slices.Contains(pc.Scopes, "siret") && slices.Contains(pc.Claims, "siret")},
		{"ProConnect has its assurance levels", slices.Contains(pc.ACRValues, "https://proconnect.gouv.fr/assurance/consistency-checked-2fa")},
		{"Pro Santé Connect is a Keycloak realm", psc.IssuerPath == "/auth/realms/esante-wallet" && psc.JWKSPath == "/protocol/openid-connect/certs"},
		{"Pro Santé Connect asks eidas1 and scope_all", slices.Equal(psc.ACRValues, []string{"eidas1"}) && slices.Contains(psc.Scopes, "scope_all")},
		{"Pro Santé Connect gives the professional's ids", slices.Contains(psc.Claims, "SubjectNameID") && slices.Contains(psc.Claims, "SubjectRefPro")},
	}
	for _, tt := range tests {
		if !tt.ok {
			t.Error(tt.name + ": no")
		}
	}
	// FranceConnect+'s metadata has the encryption members, FranceConnect's
	// has none.
	for _, c := range []struct {
		p    oidc.Profile
		want bool
	}{{fc, false}, {fcp, true}, {pc, false}} {
		b, err := json.Marshal(c.p.Discovery("https://idp.example" + c.p.IssuerPath))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(string(b), "id_token_encryption_alg_values_supported"); got != c.want {
			t.Errorf("%s: encryption members present = %v", c.p.Name, got)
		}
	}
}

// TestJWKSVerifiesTheMocksTokens signs an ID token with each private key
// of the mock and verifies it as a relying party would: with the key of
// the published JWKS named by the token's kid; a foreign key's signature
// fails.
func TestJWKSVerifiesTheMocksTokens(t *testing.T) {
	t.Parallel()
	for _, p := range oidc.Profiles() {
		t.Run(p.Name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, p, setupOpts{dynamicIssuer: true})
			set := b.jwks(t)
			now := time.Now()
			for _, key := range b.prov.Keys().Keys() {
				signer, err := key.Signer()
				if err != nil {
					t.Fatal(err)
				}
				claims := jwt.Claims{Issuer: b.issuer, Subject: "pairwise-sub-4242", Audience: jwt.Audience{"relais"},
					IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(60 * time.Second))}
				raw, err := jwt.Signed(signer).Claims(claims).Serialize()
				if err != nil {
					t.Fatal(err)
				}
				tok, err := jwt.ParseSigned(raw, p.KeyAlgorithms)
				if err != nil {
					t.Fatal(err)
				}
				kid := tok.Headers[0].KeyID
				keys := set.Key(kid)
				if kid != key.ID() || len(keys) != 1 {
					t.Fatalf("%s: kid %q resolves to %d published keys", key.SignatureAlgorithm(), kid, len(keys))
				}
				var got jwt.Claims
				if err := tok.Claims(keys[0].Key, &got); err != nil {
					t.Fatalf("%s: the published key does not verify the mock's signature: %v", key.SignatureAlgorithm(), err)
				}
				if err := got.ValidateWithLeeway(jwt.Expected{Issuer: b.issuer, AnyAudience: jwt.Audience{"relais"}, Time: now}, 5*time.Second); err != nil {
					t.Fatal(err)
				}
				other, err := oidc.GenerateKeySet(key.SignatureAlgorithm())
				if err != nil {
					t.Fatal(err)
				}
				forged, _ := other.Keys()[0].Signer()
				rawForged, _ := jwt.Signed(forged).Claims(claims).Serialize()
				tf, _ := jwt.ParseSigned(rawForged, p.KeyAlgorithms)
				if set.Key(tf.Headers[0].KeyID) != nil {
					t.Fatal("a foreign key's kid is published")
				}
				if err := tf.Claims(keys[0].Key, &got); err == nil {
					t.Fatal("the published key verifies a foreign signature")
				}
			}
		})
	}
}

func TestKeys(t *testing.T) {
	t.Parallel()
	ks, err := oidc.GenerateKeySet(jose.ES256, jose.RS256)
	if err != nil {
		t.Fatal(err)
	}
	es, ok := ks.Key(jose.ES256)
	if !ok {
		t.Fatal("no ES256 key")
	}
	if priv, ok := es.Key().(*ecdsa.PrivateKey); !ok || priv.Curve != elliptic.P256() {
		t.Fatalf("ES256 key %T is not a P-256 private key", es.Key())
	}
	rs, _ := ks.Key(jose.RS256)
	if priv, ok := rs.Key().(*rsa.PrivateKey); !ok || priv.N.BitLen() != 2048 {
		t.Fatalf("RS256 key %T is not a 2048-bit RSA key", rs.Key())
	}
	if es.ID() == rs.ID() || es.ID() == "" {
		t.Fatal("key ids are not distinct thumbprints")
	}
	pub := ks.Public()
	if len(pub.Keys) != 2 || !pub.Keys[0].IsPublic() || !pub.Keys[1].IsPublic() {
		t.Fatalf("public set %+v", pub)
	}
	if got := ks.Algorithms(); !slices.Equal(got, []jose.SignatureAlgorithm{jose.ES256, jose.RS256}) {
		t.Fatalf("algorithms %v", got)
	}
	for _, bad := range [][]jose.SignatureAlgorithm{nil, {jose.HS256}, {jose.ES256, jose.ES256}} {
		if _, err := oidc.GenerateKeySet(bad...); err == nil {
			t.Errorf("GenerateKeySet(%v) succeeded", bad)
		}
	}
}

// TestNewRefusesInconsistentProfiles: a profile whose keys, paths or name
// do not hold together is refused with the field named.
func TestNewRefusesInconsistentProfiles(t *testing.T) {
	t.Parallel()
	es, err := oidc.GenerateKeySet(jose.ES256)
	if err != nil {
		t.Fatal(err)
	}
	ok := oidc.Client{ID: clientID, Secret: clientSecret, RedirectURIs: []string{redirectURI}}
	wrongPath := oidc.FranceConnect()
	wrongPath.JWKSPath = "/certs"
	noName := oidc.FranceConnect()
	noName.Name = ""
	noContract := oidc.ProConnect()
	noContract.Contract = nil
	for _, tc := range []struct {
		name    string
		profile oidc.Profile
		keys    *oidc.KeySet
		want    string
	}{
		{"keys without RS256", oidc.FranceConnect(), es, "no RS256 key"},
		{"a path not in the contract", wrongPath, nil, "no GET /api/v2/certs"},
		{"no name", noName, es, "Profile.Name"},
		{"no contract", noContract, nil, "Profile.Contract"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := oidc.New(tc.profile, oidc.Options{Keys: tc.keys, Clients: []oidc.Client{ok}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want an error about %s", err, tc.want)
			}
		})
	}
}

// TestFaultsAreOAuthErrors injects a fault in the JWKS through the mock
// runtime: it answers as an OAuth error, discovery still answers, and the
// counters say so.
func TestFaultsAreOAuthErrors(t *testing.T) {
	t.Parallel()
	p := oidc.ProConnect()
	b := setup(t, p, setupOpts{dynamicIssuer: true})
	if err := b.prov.Platform().SetFaults(platform.Faults{Rules: []platform.Rule{{Operations: []string{"jwks"}, Status: 503, RetryAfter: "3"}}}); err != nil {
		t.Fatal(err)
	}
	res, body := get(t, b.srv.Client(), b.url(p.JWKSPath))
	var e struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || res.StatusCode != 503 || res.Header.Get("Retry-After") != "3" ||
		e.Error != "temporarily_unavailable" || e.ErrorDescription == "" {
		t.Fatalf("injected 503: %d %q %s", res.StatusCode, res.Header.Get("Retry-After"), body)
	}
	discover(t, b, "")
	if st := b.prov.Platform().Stats(); st.Injected["error"] != 1 || st.ByOperation["discovery"] != 1 || st.ResponseViolations != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// BenchmarkDocuments is one discovery or JWKS request through the whole
// provider: routing, the mock runtime and its check against the contract.
func BenchmarkDocuments(b *testing.B) {
	for _, tc := range []struct {
		profile oidc.Profile
		path    func(oidc.Profile) string
	}{
		{oidc.FranceConnectPlus(), func(p oidc.Profile) string { return p.DiscoveryPath }},
		{oidc.ProSanteConnect(), func(p oidc.Profile) string { return p.JWKSPath }},
	} {
		b.Run(tc.profile.Name+tc.path(tc.profile), func(b *testing.B) {
			bu := setup(b, tc.profile, setupOpts{dynamicIssuer: true})
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest(http.MethodGet, tc.profile.IssuerPath+tc.path(tc.profile), nil)
				w := httptest.NewRecorder()
				bu.prov.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}
