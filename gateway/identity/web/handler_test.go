package web_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/relais-dev/relais/gateway/identity/oidc"
	"github.com/relais-dev/relais/gateway/mandate"
	mockoidc "github.com/relais-dev/relais/mocks/oidc"
)

var fcScopes = []string{"openid", "identite_pivot", "email"}

func TestFranceConnectLoginRecordsConsentAndSession(t *testing.T) {
	t.Parallel()
	b := setup(t, mockoidc.FranceConnect(), oidc.ProfileFranceConnect, fcScopes)
	br := newBrowser(t)
	res, body := b.signIn(t, br, "jean-philippe.dartois")

	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/compte" {
		t.Fatalf("landed on %s with status %d, want /compte 200; body: %.400s", res.Request.URL, res.StatusCode, body)
	}
	page := html.UnescapeString(body)
	for _, want := range []string{"Jean-Philippe Marie", "D'ARTOIS-LÉVÊQUE", "FranceConnect", "Quotient familial", "API Particulier"} {
		if !strings.Contains(page, want) {
			t.Errorf("/compte does not show %q; body: %.800s", want, page)
		}
	}

	// The session cookie set by the callback.
	cb := br.hop("/auth/franceconnect/callback")
	if cb == nil {
		t.Fatal("the browser never went through the callback")
	}
	var sc *http.Cookie
	for _, c := range cb.Cookies() {
		if c.Name == b.handler.SessionCookieName() {
			sc = c
		}
	}
	if sc == nil {
		t.Fatalf("the callback set no %s cookie: %v", b.handler.SessionCookieName(), cb.Header.Values("Set-Cookie"))
	}
	if !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" || sc.Secure {
		t.Errorf("session cookie = %+v, want HttpOnly, SameSite=Lax, Path=/, not Secure in tests", sc)
	}
	if len(sc.Value) != 43 { // 256 bits, base64url
		t.Errorf("session id %q is not 256 random bits", sc.Value)
	}
	if sc.MaxAge != int((30 * time.Minute).Seconds()) {
		t.Errorf("session Max-Age = %d, want FranceConnect's 30 min", sc.MaxAge)
	}

	// The consent, for the person's reference.
	want := mandate.PersonRef(personKey, mandate.Person{
		FamilyName: "D'ARTOIS-LÉVÊQUE", GivenNames: "Jean-Philippe Marie", BirthDate: "1978-06-27",
		Sex: "male", BirthPlace: "69123", BirthCountry: "99100",
	})
	got := b.consents(t)
	if len(got) != 1 {
		t.Fatalf("recorded %d consents, want 1", len(got))
	}
	c := got[0]
	if c.PersonRef != want || c.TenantID != b.demo || strings.Join(c.Categories, ",") != "household" ||
		strings.Join(c.Platforms, ",") != "apiparticulier" || c.ExpiresAt.Sub(c.GrantedAt) != web24h {
		t.Errorf("consent = %+v, want person %s, tenant %s, household at apiparticulier for 24h", c, want, b.demo)
	}

	// The access token lives in the session only, until its expiry.
	s, err := b.sessions.Get(t.Context(), sc.Value)
	if err != nil {
		t.Fatalf("reading the session: %v", err)
	}
	if s.LiveAccessToken(time.Now()) == "" || s.ConsentID != c.ID || s.PersonRef != want {
		t.Errorf("session = %+v, want the access token, the consent and the person", s)
	}
	if s.LiveAccessToken(s.AccessTokenExpiry) != "" {
		t.Error("the access token outlives its expiry")
	}
}

const web24h = 24 * time.Hour

func TestCitizenBornAbroad(t *testing.T) {
	t.Parallel()
	b := setup(t, mockoidc.FranceConnect(), oidc.ProfileFranceConnect, fcScopes)
	res, body := b.signIn(t, newBrowser(t), "fatima.el-amrani")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Fatima Zahra") {
		t.Fatalf("status %d, want /compte for Fatima Zahra; body: %.400s", res.StatusCode, body)
	}
	if got := b.consents(t); len(got) != 1 || !mandate.ValidPersonRef(got[0].PersonRef) {
		t.Fatalf("consents = %+v, want one with a person reference", got)
	}
}

