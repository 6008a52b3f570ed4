package oidc

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/relais-dev/relais/mocks/platform"
)

// Compile-time check.
var _ http.Handler = (*Provider)(nil)

// Provider is a mock OpenID Provider: an http.Handler serving one
// provider's discovery, JWKS, authorize (with its login and consent
// pages), token, userinfo and end_session under the issuer's path. It is
// safe for concurrent use.
type Provider struct {
	profile    Profile
	opts       Options
	issuerPath string
	keys       *KeySet
	signing    *SigningKey
	storage    *storage
	op         *op.Provider
	public     *documents
	pages      *template.Template
}

// The paths, under the issuer, of the pages this package adds to op's
// endpoints.
const (
	loginPath     = "/login"
	consentPath   = "/consent"
	loggedOutPath = "/logged-out"
	callbackPath  = "/callback" // after the authorization path, as op routes it
)

// New returns the mock of the provider p. Options.Issuer's path, when set,
// must be p.IssuerPath, so that the discovery document keeps matching p's
// contract.
func New(p Profile, o Options) (*Provider, error) {
	o = o.WithDefaults(p)
	if err := o.Validate(p); err != nil {
		return nil, err
	}
	keys := o.Keys
	if keys == nil {
		var err error
		if keys, err = GenerateKeySet(p.KeyAlgorithms...); err != nil {
			return nil, fmt.Errorf("generating %s's keys: %w", p.Name, err)
		}
	}
	for _, alg := range p.KeyAlgorithms {
		if _, ok := keys.Key(alg); !ok {
			return nil, fmt.Errorf("oidc: Options.Keys has no %s key, which %s publishes", alg, p.Name)
		}
	}
	signing, ok := keys.Key(o.SigningAlg)
	if !ok {
		return nil, fmt.Errorf("oidc: Options.Keys has no %s key (Options.SigningAlg)", o.SigningAlg)
	}
	if o.CryptoKey == ([32]byte{}) {
		_, _ = rand.Read(o.CryptoKey[:]) // crypto/rand.Read never fails
	}
	pr := &Provider{
		profile: p, opts: o, issuerPath: p.IssuerPath, keys: keys, signing: signing,
		pages: template.Must(template.New("pages").Parse(pagesHTML)),
	}
	pr.storage = &storage{
		profile: p, kind: kindOf(p.Name), now: o.Now, pkce: o.RequirePKCE, keys: keys, signing: signing,
		clients: make(map[string]*client), users: make(map[string]User),
		requests: make(map[string]*authRequest), codes: make(map[string]string), tokens: make(map[string]*accessToken),
	}
	for _, c := range o.Clients {
		pr.storage.clients[c.ID] = &client{Client: c, scopes: p.Scopes, loginURL: pr.loginURL}
	}
	for _, us := range o.Users {
		pr.storage.users[us.ID] = us
	}

	// A fixed issuer may be plain HTTP (tests, the sandbox); one taken
	// from each request follows the request's scheme.
	opOpts := []op.Option{op.WithAllowInsecure()}
	opOpts = append(opOpts, op.WithCustomEndpoints(
		op.NewEndpoint(p.AuthorizationPath), op.NewEndpoint(p.TokenPath), op.NewEndpoint(p.UserinfoPath),
		op.NewEndpoint("/revoke"), op.NewEndpoint(p.EndSessionPath), op.NewEndpoint(p.JWKSPath),
	))
	config := &op.Config{
		CryptoKey:                o.CryptoKey,
		DefaultLogoutRedirectURI: pr.base() + loggedOutPath,
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		AuthMethodPrivateKeyJWT:  true,
		SupportedScopes:          p.Scopes,
		SupportedClaims:          p.Claims,
	}
	issuer := func(bool) (op.IssuerFromRequest, error) { return pr.issuer, nil }
	var err error
	if pr.op, err = op.NewProvider(config, pr.storage, issuer, opOpts...); err != nil {
		return nil, fmt.Errorf("building %s's OpenID Provider: %w", p.Name, err)
	}
	if pr.public, err = newDocuments(p, pr.issuer, keys, o.Now, o.Logger); err != nil {
		return nil, err
	}
	return pr, nil
}

// Profile is the provider the mock plays.
func (p *Provider) Profile() Profile { return p.profile }

// Issuer is the provider's issuer URL: Options.Issuer, empty when the
// issuer comes from each request (IssuerFor).
func (p *Provider) Issuer() string { return p.opts.Issuer }

// IssuerFor is the issuer the provider names in its answer to r:
// Options.Issuer, or r's scheme and Host plus the profile's issuer path.
func (p *Provider) IssuerFor(r *http.Request) string { return p.issuer(r) }

