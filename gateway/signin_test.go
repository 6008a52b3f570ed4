package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/gateway"
	"github.com/relais-dev/relais/gateway/identity/oidc"
	"github.com/relais-dev/relais/gateway/identity/web"
	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/gateway/store/storetest"
	"github.com/relais-dev/relais/gateway/vault"
	mockoidc "github.com/relais-dev/relais/mocks/oidc"
)

// clock is a settable clock.
type clock struct{ us atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.us.Store(time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC).UnixMicro())
	return c
}

func (c *clock) Now() time.Time          { return time.UnixMicro(c.us.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.us.Add(d.Microseconds()) }

// openStore opens and migrates a fresh store of driver on the clock.
func openStore(t *testing.T, driver string, now *clock) *store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, store.Options{Driver: driver, DSN: storetest.DSN(t, driver), Keyring: storetest.Keyring(t), Now: now.Now})
	if err != nil {
		t.Fatalf("opening %s store: %v", driver, err)
	}
	t.Cleanup(s.Close)
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrating %s store: %v", driver, err)
	}
	return s
}

// TestPendingStores runs one suite against every oidc.PendingStore: the
// in-memory one and the store's, on each driver.
func TestPendingStores(t *testing.T) {
	t.Parallel()
	impls := map[string]func(t *testing.T, now *clock, ttl time.Duration, maxLive int) oidc.PendingStore{
		"memory": func(_ *testing.T, now *clock, ttl time.Duration, maxLive int) oidc.PendingStore {
			return oidc.NewMemoryPending(ttl, maxLive, now.Now)
		},
	}
	for _, driver := range storetest.Drivers {
		impls["store/"+driver] = func(t *testing.T, now *clock, ttl time.Duration, maxLive int) oidc.PendingStore {
			return gateway.NewStorePending(openStore(t, driver, now), ttl, maxLive)
		}
	}
	for name, open := range impls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			now := newClock()
			ps := open(t, now, 10*time.Minute, 2)
			p := oidc.Pending{
				State: "state-0123456789abcdefghijklmnopqrstuv", BindingHash: "b1nd", Nonce: "nonce-0123456789abcdefghijklmnopqrstuv",
				Verifier: "verifier-0123456789", Provider: "franceconnect", MinACR: "eidas1", ReturnTo: "/compte", Created: now.Now(),
			}
			if err := ps.Put(ctx, p); err != nil {
				t.Fatalf("Put: %v", err)
			}
			got, err := ps.Take(ctx, p.State)
			if err != nil || !reflect.DeepEqual(got, p) {
				t.Fatalf("Take = %+v, %v; want %+v", got, err, p)
			}
			if _, err := ps.Take(ctx, p.State); !errors.Is(err, oidc.ErrPendingNotFound) {
				t.Fatalf("a second Take: %v, want ErrPendingNotFound", err)
			}
			// Expiry: reported once, then forgotten.
			p.State, p.Created = "state-expires-0123456789abcdefghijklmno", now.Now()
			if err := ps.Put(ctx, p); err != nil {
				t.Fatal(err)
			}
			now.Advance(10 * time.Minute)
			if _, err := ps.Take(ctx, p.State); !errors.Is(err, oidc.ErrPendingExpired) {
				t.Fatalf("Take after the TTL: %v, want ErrPendingExpired", err)
			}
			if _, err := ps.Take(ctx, p.State); !errors.Is(err, oidc.ErrPendingNotFound) {
				t.Fatalf("Take of an expired login, twice: %v", err)
			}
			// Bounded: two live logins at most.
			for i := range 3 {
				p.State, p.Created = fmt.Sprintf("state-bounded-%d-0123456789abcdefghijk", i), now.Now()
				err := ps.Put(ctx, p)
				if i < 2 && err != nil {
					t.Fatalf("Put %d: %v", i, err)
				}
				if i == 2 && !errors.Is(err, oidc.ErrPendingFull) {
					t.Fatalf("a third live login: %v, want ErrPendingFull", err)
				}
			}
		})
	}
}

// utc drops the location and monotonic reading of a session's times.
func utc(s web.Session) web.Session {
	s.Created, s.Expires, s.AccessTokenExpiry = s.Created.UTC(), s.Expires.UTC(), s.AccessTokenExpiry.UTC()
	return s
}