func TestProviderErrorShownInFrench(t *testing.T) {
	t.Parallel()
	b := setup(t, mockoidc.FranceConnect(), oidc.ProfileFranceConnect, fcScopes)
	br := newBrowser(t)
	res, id := b.toLoginPage(t, br)
	loginURL := res.Request.URL.ResolveReference(&url.URL{Path: "login"}).String()
	res, body := do(t, br.Client, http.MethodPost, loginURL, url.Values{"id": {id}, "action": {"cancel"}})

	if res.Request.URL.Path != "/auth/franceconnect/callback" || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("landed on %s with %d, want Relais' callback with 401", res.Request.URL, res.StatusCode)
	}
	if res.Request.URL.Query().Get("error") != "access_denied" {
		t.Fatalf("callback query %q, want error=access_denied", res.Request.URL.RawQuery)
	}
	page := html.UnescapeString(body)
	if msg := oidc.ProviderMessage("access_denied"); msg == "" || !strings.Contains(page, msg) {
		t.Errorf("the page does not show the French message %q: %.600s", msg, page)
	}
	if !strings.Contains(page, `lang="fr"`) || strings.Contains(page, "goroutine") {
		t.Errorf("want a French page without internals: %.600s", page)
	}
	if len(b.consents(t)) != 0 || b.sessions.Len() != 0 {
		t.Error("a refused login left a consent or a session")
	}
}

