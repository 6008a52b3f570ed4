package web_test

import (
	"context"
	"errors"
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
	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/gateway/store/storetest"
	mockoidc "github.com/relais-dev/relais/mocks/oidc"
)

const (
	clientID     = "relais-web-test"
	clientSecret = "secret-of-relais-web-test"
)

var personKey = []byte("0123456789abcdef0123456789abcdef-test-key")

// The mock ProConnect's professionals: Sophie (CCAS) and Karim
// (association) of mockoidc.Professionals, a colleague of Sophie, and a
// professional whose organisation is not registered.
var (
	sophie = mockoidc.Professionals()[0]
	karim  = mockoidc.Professionals()[1]
	lucas  = mockoidc.User{
		ID: "lucas.petit", Password: "lucas", Kind: mockoidc.Professional, Subject: "7c1e2a9b-3d4f-4e5a-8b6c-0d1e2f3a4b5c",
		GivenNames: []string{"Lucas"}, UsualName: "PETIT", FamilyName: "PETIT", Email: "lucas.petit@ccas-exemple.fr", UID: "lpetit",
		SIRET: sophie.SIRET, IdpID: "fia1v2", OrganizationalUnit: "CCAS - Accueil",
	}
	nadia = mockoidc.User{
		ID: "nadia.haddad", Password: "nadia", Kind: mockoidc.Professional, Subject: "3e5f7a9c-1b2d-4c6e-8f0a-2b4d6f8a0c1e",
		GivenNames: []string{"Nadia"}, UsualName: "HADDAD", FamilyName: "HADDAD", Email: "n.haddad@mairie-exemple.fr", UID: "nhaddad",
		SIRET: "44234567800019", IdpID: "moncomptepro", OrganizationalUnit: "Mairie - Action sociale",
	}
)

var proScopes = []string{"openid", "given_name", "usual_name", "email", "uid", "siret", "idp_id", "organizational_unit"}

// bundle is a Relais web handler over a real store and a mock provider,
// both under httptest.
type bundle struct {
	relais   *httptest.Server
	op       *mockoidc.Provider
	opSrv    *httptest.Server
	handler  *web.Handler
	store    *store.Store
	mandates *mandate.Service
	sessions *web.MemorySessions
	name     string
	// demo is the tenant consents are recorded for; ccas (Sophie's and
	// Lucas's SIRET) and asso (Karim's) are organisations.
	demo, ccas, asso string
}

// options change what setup builds.
type options struct {
	// noOutbox leaves Config.SandboxSMSOutbox off.
	noOutbox bool
}

// setup starts the mock provider of profile and Relais' handler with one
// relying party for it, over a fresh SQLite store holding the demo tenant
// and two organisations.
func setup(t *testing.T, profile mockoidc.Profile, rpProfile oidc.Profile, scopes []string, opts ...options) *bundle {
	t.Helper()
	var o options
	if len(opts) > 0 {
		o = opts[0]
	}
	st := storetest.Open(t, "sqlite", nil)
	b := &bundle{store: st, sessions: web.NewMemorySessions(100, nil), name: profile.Name}
	demo, err := st.EnsureTenant(t.Context(), "demo")
	if err != nil {
		t.Fatalf("creating the demo tenant: %v", err)
	}
	b.demo = demo.ID
	for _, tn := range []struct {
		id          *string
		name, siret string
	}{{&b.ccas, "ccas-exemple", sophie.SIRET}, {&b.asso, "association-exemple", karim.SIRET}} {
		created, err := st.CreateTenant(t.Context(), store.NewTenant{Name: tn.name, SIRET: tn.siret}, store.ActorCLI)
		if err != nil {
			t.Fatalf("creating tenant %s: %v", tn.name, err)
		}
		*tn.id = created.ID
	}
	b.mandates, err = mandate.NewService(st, mandate.Config{PersonKey: personKey})
	if err != nil {
		t.Fatalf("building the mandate service: %v", err)
	}

	var relaisHandler http.Handler = http.NotFoundHandler()
	b.relais = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { relaisHandler.ServeHTTP(w, r) }))
	t.Cleanup(b.relais.Close)
	var opHandler http.Handler = http.NotFoundHandler()
	b.opSrv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { opHandler.ServeHTTP(w, r) }))
	t.Cleanup(b.opSrv.Close)

	redirect := b.relais.URL + "/auth/" + profile.Name + "/callback"
	loggedOut := b.relais.URL + "/auth/logged-out"
	var users []mockoidc.User
	if rpProfile == oidc.ProfileProConnect {
		users = append(mockoidc.Professionals(), lucas, nadia)
	}
	op, err := mockoidc.New(profile, mockoidc.Options{
		Issuer: b.opSrv.URL + profile.IssuerPath, Users: users,
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
	b.handler, err = web.New(web.Config{SandboxSMSOutbox: !o.noOutbox}, web.Deps{
		Providers: []*oidc.RelyingParty{rp}, Keys: keys, Sessions: b.sessions, Consents: st, PersonKey: personKey,
		Tenant:       func(context.Context) (string, error) { return b.demo, nil },
		Organisation: organisations(st),
		Mandates:     b.mandates, Directory: st, SMSOutbox: st.SMSOutbox,
	})
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	relaisHandler = b.handler
	return b
}

// organisations finds tenants by SIRET, as the gateway wires it.
func organisations(st *store.Store) func(context.Context, string) (web.Organisation, error) {
	return func(ctx context.Context, siret string) (web.Organisation, error) {
		t, err := st.TenantBySIRET(ctx, siret)
		if errors.Is(err, store.ErrNotFound) {
			return web.Organisation{}, web.ErrUnknownOrganisation
		} else if err != nil {
			return web.Organisation{}, err
		}
		return web.Organisation{TenantID: t.ID, Name: t.Name}, nil
	}
}

// journal returns the operations journaled for tenant, in order.
func (b *bundle) journal(t *testing.T, tenant string) []store.JournalEntry {
	t.Helper()
	entries, err := b.store.Journal(t.Context(), tenant, 0, 1000)
	if err != nil {
		t.Fatalf("reading the journal: %v", err)
	}
	return entries
}

// consents are the consents recorded for the demo tenant: one
// grant_consent journal entry each.
func (b *bundle) consents(t *testing.T) []mandate.Consent {
	t.Helper()
	var out []mandate.Consent
	for _, e := range b.journal(t, b.demo) {
		if e.Operation != mandate.ActionGrantConsent {
			continue
		}
		id := strings.TrimPrefix(strings.Fields(e.Detail)[0], "consent=")
		c, err := b.store.Consent(t.Context(), b.demo, id)
		if err != nil {
			t.Fatalf("reading consent %s: %v", id, err)
		}
		out = append(out, c)
	}
	return out
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
