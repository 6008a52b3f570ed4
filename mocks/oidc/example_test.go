package oidc_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/relais-dev/relais/mocks/oidc"
)

// A FranceConnect mock for one relying party; its discovery document is
// at the issuer plus /.well-known/openid-configuration.
func ExampleNew() {
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	defer srv.Close()

	p, err := oidc.New(oidc.FranceConnect(), oidc.Options{
		Issuer: srv.URL + "/api/v2",
		Clients: []oidc.Client{{
			ID: "my-service", Secret: "my-secret", RedirectURIs: []string{"https://service.example/callback"},
		}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	h = p

	res, err := srv.Client().Get(srv.URL + "/api/v2/.well-known/openid-configuration")
	if err != nil {
		fmt.Println(err)
		return
	}
	res.Body.Close()
	fmt.Println(res.StatusCode, res.Header.Get("Content-Type"))
	fmt.Println(len(p.Users()), "test citizens")
	// Output:
	// 200 application/json; charset=utf-8
	// 6 test citizens
}
