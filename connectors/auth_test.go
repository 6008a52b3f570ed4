package connectors_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/relais-dev/relais/connectors"
)

// tokenPlatform is a platform with a token endpoint at /token and an API at
// /api. It issues tokens tok-1, tok-2, ... and accepts the tokens in valid.
type tokenPlatform struct {
	form      bool // the token endpoint is form-encoded, not JSON
	expiresIn int64

	fetches atomic.Int64
	apiHits atomic.Int64

	mu      sync.Mutex
	valid   map[string]bool
	lastReq map[string]string // last token request's fields
}

func (p *tokenPlatform) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/token":
		fields := map[string]string{}
		if p.form {
			if err := r.ParseForm(); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			for k := range r.PostForm {
				fields[k] = r.PostForm.Get(k)
			}
			fields["via"] = "body"
			if id, secret, ok := r.BasicAuth(); ok {
				fields["client_id"], fields["client_secret"], fields["via"] = id, secret, "basic"
			}
		} else if err := json.NewDecoder(r.Body).Decode(&fields); err != nil || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "want a JSON body", http.StatusBadRequest)
			return
		}
		if fields["client_secret"] != "the-client-secret" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_client","error_description":"Client authentication failed."}`)
			return
		}
		n := p.fetches.Add(1)
		tok := fmt.Sprintf("tok-%d", n)
		p.mu.Lock()
		p.lastReq = fields
		if p.valid == nil {
			p.valid = map[string]bool{}
		}
		if _, seen := p.valid[tok]; !seen {
			p.valid[tok] = true
		}
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":%q,"token_type":"bearer","expires_in":%d}`, tok, p.expiresIn)
	case "/api":
		p.apiHits.Add(1)
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		p.mu.Lock()
		ok := p.valid[tok]
		p.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, tok)
	default:
		http.NotFound(w, r)
	}
}

// reject makes the platform refuse tok from now on.
func (p *tokenPlatform) reject(tok string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.valid == nil {
		p.valid = map[string]bool{}
	}
	p.valid[tok] = false
}

func oauthConfig(kind connectors.AuthKind, tokenURL string) connectors.StackConfig {
	return connectors.StackConfig{Auth: connectors.AuthConfig{
		Kind: kind, TokenURL: tokenURL, ClientID: "relais",
		ClientSecret: "the-client-secret", Scopes: []string{"documents_read", "documents_create"},
	}}
}

func TestOAuth2TokenIsCachedAndSent(t *testing.T) {
	t.Parallel()
	for _, kind := range []connectors.AuthKind{connectors.AuthOAuth2ClientCredentials, connectors.AuthOAuth2ClientCredentialsJSON} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			p := &tokenPlatform{form: kind == connectors.AuthOAuth2ClientCredentials, expiresIn: 3600}
			srv := newServer(t, p)
			s := newStack(t, "safe", oauthConfig(kind, srv.URL+"/token"), b.deps)

			for range 5 {
				status, body, err := get(t, s, srv.URL+"/api")
				if err != nil || status != http.StatusOK || body != "tok-1" {
					t.Fatalf("call = %d %q %v, want 200 tok-1", status, body, err)
				}
			}
			if n := p.fetches.Load(); n != 1 {
				t.Errorf("token fetched %d times for 5 calls, want 1", n)
			}
			p.mu.Lock()
			req := p.lastReq
			p.mu.Unlock()
			if req["grant_type"] != "client_credentials" || req["client_id"] != "relais" || req["scope"] != "documents_read documents_create" {
				t.Errorf("token request = %v", req)
			}
			if got := refreshes(t, b, "safe"); got != 1 {
				t.Errorf("token refreshes metric = %v, want 1", got)
			}
		})
	}
}

func TestOAuth2ClientAuthPlacesCredentials(t *testing.T) {
	t.Parallel()
	for _, want := range []string{"basic", "body"} {
		t.Run(want, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			p := &tokenPlatform{form: true, expiresIn: 3600}
			srv := newServer(t, p)
			cfg := oauthConfig(connectors.AuthOAuth2ClientCredentials, srv.URL+"/token")
			cfg.Auth.ClientAuth = want
			s := newStack(t, "safe", cfg, b.deps)
			if status, _, err := get(t, s, srv.URL+"/api"); err != nil || status != http.StatusOK {
				t.Fatalf("call = %d %v, want 200", status, err)
			}
			p.mu.Lock()
			via := p.lastReq["via"]
			p.mu.Unlock()
			if via != want || p.fetches.Load() != 1 {
				t.Errorf("credentials sent in %q with %d token requests, want %q and 1", via, p.fetches.Load(), want)
			}
		})
	}
	cfg := oauthConfig(connectors.AuthOAuth2ClientCredentials, "http://127.0.0.1/token")
	cfg.Auth.ClientAuth = "header"
	if err := cfg.WithDefaults().Validate(); err == nil || !strings.Contains(err.Error(), "client_auth") {
		t.Errorf("Validate(client_auth: header) = %v, want an error naming auth.client_auth", err)
	}
}

