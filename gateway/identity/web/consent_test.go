package web_test

import (
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

// TestConsentWithdrawal: on /compte a citizen withdraws the consent of
// their login (CSRF checked); it is no longer active, journaled, gone from
// the page, and the session loses the provider's access token. Nobody
// withdraws another person's consent.
func TestConsentWithdrawal(t *testing.T) {
	t.Parallel()
	b := setup(t, mockoidc.FranceConnect(), oidc.ProfileFranceConnect, fcScopes)
	other := newBrowser(t)
	_, otherPage := b.signIn(t, other, "pierre.mercier")
	br := newBrowser(t)
	_, page := b.signIn(t, br, "angela.dubois")
	ref := mandate.PersonRef(personKey, mandate.Person{
		FamilyName: "DUBOIS", GivenNames: "Angela Claire Louise", BirthDate: "1962-08-24", Sex: "female", BirthPlace: "75107", BirthCountry: "99100",
	})
	consents, err := b.store.ConsentsByPerson(t.Context(), b.demo, ref)
	if err != nil || len(consents) != 1 {
		t.Fatalf("consents of Angela: %+v, %v", consents, err)
	}
	c := consents[0]
	action := "/compte/consentements/" + c.ID + "/retrait"
	if !strings.Contains(page, `action="`+action+`"`) {
		t.Fatalf("/compte has no withdrawal form for %s: %.1200s", c.ID, page)
	}
	oldCookie := cookie(t, b, br)
	// The sign-in kept the consent's access token, the session's, for
	// lookups under the consent.
	signedIn, err := b.sessions.Get(t.Context(), oldCookie)
	if err != nil || signedIn.AccessToken == "" {
		t.Fatalf("session after sign-in = %+v, %v; want an access token", signedIn, err)
	}
	if tok, err := b.store.ConsentToken(t.Context(), b.demo, c.ID, time.Now()); err != nil || tok.Reveal() != signedIn.AccessToken {
		t.Fatalf("consent token = %v; want the session's access token", err)
	}

	// Without the token, or with another session's, nothing happens.
	for name, form := range map[string]url.Values{"missing": {}, "another session's": {"csrf": {csrfOf(t, otherPage)}}} {
		res, body := do(t, br.noRedirect(), http.MethodPost, b.relais.URL+action, form)
		if res.StatusCode != http.StatusForbidden || !strings.Contains(html.UnescapeString(body), "jeton de sécurité") {
			t.Errorf("%s token: %d, want 403; body %.300s", name, res.StatusCode, body)
		}
	}
	// Another person cannot withdraw it.
	res, body := do(t, other.noRedirect(), http.MethodPost, b.relais.URL+action, url.Values{"csrf": {csrfOf(t, otherPage)}})
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("another person withdrawing: %d, want 404; body %.300s", res.StatusCode, body)
	}
	if got, _ := b.store.Consent(t.Context(), b.demo, c.ID); got.WithdrawnAt != nil {
		t.Fatalf("a refused withdrawal withdrew the consent: %+v", got)
	}

	res, body = do(t, br.Client, http.MethodPost, b.relais.URL+action, url.Values{"csrf": {csrfOf(t, page)}})
	page = html.UnescapeString(body)
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/compte" || !strings.Contains(page, "consentement a été retiré") ||
		!strings.Contains(page, `id="no-consent"`) {
		t.Fatalf("withdrawal: %s %d; body %.800s", res.Request.URL, res.StatusCode, page)
	}
	got, err := b.store.Consent(t.Context(), b.demo, c.ID)
	if err != nil || got.WithdrawnAt == nil || got.ActiveAt(time.Now()) || got.ActiveAt(*got.WithdrawnAt) {
		t.Fatalf("consent after withdrawal = %+v, %v; want withdrawn, inactive from then on", got, err)
	}
	var journaled int
	for _, e := range b.journal(t, b.demo) {
		if e.Operation == mandate.ActionWithdrawConsent {
			journaled++
			if e.APIKeyID != mandate.ActorPerson || !strings.Contains(e.Detail, "consent="+c.ID) || !strings.Contains(e.Detail, "person="+ref) ||
				strings.Join(e.Categories, ",") != "household" {
				t.Errorf("withdrawal journaled as %+v", e)
			}
		}
	}
	if journaled != 1 {
		t.Errorf("%d withdraw_consent entries, want 1", journaled)
	}

	// The session was rotated without the access token.
	newCookie := cookie(t, b, br)
	if newCookie == oldCookie {
		t.Fatal("the session id did not change")
	}
	if _, err := b.sessions.Get(t.Context(), oldCookie); err == nil {
		t.Error("the session that held the access token survives")
	}
	s, err := b.sessions.Get(t.Context(), newCookie)
	if err != nil || s.AccessToken != "" || s.ConsentID != "" || s.PersonRef != ref {
		t.Errorf("session after withdrawal = %+v, %v; want the person without token nor consent", s, err)
	}

	// A second withdrawal changes and journals nothing.
	res, _ = do(t, br.Client, http.MethodPost, b.relais.URL+action, url.Values{"csrf": {csrfOf(t, page)}})
	if res.StatusCode != http.StatusOK {
		t.Errorf("withdrawing again: %d", res.StatusCode)
	}
	if again, _ := b.store.Consent(t.Context(), b.demo, c.ID); !again.WithdrawnAt.Equal(*got.WithdrawnAt) {
		t.Errorf("withdrawing again moved withdrawn_at from %v to %v", got.WithdrawnAt, again.WithdrawnAt)
	}
	// A malformed id is not found.
	res, _ = do(t, br.Client, http.MethodPost, b.relais.URL+"/compte/consentements/nope/retrait", url.Values{"csrf": {csrfOf(t, page)}})
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("a malformed consent id: %d, want 404", res.StatusCode)
	}
}

// cookie is br's session cookie at Relais.
func cookie(t *testing.T, b *bundle, br *browser) string {
	t.Helper()
	u, _ := url.Parse(b.relais.URL)
	for _, c := range br.Jar.Cookies(u) {
		if c.Name == b.handler.SessionCookieName() {
			return c.Value
		}
	}
	t.Fatal("the browser has no session cookie")
	return ""
}