func (p *Provider) issuer(r *http.Request) string {
	if p.opts.Issuer != "" {
		return p.opts.Issuer
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + p.issuerPath
}

// Keys are the provider's signing keys, private parts included.
func (p *Provider) Keys() *KeySet { return p.keys }

// Platform is the mock runtime that serves the discovery document and the
// JWKS: their faults, counters and contract checks (the /_mock/ control
// API).
func (p *Provider) Platform() *platform.Server { return p.public.rt }

// Users are the test users of the login page.
func (p *Provider) Users() []User { return append([]User(nil), p.opts.Users...) }

// Subject is the sub the provider gives userID at clientID.
func (p *Provider) Subject(clientID, userID string) (string, bool) {
	u, ok := p.storage.users[userID]
	if !ok {
		return "", false
	}
	return p.storage.subject(clientID, u), true
}

// base prefixes the provider's own pages: the issuer when fixed, else the
// issuer's path on whatever host the browser reached.
func (p *Provider) base() string {
	if p.opts.Issuer != "" {
		return p.opts.Issuer
	}
	return p.issuerPath
}

// loginURL is where op sends the browser to sign in.
func (p *Provider) loginURL(id string) string {
	return p.base() + loginPath + "?id=" + url.QueryEscape(id)
}

// ServeHTTP implements http.Handler.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_mock/") {
		p.public.ServeHTTP(w, r)
		return
	}
	rel, ok := strings.CutPrefix(r.URL.Path, p.issuerPath)
	if !ok {
		http.NotFound(w, r)
		return
	}
	switch rel {
	case p.profile.DiscoveryPath, p.profile.JWKSPath:
		p.public.ServeHTTP(w, r)
	case loginPath:
		p.login(w, r)
	case consentPath:
		p.consent(w, r)
	case loggedOutPath:
		p.render(w, http.StatusOK, "logged-out", nil)
	case p.profile.TokenPath:
		p.token(w, r, rel)
	case p.profile.UserinfoPath:
		p.userinfo(w, r, rel)
	case p.profile.AuthorizationPath, p.profile.AuthorizationPath + callbackPath, p.profile.EndSessionPath:
		p.op.ServeHTTP(w, p.relative(r, rel))
	default:
		http.NotFound(w, r)
	}
}

// relative is r with the path op routes: relative to the issuer.
func (p *Provider) relative(r *http.Request, rel string) *http.Request {
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = rel, ""
	return r2
}

// token is op's token endpoint; on a provider that encrypts, the id_token
// of the answer is encrypted to the client.
func (p *Provider) token(w http.ResponseWriter, r *http.Request, rel string) {
	if !encrypts(p.profile) {
		p.op.ServeHTTP(w, p.relative(r, rel))
		return
	}
	rec := newRecorder()
	p.op.ServeHTTP(rec, p.relative(r, rel))
	if rec.status != http.StatusOK {
		rec.copyTo(w)
		return
	}
	var body map[string]any
	if err := json.Unmarshal(rec.body.Bytes(), &body); err != nil {
		writeOAuthError(w, http.StatusInternalServerError, "server_error", "decoding the token response")
		return
	}
	idToken, _ := body["id_token"].(string)
	claims, err := p.verifyOwn(idToken)
	if err != nil {
		writeOAuthError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	aud := audience(claims["aud"])
	c, ok := p.storage.clients[aud]
	if !ok {
		writeOAuthError(w, http.StatusInternalServerError, "server_error", "the id_token has no known audience")
		return
	}
	jwe, err := p.encrypt(r, c.Client, idToken)
	if err != nil {
		writeOAuthError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	body["id_token"] = jwe
	b, _ := json.Marshal(body) // decoded JSON re-encodes
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// userinfo is op's userinfo endpoint, answered as a signed JWT (and, on a
// provider that encrypts, a JWE around it).
func (p *Provider) userinfo(w http.ResponseWriter, r *http.Request, rel string) {
	// Read the form before op does, on the same values (Clone copies it).
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "unreadable form")
		return
	}
	rec := newRecorder()
	p.op.ServeHTTP(rec, p.relative(r, rel))
	if rec.status != http.StatusOK {
		rec.copyTo(w)
		return
	}
	var claims map[string]any
	if err := json.Unmarshal(rec.body.Bytes(), &claims); err != nil {
		writeOAuthError(w, http.StatusInternalServerError, "server_error", "decoding the userinfo response")
		return
	}
	clientID, ok := p.accessTokenClient(r)
	if !ok {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_token", "unknown access token")
		return
	}
	now := p.opts.Now()
	claims["iss"] = p.issuer(r)
	claims["aud"] = clientID
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(idTokenLifetime).Unix()
	jws, err := p.sign(claims)
	if err != nil {
		writeOAuthError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	out := jws
	if encrypts(p.profile) {
		if out, err = p.encrypt(r, p.storage.clients[clientID].Client, jws); err != nil {
			writeOAuthError(w, http.StatusInternalServerError, "server_error", err.Error())
			return
		}
	}
	w.Header().Set("Content-Type", "application/jwt")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(out))
}

// accessTokenClient is the client the request's access token was issued
// to: op's opaque tokens are "tokenID:subject" encrypted with its crypto.
func (p *Provider) accessTokenClient(r *http.Request) (string, bool) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		token = r.Form.Get("access_token")
	}
	plain, err := p.op.Crypto().Decrypt(token)
	if err != nil {
		return "", false
	}
	id, _, ok := strings.Cut(plain, ":")
	if !ok {
		return "", false
	}
	return p.storage.tokenClient(id)
}

