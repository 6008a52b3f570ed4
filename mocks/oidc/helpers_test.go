package oidc_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/relais-dev/relais/mocks/oidc"
)

// clock is a fake clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const (
	clientID     = "relais-test"
	clientSecret = "s3cret-of-the-relying-party"
	redirectURI  = "https://rp.example/callback"
	logoutURI    = "https://rp.example/logged-out"
)

// bundle is what setup gives a test: the provider under httptest, its
// clock, and the relying party's encryption key.
type bundle struct {
	prov    *oidc.Provider
	srv     *httptest.Server
	clock   *clock
	encKey  any // the client's private decryption key (FranceConnect+)
	profile oidc.Profile
	// issuer is the provider's issuer: fixed by Options.Issuer, or taken
	// from each request (dynamicIssuer).
	issuer string
}

type setupOpts struct {
	requirePKCE bool
	ecEncKey    bool
	// dynamicIssuer leaves Options.Issuer empty: the provider names itself
	// after the Host of each request, as under `relais mocks`.
	dynamicIssuer bool
	clients       func(b *bundle) []oidc.Client
}

func setup(t testing.TB, p oidc.Profile, so setupOpts) *bundle {
	t.Helper()
	b := &bundle{clock: &clock{t: time.Now()}, profile: p}
	var h http.Handler
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(b.srv.Close)
	c := oidc.Client{ID: clientID, Secret: clientSecret, RedirectURIs: []string{redirectURI}, PostLogoutRedirectURIs: []string{logoutURI}}
	if len(p.IDTokenEncryptionAlgs) > 0 {
		if so.ecEncKey {
			k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				t.Fatalf("generating the client's key: %v", err)
			}
			b.encKey = k
			c.EncryptionKey = &jose.JSONWebKey{Key: &k.PublicKey, KeyID: "rp-enc-ec", Use: "enc"}
		} else {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				t.Fatalf("generating the client's key: %v", err)
			}
			b.encKey = k
			c.EncryptionKey = &jose.JSONWebKey{Key: &k.PublicKey, KeyID: "rp-enc-rsa", Use: "enc"}
		}
	}
	clients := []oidc.Client{c}
	if so.clients != nil {
		clients = so.clients(b)
	}
	b.issuer = b.srv.URL + p.IssuerPath
	issuer := b.issuer
	if so.dynamicIssuer {
		issuer = ""
	}
	prov, err := oidc.New(p, oidc.Options{
		Issuer: issuer, Clients: clients, Now: b.clock.Now, RequirePKCE: so.requirePKCE,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h, b.prov = prov, prov
	return b
}

// browser is a cookie-keeping client that follows redirects on the
// provider and stops at the first one to the relying party.
func (b *bundle) browser(t testing.TB) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("cookiejar: %v", err)
	}
	host := strings.TrimPrefix(b.srv.URL, "http://")
	return &http.Client{Transport: b.srv.Client().Transport, Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if r.URL.Host != host {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

func (b *bundle) url(path string) string { return b.srv.URL + b.profile.IssuerPath + path }

// authParams are valid authorization parameters for the profile.
func (b *bundle) authParams(scope string) url.Values {
	v := url.Values{
		"client_id":     {clientID},
		"redirect_uri":  {redirectURI},
		"response_type": {"code"},
		"scope":         {scope},
		"state":         {"state-0123456789abcdef0123456789abcdef"},
		"nonce":         {"nonce-0123456789abcdef0123456789abcdef"},
	}
	switch b.profile.Name {
	case "franceconnect", "prosanteconnect":
		v.Set("acr_values", "eidas1")
	case "franceconnectplus":
		v.Set("acr_values", "eidas2")
	}
	return v
}

// pkce is a code verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	verifier = "verifier-" + strings.Repeat("x", 50)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// get sends GET and returns the answer with its body read.
func get(t testing.TB, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return res, readBody(t, res)
}

func postForm(t testing.TB, c *http.Client, u string, v url.Values) (*http.Response, string) {
	t.Helper()
	res, err := c.PostForm(u, v)
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	return res, readBody(t, res)
}

func readBody(t testing.TB, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading %s: %v", res.Request.URL, err)
	}
	return string(b)
}

// login drives authorize and the login page as the user userID, and
// returns the consent page's request id and body.
func (b *bundle) login(t testing.TB, c *http.Client, params url.Values, userID string) (id, consentPage string) {
	t.Helper()
	res, body := get(t, c, b.url(b.profile.AuthorizationPath)+"?"+params.Encode())
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `name="user"`) {
		t.Fatalf("authorize: status %d, Location %q, want the login page; body: %.300s", res.StatusCode, res.Header.Get("Location"), body)
	}
	id = res.Request.URL.Query().Get("id")
	if id == "" {
		t.Fatalf("the login page %s has no id", res.Request.URL)
	}
	res, body = postForm(t, c, b.url("/login"), url.Values{"id": {id}, "user": {userID}, "action": {"login"}})
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `value="accept"`) {
		t.Fatalf("login: status %d, want the consent page; body: %.300s", res.StatusCode, body)
	}
	return id, body
}

