package oidc_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/relais-dev/relais/mocks/oidc"
)

const fuzzIssuer = "http://idp.test/api/v2"

func fuzzProvider(f *testing.F) *oidc.Provider {
	f.Helper()
	p, err := oidc.New(oidc.FranceConnect(), oidc.Options{Issuer: fuzzIssuer, Clients: []oidc.Client{
		{ID: clientID, Secret: clientSecret, RedirectURIs: []string{redirectURI}},
	}})
	if err != nil {
		f.Fatalf("New: %v", err)
	}
	return p
}

// FuzzAuthorize sends arbitrary authorization requests: the provider must
// answer the login page's redirect, a redirect to the registered URI, or a
// 400, never a server error or a redirect elsewhere.
func FuzzAuthorize(f *testing.F) {
	p := fuzzProvider(f)
	valid := url.Values{"client_id": {clientID}, "redirect_uri": {redirectURI}, "response_type": {"code"},
		"scope": {"openid identite_pivot"}, "state": {"s"}, "nonce": {strings.Repeat("n", 22)}, "acr_values": {"eidas1"}}
	f.Add(valid.Encode())
	f.Add("client_id=relais-test&redirect_uri=https%3A%2F%2Fevil.example%2F&response_type=code&scope=openid")
	f.Add("scope=openid&response_type=token&client_id=relais-test&redirect_uri=https%3A%2F%2Frp.example%2Fcallback")
	f.Add("%zz&&=;")
	f.Fuzz(func(t *testing.T, query string) {
		req := httptest.NewRequest(http.MethodGet, "/api/v2/authorize", nil)
		req.URL.RawQuery = query
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, req)
		switch {
		case rec.Code >= 500:
			t.Fatalf("status %d for %q", rec.Code, query)
		case rec.Code == http.StatusFound || rec.Code == http.StatusSeeOther:
			loc := rec.Header().Get("Location")
			if !strings.HasPrefix(loc, fuzzIssuer+"/login?") && !strings.HasPrefix(loc, redirectURI+"?") {
				t.Fatalf("redirect to %q for %q", loc, query)
			}
		}
	})
}

// FuzzLoginForm posts arbitrary forms to the login and consent pages:
// without a pending request they are refused, never a server error.
func FuzzLoginForm(f *testing.F) {
	p := fuzzProvider(f)
	f.Add("/login", "id=unknown&user=pierre.mercier")
	f.Add("/consent", "id=&action=accept")
	f.Add("/login", "id=%ff%fe&login=a&password=b&action=cancel")
	f.Fuzz(func(t *testing.T, page, body string) {
		if page != "/login" && page != "/consent" {
			page = "/login"
		}
		req := httptest.NewRequest(http.MethodPost, "/api/v2"+page, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, req)
		if rec.Code >= 500 || rec.Code < 400 {
			t.Fatalf("status %d for %s %q; want a 4xx", rec.Code, page, body)
		}
	})
}
