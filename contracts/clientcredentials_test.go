package contracts_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/relais-dev/relais/contracts"
)

func TestClientCredentials(t *testing.T) {
	t.Parallel()
	var got []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("parsing the form: %v", err)
		}
		got = append(got, r.URL.Path+"?"+r.PostForm.Encode())
		if r.PostForm.Get("client_secret") != "s3cret" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"tok-1","token_type":"Bearer","expires_in":60}`))
	}))
	t.Cleanup(ts.Close)
	base, err := url.Parse(ts.URL + "/api")
	if err != nil {
		t.Fatal(err)
	}
	target := contracts.Target{BaseURL: base, Client: ts.Client()}

	auth, err := contracts.ClientCredentials(t.Context(), target, clientcredentials.Config{
		ClientID: "c1", ClientSecret: "s3cret", TokenURL: "oauth/token", Scopes: []string{"a", "b"},
	})
	if err != nil {
		t.Fatalf("fetching: %v", err)
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	auth(req)
	if h := req.Header.Get("Authorization"); h != "Bearer tok-1" {
		t.Errorf("Authorization = %q", h)
	}
	// A path from the host's root; a wrong secret is an error, asked once
	// (no second try with basic auth).
	if _, err := contracts.ClientCredentials(t.Context(), target, clientcredentials.Config{
		ClientID: "c1", ClientSecret: "wrong", TokenURL: "/token?realm=x",
	}); err == nil {
		t.Fatal("a refused token request gave no error")
	}
	want := []string{
		"/api/oauth/token?client_id=c1&client_secret=s3cret&grant_type=client_credentials&scope=a+b",
		"/token?client_id=c1&client_secret=wrong&grant_type=client_credentials",
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("token requests %q, want %q", got, want)
	}
}
