package oidc_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/relais-dev/relais/mocks/oidc"
)

// TestPrivateKeyJWT authenticates the client at /token with a signed
// assertion instead of a secret.
func TestPrivateKeyJWT(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generating the client key: %v", err)
	}
	b := setup(t, oidc.ProConnect(), setupOpts{clients: func(*bundle) []oidc.Client {
		return []oidc.Client{{
			ID: clientID, RedirectURIs: []string{redirectURI}, AuthMethod: oidc.AuthPrivateKeyJWT,
			SigningKey: &jose.JSONWebKey{Key: &key.PublicKey, KeyID: "rp-sig", Algorithm: "RS256", Use: "sig"},
		}}
	}})
	back := b.authorize(t, b.browser(t), b.authParams("openid siret"), "sophie.garnier")
	code := back.Query().Get("code")

	assertion := func(k *rsa.PrivateKey) string {
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: k, KeyID: "rp-sig"}}, nil)
		if err != nil {
			t.Fatalf("building the signer: %v", err)
		}
		now := time.Now()
		claims, _ := json.Marshal(map[string]any{
			"iss": clientID, "sub": clientID, "aud": []string{b.issuer, b.url("/token")},
			"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": "assertion-" + now.Format(time.RFC3339Nano),
		})
		jws, err := signer.Sign(claims)
		if err != nil {
			t.Fatalf("signing the assertion: %v", err)
		}
		s, err := jws.CompactSerialize()
		if err != nil {
			t.Fatalf("serializing the assertion: %v", err)
		}
		return s
	}
	form := func(a string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
			"client_id": {clientID}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
			"client_assertion": {a}}
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generating another key: %v", err)
	}
	if status, tr := b.postToken(t, form(assertion(other))); status == http.StatusOK {
		t.Fatalf("an assertion signed with another key was accepted: %+v", tr)
	}
	// The refused exchange burnt the code (codes are single-use from
	// their first presentation): sign in again.
	back = b.authorize(t, b.browser(t), b.authParams("openid siret"), "sophie.garnier")
	code = back.Query().Get("code")
	status, tr := b.postToken(t, form(assertion(key)))
	if status != http.StatusOK || tr.IDToken == "" {
		t.Fatalf("token with a valid assertion: status %d, %+v", status, tr)
	}
	// No secret is accepted for this client.
	back = b.authorize(t, b.browser(t), b.authParams("openid"), "sophie.garnier")
	if status, _ := b.postToken(t, url.Values{"grant_type": {"authorization_code"}, "code": {back.Query().Get("code")},
		"redirect_uri": {redirectURI}, "client_id": {clientID}, "client_secret": {"anything"}}); status == http.StatusOK {
		t.Fatalf("a private_key_jwt client authenticated with a secret")
	}
}

// TestEncryptionKeyFromJWKSURL encrypts FranceConnect+ tokens to the key
// the client publishes.
func TestEncryptionKeyFromJWKSURL(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generating the client key: %v", err)
	}
	rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: &key.PublicKey, KeyID: "rp-enc", Use: "enc", Algorithm: string(jose.RSA_OAEP_256)},
		}})
	}))
	t.Cleanup(rp.Close)
	b := setup(t, oidc.FranceConnectPlus(), setupOpts{clients: func(*bundle) []oidc.Client {
		return []oidc.Client{{ID: clientID, Secret: clientSecret, RedirectURIs: []string{redirectURI}, JWKSURL: rp.URL + "/jwks"}}
	}})
	params := b.authParams("openid identite_pivot")
	params.Set("acr_values", "eidas3")
	back := b.authorize(t, b.browser(t), params, "chloe.noel")
	status, tr := b.exchange(t, back.Query().Get("code"), "")
	if status != http.StatusOK {
		t.Fatalf("token: status %d, %+v", status, tr)
	}
	set := b.jwks(t)
	claims := verifyJWT(t, set, decryptJWE(t, key, tr.IDToken))
	if claims["acr"] != "eidas3" {
		t.Fatalf("acr = %v, want eidas3", claims["acr"])
	}
	_, ctype, body := b.userinfo(t, tr.AccessToken)
	info := verifyJWT(t, set, decryptJWE(t, key, body))
	if ctype != "application/jwt" || info["family_name"] != "NOËL" || !strings.HasSuffix(info["sub"].(string), "v1") {
		t.Fatalf("userinfo %q: %v", ctype, info)
	}
}
