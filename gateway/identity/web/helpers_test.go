package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/gateway/identity/oidc"
	"github.com/relais-dev/relais/gateway/identity/web"
	"github.com/relais-dev/relais/gateway/mandate"
	"github.com/relais-dev/relais/mocks/idp"
	mockoidc "github.com/relais-dev/relais/mocks/oidc"
)

const (
	clientID     = "relais-web-test"
	clientSecret = "secret-of-relais-web-test"
	tenantID     = "ten_demo"
)

var personKey = []byte("0123456789abcdef0123456789abcdef-test-key")

// fakeConsents is a hand-written ConsentStore.
type fakeConsents struct {
	mu   sync.Mutex
	list []mandate.Consent
}

func (f *fakeConsents) CreateConsent(_ context.Context, c mandate.Consent) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.list = append(f.list, c)
	return nil
}

func (f *fakeConsents) ConsentsByPerson(_ context.Context, tenant, ref string) ([]mandate.Consent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []mandate.Consent
	for _, c := range f.list {
		if c.TenantID == tenant && c.PersonRef == ref {
			out = append(out, c)
		}
	}
	return out, nil
}

func (f *fakeConsents) all() []mandate.Consent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]mandate.Consent(nil), f.list...)
}

// bundle is a Relais web handler and a mock provider, both under httptest.
type bundle struct {
	relais   *httptest.Server
	op       *mockoidc.Provider
	opSrv    *httptest.Server
	handler  *web.Handler
	consents *fakeConsents
	sessions *web.MemorySessions
	name     string
}

// setup starts the mock provider of profile and Relais' handler with one
// relying party for it.
func setup(t *testing.T, profile idp.Profile, rpProfile oidc.Profile, scopes []string) *bundle {
	t.Helper()
	b := &bundle{consents: &fakeConsents{}, sessions: web.NewMemorySessions(100, nil), name: profile.Name}
	var relaisHandler http.Handler = http.NotFoundHandler()
	b.relais = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { relaisHandler.ServeHTTP(w, r) }))
	t.Cleanup(b.relais.Close)
	var opHandler http.Handler = http.NotFoundHandler()
	b.opSrv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { opHandler.ServeHTTP(w, r) }))
	t.Cleanup(b.opSrv.Close)

	redirect := b.relais.URL + "/auth/" + profile.Name + "/callback"
	loggedOut := b.relais.URL + "/auth/logged-out"
	op, err := mockoidc.New(profile, mockoidc.Options{
		Issuer: b.opSrv.URL + profile.IssuerPath,
		Clients: []mockoidc.Client{{
			ID: clientID, Secret: clientSecret, RedirectURIs: []string{redirect}, PostLogoutRedirectURIs: []string{loggedOut},
		}},
	})
	if err != nil {
		t.Fatalf("building the mock provider: %v", err)
	}
	b.op, opHandler = op, op
	rp, err := oidc.New(t.Context(), oidc.Config{
		Name: profile.Name, Profile: rpProfile, IssuerURL: op.Issuer(), ClientID: clientID,
		ClientSecret: connectors.Secret(clientSecret), RedirectURL: redirect, PostLogoutRedirectURL: loggedOut, Scopes: scopes,
	}, oidc.Options{Pending: oidc.NewMemoryPending(0, 0, nil), HTTPClient: b.opSrv.Client()})
	if err != nil {
		t.Fatalf("building the relying party: %v", err)
	}
	keys, err := oidc.GenerateDecryptionKeys()
	if err != nil {
		t.Fatalf("generating keys: %v", err)
	}
	b.handler, err = web.New(web.Config{}, web.Deps{
		Providers: []*oidc.RelyingParty{rp}, Keys: keys, Sessions: b.sessions, Consents: b.consents, PersonKey: personKey,
		Tenant: func(context.Context) (string, error) { return tenantID, nil },
	})
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	relaisHandler = b.handler
	return b
}

// browser is a cookie-keeping client following every redirect; hops
// records the responses that redirected.
type browser struct {
	*http.Client
	mu   sync.Mutex
	hops []*http.Response
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("cookiejar: %v", err)
	}
	br := &browser{}
	br.Client = &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		br.mu.Lock()
		br.hops = append(br.hops, r.Response)
		br.mu.Unlock()
		if len(via) > 10 {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return br
}

// noRedirect returns a client sharing br's jar that stops at redirects.
func (br *browser) noRedirect() *http.Client {
	return &http.Client{Jar: br.Jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

func (br *browser) hop(path string) *http.Response {
	br.mu.Lock()
	defer br.mu.Unlock()
	for _, r := range br.hops {
		if r.Request.URL.Path == path {
			return r
		}
	}
	return nil
}

func do(t *testing.T, c *http.Client, method, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, body)
	if err != nil {
		t.Fatalf("request %s: %v", u, err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading %s: %v", u, err)
	}
	return res, string(raw)
}

// toLoginPage starts a login at Relais and returns the provider's login
// page answer and its request id.
func (b *bundle) toLoginPage(t *testing.T, br *browser) (*http.Response, string) {
	t.Helper()
	res, body := do(t, br.Client, http.MethodGet, b.relais.URL+"/auth/"+b.name+"/login?return_to=%2Fcompte", nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `name="user"`) {
		t.Fatalf("login: status %d at %s, want the provider's login page; body: %.300s", res.StatusCode, res.Request.URL, body)
	}
	id := res.Request.URL.Query().Get("id")
	if id == "" {
		t.Fatalf("the login page %s has no id", res.Request.URL)
	}
	return res, id
}

// signIn drives the whole login as userID, accepting consent, and returns
// the final answer (Relais' /compte page).
func (b *bundle) signIn(t *testing.T, br *browser, userID string) (*http.Response, string) {
	t.Helper()
	res, id := b.toLoginPage(t, br)
	loginURL := res.Request.URL.ResolveReference(&url.URL{Path: "login"}).String()
	res, body := do(t, br.Client, http.MethodPost, loginURL, url.Values{"id": {id}, "user": {userID}, "action": {"login"}})
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `value="accept"`) {
		t.Fatalf("provider login: status %d, want the consent page; body: %.300s", res.StatusCode, body)
	}
	consentURL := res.Request.URL.ResolveReference(&url.URL{Path: "consent"}).String()
	return do(t, br.Client, http.MethodPost, consentURL, url.Values{"id": {id}, "action": {"accept"}})
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field in the page: %.500s", page)
	}
	return m[1]
}