// authorize drives the whole browser part of the flow and returns the
// redirect to the relying party.
func (b *bundle) authorize(t testing.TB, c *http.Client, params url.Values, userID string) *url.URL {
	t.Helper()
	id, _ := b.login(t, c, params, userID)
	return b.answerConsent(t, c, id, "accept")
}

func (b *bundle) answerConsent(t testing.TB, c *http.Client, id, action string) *url.URL {
	t.Helper()
	res, body := postForm(t, c, b.url("/consent"), url.Values{"id": {id}, "action": {action}})
	return redirectTo(t, res, body)
}

func redirectTo(t testing.TB, res *http.Response, body string) *url.URL {
	t.Helper()
	if res.StatusCode != http.StatusFound && res.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d, want a redirect to the relying party; body: %.300s", res.StatusCode, body)
	}
	u, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatalf("parsing Location: %v", err)
	}
	return u
}

// tokenResponse is the token endpoint's answer.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	IDToken     string `json:"id_token"`
	Error       string `json:"error"`
}

func (b *bundle) exchange(t testing.TB, code, verifier string) (int, tokenResponse) {
	t.Helper()
	v := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
		"client_id": {clientID}, "client_secret": {clientSecret}}
	if verifier != "" {
		v.Set("code_verifier", verifier)
	}
	return b.postToken(t, v)
}

func (b *bundle) postToken(t testing.TB, v url.Values) (int, tokenResponse) {
	t.Helper()
	res, body := postForm(t, b.srv.Client(), b.url(b.profile.TokenPath), v)
	var tr tokenResponse
	if err := json.Unmarshal([]byte(body), &tr); err != nil {
		t.Fatalf("decoding the token response %q: %v", body, err)
	}
	return res.StatusCode, tr
}

// jwks reads the provider's published keys through its discovery document.
func (b *bundle) jwks(t testing.TB) jose.JSONWebKeySet {
	t.Helper()
	_, body := get(t, b.srv.Client(), b.url(b.profile.DiscoveryPath))
	var disco struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal([]byte(body), &disco); err != nil {
		t.Fatalf("decoding discovery: %v", err)
	}
	if disco.Issuer != b.issuer {
		t.Fatalf("discovery issuer %q, want %q", disco.Issuer, b.issuer)
	}
	_, body = get(t, b.srv.Client(), disco.JWKSURI)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(body), &set); err != nil {
		t.Fatalf("decoding the JWKS: %v", err)
	}
	return set
}

// verifyJWT checks a compact JWS against the published keys and returns
// its claims.
func verifyJWT(t testing.TB, set jose.JSONWebKeySet, token string) map[string]any {
	t.Helper()
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		t.Fatalf("parsing the JWS: %v", err)
	}
	kid := jws.Signatures[0].Header.KeyID
	keys := set.Key(kid)
	if len(keys) != 1 {
		t.Fatalf("the JWKS has %d keys with kid %q, want 1", len(keys), kid)
	}
	payload, err := jws.Verify(keys[0].Key)
	if err != nil {
		t.Fatalf("verifying the JWS: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatalf("decoding the claims: %v", err)
	}
	return claims
}

// decryptJWE opens a nested JWT for the client and returns the inner JWS.
func decryptJWE(t testing.TB, key any, token string) string {
	t.Helper()
	jwe, err := jose.ParseEncrypted(token,
		[]jose.KeyAlgorithm{jose.RSA_OAEP_256, jose.RSA_OAEP, jose.ECDH_ES},
		[]jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		t.Fatalf("parsing the JWE: %v", err)
	}
	if cty := jwe.Header.ExtraHeaders[jose.HeaderContentType]; cty != "JWT" {
		t.Fatalf("JWE cty = %v, want JWT", cty)
	}
	plain, err := jwe.Decrypt(key)
	if err != nil {
		t.Fatalf("decrypting the JWE: %v", err)
	}
	return string(plain)
}

// userinfo calls userinfo with the access token and returns the status,
// Content-Type and body.
func (b *bundle) userinfo(t testing.TB, accessToken string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, b.url(b.profile.UserinfoPath), nil)
	if err != nil {
		t.Fatalf("building the userinfo request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	res, err := b.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("GET userinfo: %v", err)
	}
	body := readBody(t, res)
	return res.StatusCode, res.Header.Get("Content-Type"), body
}
