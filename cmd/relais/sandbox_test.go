package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/relais-dev/relais/gateway"
	rpoidc "github.com/relais-dev/relais/gateway/identity/oidc"
	mockoidc "github.com/relais-dev/relais/mocks/oidc"
)

// TestSandbox starts the sandbox as `relais sandbox` does, checks what it
// prints, and sends the curl example it prints: the document reaches the
// mock safe.
func TestSandbox(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const key = "sandbox-test-key-0123456789"
	sb, err := startSandbox(ctx, sandboxOptions{Listen: "127.0.0.1:0", DataDir: t.TempDir(), APIKey: key})
	if err != nil {
		t.Fatalf("starting sandbox: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := sb.Stop(ctx); err != nil {
			t.Errorf("stopping sandbox: %v", err)
		}
	})

	var out bytes.Buffer
	sb.printWelcome(&out)
	for _, want := range []string{sb.baseURL, "Clé d'API             " + key, "curl -sS -X POST " + sb.baseURL + "/v1/submissions", sandboxExample} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("the welcome lacks %q:\n%s", want, out.String())
		}
	}
	// Every platform of the catalog runs, and its address is printed.
	if len(sb.mocks) != len(catalog()) {
		t.Fatalf("the sandbox runs %d mocks, the catalog has %d platforms", len(sb.mocks), len(catalog()))
	}
	for _, m := range sb.mocks {
		if !strings.Contains(out.String(), m.URL) {
			t.Fatalf("the welcome lacks the mock %s at %s:\n%s", m.Name, m.URL, out.String())
		}
	}

	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, sb.baseURL+"/v1/submissions", strings.NewReader(sandboxExample))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Idempotency-Key", "sandbox-test-1")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("posting the example: %v", err)
	}
	var accepted struct{ ID string }
	_ = json.NewDecoder(resp.Body).Decode(&accepted)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || accepted.ID == "" {
		t.Fatalf("the printed example was answered HTTP %d", resp.StatusCode)
	}

	// The sandbox's mandates API is on: a professional records an
	// in-person mandate and gets the person's opaque reference back.
	mandateBody := `{"professional":{"id":"pro-1","name":"Camille Martin"},"person":{"family_name":"Lefèvre","given_names":"Zoé","birth_date":"1948-03-14","sex":"female","birth_country":"99134"},"demarches":["social"],"duration_days":31,"consent_method":"in_person","attestation_sha256":"` + strings.Repeat("ab", 32) + `"}`
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, sb.baseURL+"/v1/mandates", strings.NewReader(mandateBody))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("creating a mandate: %v", err)
	}
	var created struct {
		Status    string `json:"status"`
		PersonRef string `json:"person_ref"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || created.Status != "active" || created.PersonRef == "" {
		t.Fatalf("creating a mandate in the sandbox: HTTP %d, %+v", resp.StatusCode, created)
	}

	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, sb.baseURL+"/v1/submissions/"+accepted.ID, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("reading the submission: %v", err)
		}
		var v struct {
			Deliveries []struct {
				Status string `json:"status"`
			} `json:"deliveries"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&v)
		resp.Body.Close()
		if len(v.Deliveries) == 1 && v.Deliveries[0].Status == "delivered" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the example was not delivered to the mock safe: %+v", v)
		}
		time.Sleep(50 * time.Millisecond) // bounded poll
	}
}