// sign signs claims as a JWT with the provider's signing key.
func (p *Provider) sign(claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encoding claims: %w", err)
	}
	signer, err := p.signing.Signer()
	if err != nil {
		return "", fmt.Errorf("signing userinfo: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("signing userinfo: %w", err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("serializing userinfo: %w", err)
	}
	return out, nil
}

// verifyOwn checks a JWT this provider signed and returns its claims.
func (p *Provider) verifyOwn(token string) (map[string]any, error) {
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{p.signing.SignatureAlgorithm()})
	if err != nil {
		return nil, fmt.Errorf("parsing the id_token: %w", err)
	}
	pub := p.signing.Public()
	payload, err := jws.Verify(pub.Key)
	if err != nil {
		return nil, fmt.Errorf("verifying the id_token: %w", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, fmt.Errorf("decoding the id_token: %w", err)
	}
	return claims, nil
}

func audience(v any) string {
	switch a := v.(type) {
	case string:
		return a
	case []any:
		if len(a) > 0 {
			s, _ := a[0].(string)
			return s
		}
	}
	return ""
}

// encrypt wraps a signed JWT in a JWE to the client's key: RSA-OAEP-256
// for an RSA key, ECDH-ES for an EC key (or the key's own alg when the
// profile supports it), A256GCM, cty "JWT".
func (p *Provider) encrypt(r *http.Request, c Client, jws string) (string, error) {
	key, err := p.encryptionKey(r, c)
	if err != nil {
		return "", err
	}
	var alg jose.KeyAlgorithm
	switch key.Key.(type) {
	case *rsa.PublicKey:
		alg = jose.RSA_OAEP_256
	case *ecdsa.PublicKey:
		alg = jose.ECDH_ES
	default:
		return "", fmt.Errorf("encrypting for client %q: unsupported key type %T", c.ID, key.Key)
	}
	if key.Algorithm != "" && slices.Contains(p.profile.IDTokenEncryptionAlgs, key.Algorithm) {
		alg = jose.KeyAlgorithm(key.Algorithm)
	}
	enc, err := jose.NewEncrypter(jose.A256GCM,
		jose.Recipient{Algorithm: alg, Key: key.Key, KeyID: key.KeyID},
		(&jose.EncrypterOptions{}).WithContentType("JWT").WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("encrypting for client %q: %w", c.ID, err)
	}
	obj, err := enc.Encrypt([]byte(jws))
	if err != nil {
		return "", fmt.Errorf("encrypting for client %q: %w", c.ID, err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("serializing the JWE for client %q: %w", c.ID, err)
	}
	return out, nil
}

// encryptionKey is c.EncryptionKey, or the first encryption key of the
// set at c.JWKSURL.
func (p *Provider) encryptionKey(r *http.Request, c Client) (*jose.JSONWebKey, error) {
	if c.EncryptionKey != nil {
		return c.EncryptionKey, nil
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, c.JWKSURL, nil)
	if err != nil {
		return nil, fmt.Errorf("fetching the keys of client %q: %w", c.ID, err)
	}
	res, err := p.opts.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching the keys of client %q: %w", c.ID, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching the keys of client %q: status %d", c.ID, res.StatusCode)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil {
		return nil, fmt.Errorf("decoding the keys of client %q: %w", c.ID, err)
	}
	for i := range set.Keys {
		if k := set.Keys[i]; (k.Use == "enc" || k.Use == "") && k.IsPublic() {
			return &k, nil
		}
	}
	return nil, fmt.Errorf("client %q publishes no public encryption key", c.ID)
}

// recorder buffers an answer of op so that the Provider can rewrite it.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: make(http.Header), status: http.StatusOK} }

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(status int)      { r.status = status }

func (r *recorder) copyTo(w http.ResponseWriter) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body.Bytes())
}

func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	b, _ := json.Marshal(map[string]string{"error": code, "error_description": description})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
