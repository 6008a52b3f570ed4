package idp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"go.uber.org/goleak"

	"github.com/relais-dev/relais/mocks/platform"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// keysFor generates each profile's keys once per test binary: RSA key
// generation is slow, and the tests that need fresh keys make their own.
var (
	keysMu    sync.Mutex
	keysCache = map[string]*KeySet{}
)

func keysFor(t testing.TB, p Profile) *KeySet {
	t.Helper()
	keysMu.Lock()
	defer keysMu.Unlock()
	if ks, ok := keysCache[p.Name]; ok {
		return ks
	}
	ks, err := GenerateKeySet(p.KeyAlgorithms...)
	if err != nil {
		t.Fatal(err)
	}
	keysCache[p.Name] = ks
	return ks
}

// start serves p under httptest and checks, when the test ends, that the
// mock never answered against its contract.
func start(t *testing.T, p Profile, o Options) (*Server, *httptest.Server) {
	t.Helper()
	if o.Keys == nil {
		o.Keys = keysFor(t, p)
	}
	s := New(p, o)
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		ts.Close()
		if v := s.Platform().Stats().ResponseViolations; v != 0 {
			t.Errorf("%s: %d answers break the contract", p.Name, v)
		}
	})
	return s, ts
}

func get(t *testing.T, client *http.Client, url string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	rsp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer rsp.Body.Close()
	b, err := io.ReadAll(rsp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return rsp.StatusCode, rsp.Header, b
}

// discover reads a provider's metadata the way a relying party does.
func discover(t *testing.T, ts *httptest.Server, p Profile) oidc.DiscoveryConfiguration {
	t.Helper()
	status, h, body := get(t, ts.Client(), ts.URL+p.IssuerPath+p.DiscoveryPath)
	if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Fatalf("%s discovery: %d %q", p.Name, status, h.Get("Content-Type"))
	}
	var d oidc.DiscoveryConfiguration
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatalf("%s discovery: %v", p.Name, err)
	}
	return d
}

func fetchJWKS(t *testing.T, client *http.Client, url string) jose.JSONWebKeySet {
	t.Helper()
	status, _, body := get(t, client, url)
	if status != http.StatusOK {
		t.Fatalf("JWKS: %d %s", status, body)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	// No private material is published.
	var raw struct{ Keys []map[string]any }
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range raw.Keys {
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			if _, ok := k[private]; ok {
				t.Fatalf("the JWKS publishes the private member %q of %v", private, k["kid"])
			}
		}
	}
	return set
}