// TestSessionStores runs one suite against every web.SessionStore: the
// in-memory one and the store's, on each driver.
func TestSessionStores(t *testing.T) {
	t.Parallel()
	impls := map[string]func(t *testing.T, now *clock, maxLive int) web.SessionStore{
		"memory": func(_ *testing.T, now *clock, maxLive int) web.SessionStore {
			return web.NewMemorySessions(maxLive, now.Now)
		},
	}
	for _, driver := range storetest.Drivers {
		impls["store/"+driver] = func(t *testing.T, now *clock, maxLive int) web.SessionStore {
			return gateway.NewStoreSessions(openStore(t, driver, now), maxLive)
		}
	}
	for name, open := range impls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			now := newClock()
			ss := open(t, now, 2)
			s := web.Session{
				ID: "session-0123456789abcdefghijklmnopqrstuvw", CSRF: "csrf-0123456789", Provider: "franceconnect", Subject: "sub-42",
				GivenName: "Zoé Marie-Hélène", FamilyName: "LEFÈVRE", PersonRef: "pref_1", TenantID: "ten_1", ConsentID: "cns_1",
				IDToken: "eyJ.id.token", AccessToken: "fc-access-token", AccessTokenExpiry: now.Now().Add(time.Minute),
				Created: now.Now(), Expires: now.Now().Add(30 * time.Minute),
			}
			if err := ss.Create(ctx, s); err != nil {
				t.Fatalf("Create: %v", err)
			}
			got, err := ss.Get(ctx, s.ID)
			if err != nil || !reflect.DeepEqual(utc(got), utc(s)) {
				t.Fatalf("Get = %+v, %v; want %+v", got, err, s)
			}
			// The access token is dropped at its expiry, the session kept.
			now.Advance(time.Minute)
			want := s
			want.AccessToken, want.AccessTokenExpiry = "", time.Time{}
			if got, err := ss.Get(ctx, s.ID); err != nil || !reflect.DeepEqual(utc(got), utc(want)) {
				t.Fatalf("Get after the token's expiry = %+v, %v; want %+v", got, err, want)
			}
			if _, err := ss.Get(ctx, "unknown-session"); !errors.Is(err, web.ErrSessionNotFound) {
				t.Fatalf("an unknown session: %v", err)
			}
			// Bounded: two live sessions at most.
			other := s
			other.ID, other.Expires = "session-other-0123456789abcdefghijklmn", now.Now().Add(time.Minute)
			if err := ss.Create(ctx, other); err != nil {
				t.Fatalf("a second session: %v", err)
			}
			third := other
			third.ID = "session-third-0123456789abcdefghijklmn"
			if err := ss.Create(ctx, third); !errors.Is(err, web.ErrSessionsFull) {
				t.Fatalf("a third live session: %v, want ErrSessionsFull", err)
			}
			// Expiry and logout.
			now.Advance(time.Minute)
			if _, err := ss.Get(ctx, other.ID); !errors.Is(err, web.ErrSessionNotFound) {
				t.Fatalf("an expired session: %v", err)
			}
			for range 2 {
				if err := ss.Delete(ctx, s.ID); err != nil {
					t.Fatalf("Delete: %v", err)
				}
			}
			if _, err := ss.Get(ctx, s.ID); !errors.Is(err, web.ErrSessionNotFound) {
				t.Fatalf("a deleted session: %v", err)
			}
		})
	}
}

// balancer stands in for the load balancer in front of the replicas: route
// says which replica serves a path; served records who served what.
type balancer struct {
	replicas []http.Handler
	mu       sync.Mutex
	route    func(path string) int
	served   []string
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	i := b.route(r.URL.Path)
	b.served = append(b.served, fmt.Sprintf("%s %s→%c", r.Method, r.URL.Path, 'A'+i))
	b.mu.Unlock()
	b.replicas[i].ServeHTTP(w, r)
}

func (b *balancer) setRoute(route func(path string) int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.route, b.served = route, nil
}

func (b *balancer) log() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.served...)
}

