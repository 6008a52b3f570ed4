package idp_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/relais-dev/relais/mocks/idp"
)

// A test serves the FranceConnect+ mock with httptest, reads its metadata
// like a relying party, and verifies a token signed by the mock with the
// published keys.
func ExampleNew() {
	mock := idp.New(idp.FranceConnectPlus(), idp.Options{})
	ts := httptest.NewServer(mock)
	defer ts.Close()

	rsp, err := ts.Client().Get(ts.URL + "/api/v2/.well-known/openid-configuration")
	if err != nil {
		panic(err)
	}
	var meta struct {
		Issuer  string   `json:"issuer"`
		JWKSURI string   `json:"jwks_uri"`
		ACR     []string `json:"acr_values_supported"`
		Enc     []string `json:"id_token_encryption_alg_values_supported"`
	}
	_ = json.NewDecoder(rsp.Body).Decode(&meta)
	rsp.Body.Close()
	fmt.Println(meta.Issuer == ts.URL+"/api/v2", meta.ACR, meta.Enc)

	rsp, err = ts.Client().Get(meta.JWKSURI)
	if err != nil {
		panic(err)
	}
	var keys jose.JSONWebKeySet
	_ = json.NewDecoder(rsp.Body).Decode(&keys)
	rsp.Body.Close()

	key, _ := mock.Keys().Key(jose.ES256)
	signer, _ := key.Signer()
	raw, _ := jwt.Signed(signer).Claims(jwt.Claims{Issuer: meta.Issuer, Subject: "usager-42"}).Serialize()
	tok, _ := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
	var claims jwt.Claims
	err = tok.Claims(keys.Key(tok.Headers[0].KeyID)[0].Key, &claims)
	fmt.Println(err == nil, claims.Subject, strings.HasPrefix(claims.Issuer, "http://127.0.0.1:"))
	// Output:
	// true [eidas2 eidas3] [ECDH-ES RSA-OAEP RSA-OAEP-256]
	// true usager-42 true
}