func TestDiscoveryPointsAtTheMock(t *testing.T) {
	t.Parallel()
	for _, p := range Profiles() {
		t.Run(p.Name, func(t *testing.T) {
			t.Parallel()
			_, ts := start(t, p, Options{})
			d := discover(t, ts, p)
			issuer := ts.URL + p.IssuerPath
			if d.Issuer != issuer {
				t.Fatalf("issuer %q, want %q", d.Issuer, issuer)
			}
			for name, u := range map[string]string{"authorization": d.AuthorizationEndpoint, "token": d.TokenEndpoint,
				"userinfo": d.UserinfoEndpoint, "end_session": d.EndSessionEndpoint, "jwks": d.JwksURI} {
				if !strings.HasPrefix(u, issuer+"/") {
					t.Errorf("%s endpoint %q is not under the issuer", name, u)
				}
			}
			if !slices.Equal(d.ResponseTypesSupported, []string{"code"}) || !slices.Contains(d.ScopesSupported, "openid") {
				t.Errorf("response types %v, scopes %v", d.ResponseTypesSupported, d.ScopesSupported)
			}
			if !slices.Equal(d.ACRValuesSupported, p.ACRValues) || !slices.Equal(d.IDTokenSigningAlgValuesSupported, p.IDTokenSigningAlgs) {
				t.Errorf("acr %v, signing %v", d.ACRValuesSupported, d.IDTokenSigningAlgValuesSupported)
			}
			// Every key algorithm the provider signs with is advertised,
			// and its JWKS has a key for each.
			set := fetchJWKS(t, ts.Client(), d.JwksURI)
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

func TestProviderSpecifics(t *testing.T) {
	t.Parallel()
	fc, fcp, pc, psc := FranceConnect(), FranceConnectPlus(), ProConnect(), ProSanteConnect()
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
		p    Profile
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
// the published JWKS named by the token's kid, and the issuer of the
// metadata.
func TestJWKSVerifiesTheMocksTokens(t *testing.T) {
	t.Parallel()
	for _, p := range Profiles() {
		t.Run(p.Name, func(t *testing.T) {
			t.Parallel()
			s, ts := start(t, p, Options{})
			d := discover(t, ts, p)
			set := fetchJWKS(t, ts.Client(), d.JwksURI)
			now := time.Now()
			for _, key := range s.Keys().Keys() {
				signer, err := key.Signer()
				if err != nil {
					t.Fatal(err)
				}
				claims := jwt.Claims{Issuer: d.Issuer, Subject: "pairwise-sub-4242", Audience: jwt.Audience{"relais"},
					IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(60 * time.Second))}
				raw, err := jwt.Signed(signer).Claims(claims).Claims(map[string]any{"acr": p.ACRValues[0]}).Serialize()
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
				var extra struct {
					ACR string `json:"acr"`
				}
				if err := tok.Claims(keys[0].Key, &got, &extra); err != nil {
					t.Fatalf("%s: the published key does not verify the mock's signature: %v", key.SignatureAlgorithm(), err)
				}
				if err := got.ValidateWithLeeway(jwt.Expected{Issuer: d.Issuer, AnyAudience: jwt.Audience{"relais"}, Time: now}, 5*time.Second); err != nil {
					t.Fatal(err)
				}
				if extra.ACR != p.ACRValues[0] {
					t.Fatalf("acr %q", extra.ACR)
				}

				// A token signed by another key of the same algorithm
				// fails against the published set.
				other, err := GenerateKeySet(key.SignatureAlgorithm())
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

func TestIssuerOption(t *testing.T) {
	t.Parallel()
	p := ProSanteConnect()
	_, ts := start(t, p, Options{Issuer: "https://auth.bas.esw.esante.gouv.fr/auth/realms/esante-wallet/"})
	d := discover(t, ts, p)
	if d.Issuer != "https://auth.bas.esw.esante.gouv.fr/auth/realms/esante-wallet" ||
		d.JwksURI != "https://auth.bas.esw.esante.gouv.fr/auth/realms/esante-wallet/protocol/openid-connect/certs" {
		t.Fatalf("issuer %q, jwks %q", d.Issuer, d.JwksURI)
	}
	// Behind a host name, the computed issuer follows the Host header.
	_, ts2 := start(t, p, Options{})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, ts2.URL+p.IssuerPath+p.DiscoveryPath, nil)
	req.Host = "psc.mocks.test:9000"
	rsp, err := ts2.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer rsp.Body.Close()
	var got oidc.DiscoveryConfiguration
	if err := json.NewDecoder(rsp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Issuer != "http://psc.mocks.test:9000/auth/realms/esante-wallet" {
		t.Fatalf("issuer %q", got.Issuer)
	}
}

func TestKeys(t *testing.T) {
	t.Parallel()
	ks, err := GenerateKeySet(jose.ES256, jose.RS256)
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
		if _, err := GenerateKeySet(bad...); err == nil {
			t.Errorf("GenerateKeySet(%v) succeeded", bad)
		}
	}
	// Two servers generate different keys; one server keeps its keys.
	p := FranceConnectPlus()
	a, b := New(p, Options{}), New(p, Options{})
	if a.Keys().Keys()[0].ID() == b.Keys().Keys()[0].ID() {
		t.Fatal("two mocks share a generated key")
	}
	if a.Keys().Keys()[0].ID() != a.Keys().Keys()[0].ID() {
		t.Fatal("a mock's key changed")
	}
}

func TestNewPanicsOnInconsistencies(t *testing.T) {
	t.Parallel()
	es, err := GenerateKeySet(jose.ES256)
	if err != nil {
		t.Fatal(err)
	}
	wrongPath := FranceConnect()
	wrongPath.JWKSPath = "/certs"
	noName := FranceConnect()
	noName.Name = ""
	for name, f := range map[string]func(){
		"keys without RS256":         func() { New(FranceConnect(), Options{Keys: es}) },
		"a path not in the contract": func() { New(wrongPath, Options{Keys: keysFor(t, wrongPath)}) },
		"no name":                    func() { New(noName, Options{Keys: es}) },
		"relative issuer":            func() { New(FranceConnectPlus(), Options{Keys: es, Issuer: "idp.example/api/v2"}) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: New did not panic", name)
				}
			}()
			f()
		}()
	}
}

func TestFaultsAreOAuthErrors(t *testing.T) {
	t.Parallel()
	p := ProConnect()
	s, ts := start(t, p, Options{})
	if err := s.Platform().SetFaults(platform.Faults{Rules: []platform.Rule{{Operations: []string{"jwks"}, Status: 503, RetryAfter: "3"}}}); err != nil {
		t.Fatal(err)
	}
	status, h, body := get(t, ts.Client(), ts.URL+p.IssuerPath+p.JWKSPath)
	var e struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if err := json.Unmarshal(body, &e); err != nil || status != 503 || h.Get("Retry-After") != "3" || e.Error != "temporarily_unavailable" || e.ErrorDescription == "" {
		t.Fatalf("injected 503: %d %q %s", status, h.Get("Retry-After"), body)
	}
	status, _, body = get(t, ts.Client(), ts.URL+p.IssuerPath+"/nowhere")
	if status != 404 || !strings.Contains(string(body), `"error":"not_found"`) {
		t.Fatalf("unknown path: %d %s", status, body)
	}
	// Discovery still answers.
	discover(t, ts, p)
	if st := s.Platform().Stats(); st.Injected["error"] != 1 || st.ByOperation["discovery"] != 1 {
		t.Fatalf("stats %+v", st)
	}
}