func all(i int) func(string) int { return func(string) int { return i } }

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// TestReplicasShareSignIn runs two gateways on one PostgreSQL database
// behind a balancer: the login starts on A, the mock FranceConnect's
// callback lands on B, and the session B made is accepted by A; the state
// used on B cannot be replayed on A, and a logout on A ends the session on
// B. Everything goes over real HTTP.
func TestReplicasShareSignIn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const provider = "franceconnect"
	lb := &balancer{route: all(0)}
	lbSrv := httptest.NewServer(lb)
	t.Cleanup(lbSrv.Close)
	callback, loggedOut := lbSrv.URL+"/auth/"+provider+"/callback", lbSrv.URL+"/auth/logged-out"

	profile := mockoidc.FranceConnect()
	var opHandler atomic.Pointer[mockoidc.Provider]
	opSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { opHandler.Load().ServeHTTP(w, r) }))
	t.Cleanup(opSrv.Close)
	op, err := mockoidc.New(profile, mockoidc.Options{
		Issuer: opSrv.URL + profile.IssuerPath,
		Clients: []mockoidc.Client{{ID: "relais-replicas", Secret: "relais-replicas-secret",
			RedirectURIs: []string{callback}, PostLogoutRedirectURIs: []string{loggedOut}}},
	})
	if err != nil {
		t.Fatalf("building the mock FranceConnect: %v", err)
	}
	opHandler.Store(op)

	// One database, one configuration: two replicas.
	insecure := false
	cfg := gateway.Config{
		Store:      gateway.StoreConfig{Driver: "postgres", DSN: connectors.Secret(storetest.DSN(t, "postgres"))},
		Encryption: gateway.EncryptionConfig{Keys: connectors.Secret(vault.GenerateKeySpec("replicas"))},
		Mandates:   gateway.MandatesConfig{PersonKey: "replicas-person-key-0123456789abcdef"},
		Queue:      gateway.QueueConfig{Workers: 2},
		Identity: gateway.IdentityConfig{SecureCookies: &insecure, Providers: []oidc.Config{{
			Name: provider, Profile: oidc.ProfileFranceConnect, IssuerURL: op.Issuer(), ClientID: "relais-replicas",
			ClientSecret: "relais-replicas-secret", RedirectURL: callback, PostLogoutRedirectURL: loggedOut,
			Scopes: []string{"openid", "identite_pivot", "email"},
		}}},
	}
	for range 2 {
		gw := startGateway(t, cfg, gateway.Deps{})
		if _, err := gw.Store().EnsureTenant(ctx, "demo"); err != nil {
			t.Fatalf("creating the demo tenant: %v", err)
		}
		lb.replicas = append(lb.replicas, gw.Handler())
	}

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	var callbackURL atomic.Pointer[url.URL]
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		if r.URL.Path == "/auth/"+provider+"/callback" {
			callbackURL.Store(r.URL)
		}
		if len(via) > 10 {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	do := func(c *http.Client, method, u string, form url.Values) (*http.Response, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(ctx, method, u, body)
		if err != nil {
			t.Fatal(err)
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
			t.Fatal(err)
		}
		return res, string(raw)
	}

	// The login starts on A; the callback lands on B; /compte is on A.
	lb.setRoute(func(path string) int {
		if strings.HasSuffix(path, "/callback") {
			return 1
		}
		return 0
	})
	res, page := do(browser, http.MethodGet, lbSrv.URL+"/auth/"+provider+"/login?return_to=%2Fcompte", nil)
	id := res.Request.URL.Query().Get("id")
	if res.StatusCode != http.StatusOK || id == "" || !strings.Contains(page, `name="user"`) {
		t.Fatalf("starting the login: %d at %s, want the provider's login page", res.StatusCode, res.Request.URL)
	}
	res, page = do(browser, http.MethodPost, op.Issuer()+"/login", url.Values{"id": {id}, "user": {"angela.dubois"}, "action": {"login"}})
	if res.StatusCode != http.StatusOK || !strings.Contains(page, `value="accept"`) {
		t.Fatalf("signing in at the provider: %d, want the consent page", res.StatusCode)
	}
	res, page = do(browser, http.MethodPost, op.Issuer()+"/consent", url.Values{"id": {id}, "action": {"accept"}})
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/compte" || !strings.Contains(page, `id="family-name">DUBOIS<`) {
		t.Fatalf("after consent: %d at %s, want /compte with the citizen; page: %.400s", res.StatusCode, res.Request.URL, page)
	}
	want := []string{"GET /auth/" + provider + "/login→A", "GET /auth/" + provider + "/callback→B", "GET /compte→A"}
	if got := lb.log(); !reflect.DeepEqual(got, want) {
		t.Fatalf("the balancer routed %v, want %v", got, want)
	}
	csrf := csrfField.FindStringSubmatch(page)
	if csrf == nil {
		t.Fatalf("no CSRF token on /compte: %.400s", page)
	}

	// B accepts the session too.
	lb.setRoute(all(1))
	if res, page := do(browser, http.MethodGet, lbSrv.URL+"/compte", nil); res.StatusCode != http.StatusOK || !strings.Contains(page, "DUBOIS") {
		t.Fatalf("/compte on B: %d, want the signed-in citizen", res.StatusCode)
	}

	// The state B consumed is gone for A as well: a replayed callback fails.
	lb.setRoute(all(0))
	if cb := callbackURL.Load(); cb == nil {
		t.Fatal("the browser never went through the callback")
	} else if res, page := do(browser, http.MethodGet, cb.String(), nil); res.StatusCode != http.StatusBadRequest || !strings.Contains(page, "Connexion impossible") {
		t.Fatalf("a replayed callback on A: %d, want 400 Connexion impossible; page: %.300s", res.StatusCode, page)
	}

	// Logout on A (CSRF-checked) ends the session on B.
	stop := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if res, _ := do(stop, http.MethodPost, lbSrv.URL+"/auth/logout", url.Values{"csrf": {csrf[1]}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout on A: %d, want 303 to the provider", res.StatusCode)
	}
	lb.setRoute(all(1))
	if res, page := do(browser, http.MethodGet, lbSrv.URL+"/compte", nil); res.StatusCode != http.StatusUnauthorized || strings.Contains(page, "DUBOIS") {
		t.Fatalf("/compte on B after logout on A: %d, want 401 signed out", res.StatusCode)
	}
}
