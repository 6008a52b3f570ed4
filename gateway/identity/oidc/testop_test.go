package oidc_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// testOP is a small OpenID Provider that tests can make misbehave: it
// serves discovery, JWKS, authorize, token, userinfo and end_session, and
// crafts its tokens with go-jose.
type testOP struct {
	srv          *httptest.Server
	clientID     string
	clientSecret string
	redirectURIs []string
	key          *ecdsa.PrivateKey
	kid          string
	now          func() time.Time

	mu    sync.Mutex
	codes map[string]*grant // live and used codes
	// idClaims changes the id_token claims before signing.
	idClaims func(c map[string]any)
	// idToken replaces the whole id_token (after claims are built).
	idToken func(c map[string]any) string
	// userinfoClaims changes the userinfo claims.
	userinfoClaims func(c map[string]any)
	// userinfoToken replaces the whole userinfo body (application/jwt).
	userinfoToken func(c map[string]any) string
	// encryptTo, when set, encrypts id_token and userinfo to that key.
	encryptTo *jose.JSONWebKey
	acr       string
	extra     map[string]any
}

type grant struct {
	nonce, challenge, redirectURI, acrValues string
	used                                     bool
}

func newTestOP(t testing.TB, redirectURI string) *testOP {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generating key: %v", err)
	}
	op := &testOP{
		clientID:     "relais-client",
		clientSecret: "s3cr3t-client-secret",
		redirectURIs: []string{redirectURI},
		key:          key,
		kid:          "op-es256-1",
		now:          time.Now,
		codes:        map[string]*grant{},
		acr:          "eidas1",
		extra: map[string]any{
			"given_name": "Marie-Thérèse Élodie", "family_name": "N'Diaye",
			"birthdate": "1962-08-24", "gender": "female", "birthcountry": "99350",
		},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", op.discovery)
	mux.HandleFunc("GET /jwks", op.jwks)
	mux.HandleFunc("GET /authorize", op.authorize)
	mux.HandleFunc("POST /token", op.token)
	mux.HandleFunc("GET /userinfo", op.userinfo)
	op.srv = httptest.NewServer(mux)
	t.Cleanup(op.srv.Close)
	return op
}

func (op *testOP) issuer() string { return op.srv.URL }

func (op *testOP) set(f func(op *testOP)) {
	op.mu.Lock()
	defer op.mu.Unlock()
	f(op)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (op *testOP) discovery(w http.ResponseWriter, _ *http.Request) {
	u := op.issuer()
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                u,
		"authorization_endpoint":                u + "/authorize",
		"token_endpoint":                        u + "/token",
		"userinfo_endpoint":                     u + "/userinfo",
		"jwks_uri":                              u + "/jwks",
		"end_session_endpoint":                  u + "/session/end",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"ES256"},
		"code_challenge_methods_supported":      []string{"S256"},
	})
}

func (op *testOP) publicJWK() jose.JSONWebKey {
	return jose.JSONWebKey{Key: &op.key.PublicKey, KeyID: op.kid, Algorithm: "ES256", Use: "sig"}
}

func (op *testOP) jwks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{op.publicJWK()}})
}

func (op *testOP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect := q.Get("redirect_uri")
	registered := false
	for _, u := range op.redirectURIs {
		registered = registered || u == redirect
	}
	if q.Get("client_id") != op.clientID || !registered {
		// Never redirect to an unregistered URI: answer the browser.
		http.Error(w, "invalid_request: redirect_uri is not registered", http.StatusBadRequest)
		return
	}
	target, _ := url.Parse(redirect)
	back := target.Query()
	back.Set("state", q.Get("state"))
	if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		back.Set("error", "invalid_request")
	} else {
		code := rand.Text()
		op.mu.Lock()
		op.codes[code] = &grant{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirectURI: redirect, acrValues: q.Get("acr_values")}
		op.mu.Unlock()
		back.Set("code", code)
	}
	target.RawQuery = back.Encode()
	http.Redirect(w, r, target.String(), http.StatusFound)
}