func TestReturnToMustBeLocal(t *testing.T) {
	t.Parallel()
	b := setup(t, mockoidc.FranceConnect(), oidc.ProfileFranceConnect, fcScopes)
	c := newBrowser(t).noRedirect()
	for _, rt := range []string{"https://evil.example/compte", "//evil.example/compte", "/\\evil.example", "javascript:alert(1)", "compte", "/%0d%0aSet-Cookie:x=y\r\n"} {
		res, body := do(t, c, http.MethodGet, b.relais.URL+"/auth/franceconnect/login?return_to="+url.QueryEscape(rt), nil)
		if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" {
			t.Errorf("return_to %q: status %d, Location %q; want 400 without redirect", rt, res.StatusCode, res.Header.Get("Location"))
		}
		if !strings.Contains(html.UnescapeString(body), "Adresse de retour refusée") {
			t.Errorf("return_to %q: no French explanation: %.300s", rt, body)
		}
	}
	res, _ := do(t, c, http.MethodGet, b.relais.URL+"/auth/franceconnect/login?return_to=%2Fcompte%3Fonglet%3D1", nil)
	if res.StatusCode != http.StatusFound || !strings.HasPrefix(res.Header.Get("Location"), b.op.Issuer()) {
		t.Errorf("a local return_to: status %d to %q, want 302 to the provider", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestLogoutNeedsCSRF(t *testing.T) {
	t.Parallel()
	b := setup(t, mockoidc.FranceConnect(), oidc.ProfileFranceConnect, fcScopes)
	br := newBrowser(t)
	_, page := b.signIn(t, br, "angela.dubois")
	token := csrfOf(t, page)
	c := br.noRedirect()

	for name, form := range map[string]url.Values{
		"missing": {},
		"wrong":   {"csrf": {strings.Repeat("A", len(token))}},
		"short":   {"csrf": {token[:10]}},
	} {
		res, body := do(t, c, http.MethodPost, b.relais.URL+"/auth/logout", form)
		if res.StatusCode != http.StatusForbidden || !strings.Contains(html.UnescapeString(body), "jeton de sécurité") {
			t.Errorf("%s token: status %d, want 403 with a French page; body %.300s", name, res.StatusCode, body)
		}
	}
	if res, _ := do(t, c, http.MethodGet, b.relais.URL+"/compte", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("a refused logout ended the session: /compte %d", res.StatusCode)
	}

	res, _ := do(t, c, http.MethodPost, b.relais.URL+"/auth/logout", url.Values{"csrf": {token}})
	loc, err := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || err != nil || !strings.HasPrefix(loc.String(), b.op.Issuer()+mockoidc.FranceConnect().EndSessionPath) {
		t.Fatalf("logout: status %d to %q, want 303 to the provider's end_session", res.StatusCode, res.Header.Get("Location"))
	}
	if loc.Query().Get("id_token_hint") == "" || loc.Query().Get("state") == "" {
		t.Errorf("end_session URL %s lacks id_token_hint or state", loc)
	}
	if res, _ := do(t, c, http.MethodGet, b.relais.URL+"/compte", nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("after logout /compte answers %d, want 401", res.StatusCode)
	}
	if b.sessions.Len() != 0 {
		t.Errorf("%d sessions left after logout", b.sessions.Len())
	}
	// The provider's end_session takes the browser back to Relais.
	res, body := do(t, br.Client, http.MethodGet, loc.String(), nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(html.UnescapeString(body), "déconnecté") {
		t.Errorf("after end_session: %s %d; body %.300s", res.Request.URL, res.StatusCode, body)
	}
}

func TestSessionRotatesOnLogin(t *testing.T) {
	t.Parallel()
	b := setup(t, mockoidc.FranceConnect(), oidc.ProfileFranceConnect, fcScopes)
	br := newBrowser(t)
	b.signIn(t, br, "angela.dubois")
	first := br.hop("/auth/franceconnect/callback").Cookies()
	br.hops = nil
	b.signIn(t, br, "pierre.mercier")
	second := br.hop("/auth/franceconnect/callback").Cookies()
	id := func(cs []*http.Cookie) string {
		for _, c := range cs {
			if c.Name == b.handler.SessionCookieName() {
				return c.Value
			}
		}
		return ""
	}
	if id(first) == "" || id(second) == "" || id(first) == id(second) {
		t.Fatalf("session ids %q then %q, want two different ones", id(first), id(second))
	}
	if _, err := b.sessions.Get(t.Context(), id(first)); err == nil {
		t.Error("the first session survived the second login")
	}
	if b.sessions.Len() != 1 {
		t.Errorf("%d sessions, want 1", b.sessions.Len())
	}
}

func TestProConnectSessionWithoutConsent(t *testing.T) {
	t.Parallel()
	b := setup(t, mockoidc.ProConnect(), oidc.ProfileProConnect, []string{"openid", "given_name", "usual_name", "email", "uid", "siret", "idp_id"})
	br := newBrowser(t)
	prof := b.op.Users()[0]
	res, body := b.signIn(t, br, prof.ID)
	siret := prof.SIRET[:3] + " " + prof.SIRET[3:6] + " " + prof.SIRET[6:9] + " " + prof.SIRET[9:]
	if page := html.UnescapeString(body); res.StatusCode != http.StatusOK || !strings.Contains(page, siret) ||
		!strings.Contains(page, "ccas-exemple") || !strings.Contains(page, `href="/pro"`) {
		t.Fatalf("status %d, want /compte with the SIRET %s, the organisation and the professional space; body %.800s", res.StatusCode, siret, body)
	}
	if len(b.consents(t)) != 0 {
		t.Error("a ProConnect login recorded a consent")
	}
	for _, c := range br.hop("/auth/proconnect/callback").Cookies() {
		if c.Name == b.handler.SessionCookieName() && c.MaxAge != int((12*time.Hour).Seconds()) {
			t.Errorf("ProConnect session Max-Age = %d, want 12 h", c.MaxAge)
		}
	}
}

func TestUnknownProviderAndSignedOut(t *testing.T) {
	t.Parallel()
	b := setup(t, mockoidc.FranceConnect(), oidc.ProfileFranceConnect, fcScopes)
	c := newBrowser(t).noRedirect()
	res, body := do(t, c, http.MethodGet, b.relais.URL+"/auth/nope/login", nil)
	if res.StatusCode != http.StatusNotFound || !strings.Contains(html.UnescapeString(body), "Fournisseur d'identité inconnu") {
		t.Errorf("unknown provider: %d %.200s", res.StatusCode, body)
	}
	res, body = do(t, c, http.MethodGet, b.relais.URL+"/compte", nil)
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "/auth/franceconnect/login") {
		t.Errorf("/compte signed out: %d %.300s", res.StatusCode, body)
	}
	// A callback without the binding cookie is refused in French.
	res, body = do(t, c, http.MethodGet, b.relais.URL+"/auth/franceconnect/callback?code=x&state=y", nil)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `lang="fr"`) {
		t.Errorf("forged callback: %d %.300s", res.StatusCode, body)
	}
	if b.sessions.Len() != 0 {
		t.Error("a forged callback created a session")
	}
}

func TestJWKSPublishesPublicKeysOnly(t *testing.T) {
	t.Parallel()
	b := setup(t, mockoidc.FranceConnect(), oidc.ProfileFranceConnect, fcScopes)
	res, body := do(t, newBrowser(t).Client, http.MethodGet, b.relais.URL+"/.well-known/jwks.json", nil)
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal([]byte(body), &set); err != nil || res.StatusCode != http.StatusOK || len(set.Keys) == 0 {
		t.Fatalf("jwks: %d %v %.200s", res.StatusCode, err, body)
	}
	for _, k := range set.Keys {
		if _, private := k["d"]; private || k["use"] != "enc" {
			t.Errorf("published key %v: want a public enc key", k)
		}
	}
}