func TestOAuth2TokenRefreshedBeforeExpiry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// A token that lives 30s is already inside the default 60s refresh
	// margin, so every call fetches a new one.
	p := &tokenPlatform{expiresIn: 30}
	srv := newServer(t, p)
	s := newStack(t, "safe", oauthConfig(connectors.AuthOAuth2ClientCredentialsJSON, srv.URL+"/token"), b.deps)
	for i := range 3 {
		if _, body, err := get(t, s, srv.URL+"/api"); err != nil || body != fmt.Sprintf("tok-%d", i+1) {
			t.Fatalf("call %d = %q %v", i, body, err)
		}
	}
	if got := refreshes(t, b, "safe"); got != 3 {
		t.Errorf("token refreshes = %v, want 3", got)
	}
}

func TestOAuth2RejectedTokenIsDroppedOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := &tokenPlatform{expiresIn: 3600}
	srv := newServer(t, p)
	s := newStack(t, "safe", oauthConfig(connectors.AuthOAuth2ClientCredentialsJSON, srv.URL+"/token"), b.deps)
	if _, body, err := get(t, s, srv.URL+"/api"); err != nil || body != "tok-1" {
		t.Fatalf("first call = %q %v", body, err)
	}
	// The platform forgets tok-1 (expiry by its own clock, key rotation):
	// concurrent calls all get a 401, the cache drops tok-1 once, and each
	// call is sent again with tok-2.
	p.reject("tok-1")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			status, body, err := get(t, s, srv.URL+"/api")
			if err != nil || status != http.StatusOK || body != "tok-2" {
				errs <- fmt.Errorf("call = %d %q %v, want 200 tok-2", status, body, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := p.fetches.Load(); n != 2 {
		t.Errorf("token fetched %d times, want 2", n)
	}
}

func TestOAuth2PersistentUnauthorizedIsReturned(t *testing.T) {
	t.Parallel()
	b := setup(t)
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			fmt.Fprint(w, `{"access_token":"t","token_type":"Bearer","expires_in":3600}`)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	s := newStack(t, "safe", oauthConfig(connectors.AuthOAuth2ClientCredentialsJSON, srv.URL+"/token"), b.deps)
	status, _, err := get(t, s, srv.URL+"/api")
	if err != nil || status != http.StatusUnauthorized {
		t.Fatalf("call = %d %v, want the 401 back", status, err)
	}
	if got := refreshes(t, b, "safe"); got != 2 {
		t.Errorf("token refreshes = %v, want 2 (one retry with a fresh token, no more)", got)
	}
}

func TestOAuth2TokenEndpointRefusalIsPermanent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := &tokenPlatform{expiresIn: 3600}
	srv := newServer(t, p)
	cfg := oauthConfig(connectors.AuthOAuth2ClientCredentialsJSON, srv.URL+"/token")
	cfg.Auth.ClientSecret = "wrong"
	cfg.Breaker.ConsecutiveFailures = 1
	s := newStack(t, "safe", cfg, b.deps)
	for range 3 {
		_, _, err := get(t, s, srv.URL+"/api")
		var ce *connectors.Error
		if !errors.As(err, &ce) {
			t.Fatalf("error = %v, want a *connectors.Error", err)
		}
		if ce.Class != connectors.Permanent || ce.Status != http.StatusUnauthorized || !strings.Contains(string(ce.Body), "invalid_client") {
			t.Fatalf("error = %+v, want Permanent 401 with the token endpoint's body", ce)
		}
		if !strings.Contains(ce.Op, "access token") {
			t.Errorf("Op = %q, want it to mention the access token", ce.Op)
		}
		if strings.Contains(err.Error(), "the-client-secret") || strings.Contains(err.Error(), "wrong") {
			t.Errorf("error leaks the secret: %v", err)
		}
	}
	if p.apiHits.Load() != 0 {
		t.Error("the API was called without a token")
	}
	if st := s.Status().Breaker; st != "closed" {
		t.Errorf("breaker = %s after credential refusals, want closed", st)
	}
}

func TestStaticCredentials(t *testing.T) {
	t.Parallel()
	tests := []struct {
		auth         connectors.AuthConfig
		header, want string
	}{
		{connectors.AuthConfig{Kind: connectors.AuthAPIKey, Token: "k-123"}, "X-API-Key", "k-123"},
		{connectors.AuthConfig{Kind: connectors.AuthAPIKey, Token: "k-123", HeaderName: "X-Gravitee-Api-Key"}, "X-Gravitee-Api-Key", "k-123"},
		{connectors.AuthConfig{Kind: connectors.AuthBearer, Token: "b-456"}, "Authorization", "Bearer b-456"},
		{connectors.AuthConfig{Kind: connectors.AuthNone}, "Authorization", ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.auth.Kind)+tt.header, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, r.Header.Get(tt.header))
			}))
			s := newStack(t, "static", connectors.StackConfig{Auth: tt.auth}, b.deps)
			if _, body, err := get(t, s, srv.URL); err != nil || body != tt.want {
				t.Fatalf("%s = %q %v, want %q", tt.header, body, err, tt.want)
			}
		})
	}
}

// refreshes reads the token refresh counter of a destination.
func refreshes(t *testing.T, b *bundle, dest string) float64 {
	t.Helper()
	return counterValue(t, b, "relais_connector_token_refreshes_total", map[string]string{"destination": dest})
}

// counterValue reads one counter or gauge from the bundle's registry; 0 when
// absent.
func counterValue(t *testing.T, b *bundle, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := b.reg.Gather()
	if err != nil {
		t.Fatalf("gathering metrics: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue next
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			}
		}
	}
	return 0
}