func tokenError(w http.ResponseWriter, code string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": code})
}

func (op *testOP) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, "invalid_request")
		return
	}
	if r.PostForm.Get("client_id") != op.clientID || r.PostForm.Get("client_secret") != op.clientSecret {
		tokenError(w, "invalid_client")
		return
	}
	op.mu.Lock()
	g, ok := op.codes[r.PostForm.Get("code")]
	replay := ok && g.used
	if ok {
		g.used = true
	}
	op.mu.Unlock()
	switch {
	case !ok || replay:
		tokenError(w, "invalid_grant")
		return
	case r.PostForm.Get("redirect_uri") != g.redirectURI:
		tokenError(w, "invalid_grant")
		return
	}
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		tokenError(w, "invalid_grant")
		return
	}
	now := op.now()
	op.mu.Lock()
	claims := map[string]any{
		"iss": op.issuer(), "sub": "pairwise-sub-42", "aud": op.clientID,
		"exp": now.Add(60 * time.Second).Unix(), "iat": now.Unix(),
		"nonce": g.nonce, "acr": op.acr, "amr": []string{"pwd"}, "auth_time": now.Unix(),
	}
	if op.idClaims != nil {
		op.idClaims(claims)
	}
	override := op.idToken
	op.mu.Unlock()
	var id string
	if override != nil {
		id = override(claims)
	} else {
		id = op.seal(op.sign(claims))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": "at-" + rand.Text(), "token_type": "Bearer", "expires_in": 60, "id_token": id,
	})
}

func (op *testOP) userinfo(w http.ResponseWriter, r *http.Request) {
	if len(r.Header.Get("Authorization")) < len("Bearer at-x") {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	op.mu.Lock()
	claims := map[string]any{"sub": "pairwise-sub-42", "iss": op.issuer(), "aud": op.clientID, "siret": "13002526500013"}
	maps.Copy(claims, op.extra)
	if op.userinfoClaims != nil {
		op.userinfoClaims(claims)
	}
	override := op.userinfoToken
	op.mu.Unlock()
	var body string
	if override != nil {
		body = override(claims)
	} else {
		body = op.seal(op.sign(claims))
	}
	w.Header().Set("Content-Type", "application/jwt")
	_, _ = w.Write([]byte(body))
}

// sign signs claims with the OP's published key.
func (op *testOP) sign(claims map[string]any) string {
	return signWith(jose.ES256, op.key, op.kid, claims)
}

// seal encrypts a JWS to the configured RP key, if any.
func (op *testOP) seal(jws string) string {
	op.mu.Lock()
	to := op.encryptTo
	op.mu.Unlock()
	if to == nil {
		return jws
	}
	return encryptTo(*to, jws)
}

func signWith(alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		panic(fmt.Sprintf("building signer: %v", err))
	}
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	if err != nil {
		panic(fmt.Sprintf("signing: %v", err))
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		panic(fmt.Sprintf("serializing: %v", err))
	}
	return out
}

func encryptTo(to jose.JSONWebKey, plaintext string) string {
	enc, err := jose.NewEncrypter(jose.A256GCM,
		jose.Recipient{Algorithm: jose.ECDH_ES, Key: to.Key, KeyID: to.KeyID},
		(&jose.EncrypterOptions{}).WithContentType("JWT").WithType("JWT"))
	if err != nil {
		panic(fmt.Sprintf("building encrypter: %v", err))
	}
	obj, err := enc.Encrypt([]byte(plaintext))
	if err != nil {
		panic(fmt.Sprintf("encrypting: %v", err))
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		panic(fmt.Sprintf("serializing JWE: %v", err))
	}
	return out
}

// unsigned builds an alg none token.
func unsigned(claims map[string]any) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	p, _ := json.Marshal(claims)
	return h + "." + base64.RawURLEncoding.EncodeToString(p) + "."
}