// TestSandboxSignIn signs a person in through the sandbox's mock identity
// providers over HTTP, as a browser without JavaScript would (a cookie jar
// driving the login and consent forms): each lands on /compte with a
// session at the provider's level. FranceConnect+ encrypts its tokens to
// the key the sandbox generated, published at /.well-known/jwks.json.
func TestSandboxSignIn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dataDir := t.TempDir()
	sb, err := startSandbox(ctx, sandboxOptions{Listen: "127.0.0.1:0", DataDir: dataDir})
	if err != nil {
		t.Fatalf("starting sandbox: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := sb.Stop(ctx); err != nil {
			t.Errorf("stopping sandbox: %v", err)
		}
	})
	var out bytes.Buffer
	sb.printWelcome(&out)
	for _, p := range sandboxSignIn() {
		if !strings.Contains(out.String(), "Se connecter avec "+p.label) || !strings.Contains(out.String(), sb.signInURL(p.name)) {
			t.Fatalf("the welcome lacks the sign-in link of %s:\n%s", p.name, out.String())
		}
	}
	keys, err := rpoidc.LoadDecryptionKeys(filepath.Join(dataDir, "identity-keys.json"))
	if err != nil {
		t.Fatalf("reading the sandbox's identity keys: %v", err)
	}
	tenant, err := sb.gateway.Store().TenantByName(ctx, sandboxTenant)
	if err != nil {
		t.Fatalf("finding the demo tenant: %v", err)
	}
	sessions := gateway.NewStoreSessions(sb.gateway.Store(), 0)

	for _, tc := range []struct {
		provider, user, family string
		acr                    []string // the levels the session may be at
		encrypted, consent     bool
	}{
		{"franceconnectplus", "angela.dubois", "DUBOIS", []string{"eidas2", "eidas3"}, true, true},
		{"franceconnect", "pierre.mercier", "MERCIER", []string{"eidas1"}, false, true},
		{"prosanteconnect", "helene.roux", "ROUX", []string{"eidas1"}, false, false},
	} {
		t.Run(tc.provider, func(t *testing.T) {
			jar, err := cookiejar.New(nil)
			if err != nil {
				t.Fatal(err)
			}
			browser := &http.Client{Jar: jar, Timeout: 10 * time.Second}
			do := func(method, u string, form url.Values) (*http.Response, string) {
				t.Helper()
				req, err := http.NewRequestWithContext(ctx, method, u, strings.NewReader(form.Encode()))
				if err != nil {
					t.Fatal(err)
				}
				if method == http.MethodPost {
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
				res, err := browser.Do(req)
				if err != nil {
					t.Fatalf("%s %s: %v", method, u, err)
				}
				defer res.Body.Close()
				raw, err := io.ReadAll(res.Body)
				if err != nil {
					t.Fatal(err)
				}
				return res, string(raw)
			}

			res, page := do(http.MethodGet, sb.signInURL(tc.provider), nil)
			loginPage := res.Request.URL
			id := loginPage.Query().Get("id")
			if res.StatusCode != http.StatusOK || id == "" || !strings.Contains(page, `value="`+tc.user+`"`) {
				t.Fatalf("the sign-in link led to %d at %s, want the provider's login page with %s", res.StatusCode, loginPage, tc.user)
			}
			form := *loginPage
			form.RawQuery = ""
			res, page = do(http.MethodPost, form.String(), url.Values{"id": {id}, "user": {tc.user}, "action": {"login"}})
			if res.StatusCode != http.StatusOK || !strings.Contains(page, `value="accept"`) {
				t.Fatalf("signing in at the provider: %d, want the consent page", res.StatusCode)
			}
			res, page = do(http.MethodPost, res.Request.URL.ResolveReference(&url.URL{Path: "consent"}).String(), url.Values{"id": {id}, "action": {"accept"}})
			if res.Request.URL.String() != sb.baseURL+"/compte" || res.StatusCode != http.StatusOK || !strings.Contains(page, `id="family-name">`+tc.family+`<`) {
				t.Fatalf("after consent: %d at %s, want /compte with %s; page: %.400s", res.StatusCode, res.Request.URL, tc.family, page)
			}

			// The session, as the store keeps it, holds the provider's
			// id_token: encrypted to the sandbox's key on FranceConnect+,
			// signed by the provider, at the expected level.
			base, _ := url.Parse(sb.baseURL)
			var cookie string
			for _, c := range jar.Cookies(base) {
				if c.Name == "relais_session" {
					cookie = c.Value
				}
			}
			s, err := sessions.Get(ctx, cookie)
			if err != nil || s.Provider != tc.provider {
				t.Fatalf("the session of the browser's cookie: %+v, %v", s, err)
			}
			idToken := s.IDToken
			if tc.encrypted {
				if strings.Count(idToken, ".") != 4 {
					t.Fatalf("the %s id_token is not a JWE", tc.provider)
				}
				plain, err := keys.Decrypt(idToken)
				if err != nil {
					t.Fatalf("decrypting the id_token with the sandbox's key: %v", err)
				}
				idToken = string(plain)
			}
			claims := verifiedClaims(t, sb, tc.provider, idToken)
			if acr, _ := claims["acr"].(string); !slices.Contains(tc.acr, acr) {
				t.Fatalf("the session is at acr %q, want one of %v", acr, tc.acr)
			}
			consents, err := sb.gateway.Store().ConsentsByPerson(ctx, tenant.ID, s.PersonRef)
			if tc.consent && (err != nil || len(consents) != 1 || !consents[0].ActiveAt(time.Now())) {
				t.Fatalf("the citizen's consent: %+v, %v; want one active", consents, err)
			}
		})
	}
}

// verifiedClaims checks a signed JWT against the JWKS the sandbox's mock
// provider publishes, and returns its claims.
func verifiedClaims(t *testing.T, sb *sandbox, provider, token string) map[string]any {
	t.Helper()
	m, ok := sb.mock(provider)
	if !ok {
		t.Fatalf("the sandbox runs no %s", provider)
	}
	var p mockoidc.Profile
	for _, sp := range sandboxSignIn() {
		if sp.name == provider {
			p = sp.mock()
		}
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, m.URL+p.IssuerPath+p.JWKSPath, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("reading the provider's JWKS: %v", err)
	}
	defer res.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil {
		t.Fatalf("decoding the provider's JWKS: %v", err)
	}
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		t.Fatalf("parsing the id_token: %v", err)
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		t.Fatalf("the id_token's key is not published")
	}
	payload, err := jws.Verify(keys[0].Key)
	if err != nil {
		t.Fatalf("verifying the id_token: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}
