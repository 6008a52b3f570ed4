package oidc_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/relais-dev/relais/connectors/clock"
	"github.com/relais-dev/relais/gateway/identity/oidc"
)

const redirectURI = "https://relais.example/auth/fc/callback"

type bundle struct {
	op      *testOP
	rp      *oidc.RelyingParty
	pending *oidc.MemoryPending
	clock   *clock.Fake
	browser *http.Client
	keys    *oidc.DecryptionKeys
}

// setup starts a test OP and an RP for profile (FranceConnect+ gets its
// decryption keys and an OP that encrypts to them).
func setup(t testing.TB, profile oidc.Profile, tweak ...func(*oidc.Config)) *bundle {
	t.Helper()
	op := newTestOP(t, redirectURI)
	clk := clock.NewFake(time.Now())
	op.now = clk.Now
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	t.Cleanup(client.CloseIdleConnections)
	cfg := oidc.Config{
		Name: "fc", Profile: profile, IssuerURL: op.issuer(),
		ClientID: op.clientID, ClientSecret: "s3cr3t-client-secret",
		RedirectURL: redirectURI, PostLogoutRedirectURL: "https://relais.example/",
		Scopes: []string{"openid", "identite_pivot"},
	}
	opts := oidc.Options{Pending: oidc.NewMemoryPending(0, 0, clk.Now), HTTPClient: client, Now: clk.Now}
	var keys *oidc.DecryptionKeys
	if profile == oidc.ProfileFranceConnectPlus {
		var err error
		keys, err = oidc.GenerateDecryptionKeys()
		if err != nil {
			t.Fatalf("generating keys: %v", err)
		}
		opts.Keys = keys
		pub := keys.Public().Keys[0]
		op.encryptTo = &pub
		op.acr = "eidas2"
	}
	for _, f := range tweak {
		f(&cfg)
	}
	rp, err := oidc.New(t.Context(), cfg, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	browser := &http.Client{
		Timeout:       5 * time.Second,
		Transport:     &http.Transport{},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	t.Cleanup(browser.CloseIdleConnections)
	return &bundle{op: op, rp: rp, pending: opts.Pending.(*oidc.MemoryPending), clock: clk, browser: browser, keys: keys}
}

// authorize starts a login and follows the browser to the OP, returning the
// login and the callback query the OP redirected to.
func (b *bundle) authorize(t testing.TB, o oidc.BeginOptions) (*oidc.Login, url.Values) {
	t.Helper()
	login, err := b.rp.Begin(t.Context(), o)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	resp, err := b.browser.Get(login.URL)
	if err != nil {
		t.Fatalf("following authorize: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize status = %d, want 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatalf("parsing Location: %v", err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirectURI {
		t.Fatalf("redirected to %q, want %q", got, redirectURI)
	}
	return login, loc.Query()
}

// login runs a whole login and returns the callback's result.
func (b *bundle) login(t testing.TB, o oidc.BeginOptions) (*oidc.Identity, error) {
	t.Helper()
	l, q := b.authorize(t, o)
	return b.rp.Callback(context.WithoutCancel(t.Context()), q, l.Binding)
}

func wantCode(t *testing.T, err error, want oidc.Code) {
	t.Helper()
	if err == nil {
		t.Fatalf("error = nil, want %s", want)
	}
	if got := oidc.CodeOf(err); got != want {
		t.Fatalf("code = %q, want %q (error: %v)", got, want, err)
	}
	var e *oidc.Error
	if !errors.As(err, &e) || e.Message == "" || e.Message != want.Message() {
		t.Fatalf("message = %q, want the French message of %s", e.Message, want)
	}
	if !errors.Is(err, &oidc.Error{Code: want}) {
		t.Fatalf("errors.Is(err, %s) = false", want)
	}
}

func TestLoginFranceConnect(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.ProfileFranceConnect)
	l, q := b.authorize(t, oidc.BeginOptions{ReturnTo: "/consents/new"})
	authURL, _ := url.Parse(l.URL)
	aq := authURL.Query()
	if len(l.State) < 32 || len(aq.Get("nonce")) < 32 {
		t.Fatalf("state %q / nonce %q shorter than 32", l.State, aq.Get("nonce"))
	}
	if aq.Get("code_challenge_method") != "S256" || aq.Get("acr_values") != "eidas1" || aq.Get("redirect_uri") != redirectURI {
		t.Fatalf("authorize query = %v", aq)
	}
	if !strings.HasPrefix(l.URL, b.op.issuer()+"/authorize?") {
		t.Fatalf("URL %q does not use the discovered endpoint", l.URL)
	}
	id, err := b.rp.Callback(t.Context(), q, l.Binding)
	if err != nil {
		t.Fatalf("Callback: %v", err)
	}
	if id.Subject != "pairwise-sub-42" || id.ACR != "eidas1" || id.ReturnTo != "/consents/new" || id.AccessToken == "" {
		t.Fatalf("identity = %+v", id)
	}
	if id.Claims["given_name"] != "Marie-Thérèse Élodie" || id.Claims["birthcountry"] != "99350" {
		t.Fatalf("userinfo claims not merged: %v", id.Claims)
	}
	if len(id.AMR) != 1 || id.AMR[0] != "pwd" || id.AuthTime.IsZero() {
		t.Fatalf("amr/auth_time = %v / %v", id.AMR, id.AuthTime)
	}
	if b.pending.Len() != 0 {
		t.Fatalf("pending logins left: %d", b.pending.Len())
	}
}

func TestLoginFranceConnectPlusEncrypted(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.ProfileFranceConnectPlus)
	id, err := b.login(t, oidc.BeginOptions{})
	if err != nil {
		t.Fatalf("Callback: %v", err)
	}
	if strings.Count(id.IDToken, ".") != 4 {
		t.Fatalf("IDToken should be kept as received (JWE): %d dots", strings.Count(id.IDToken, "."))
	}
	if id.ACR != "eidas2" || id.Claims["family_name"] != "N'Diaye" {
		t.Fatalf("identity = %+v", id)
	}
}

func TestLoginProConnectBindsSIRET(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.ProfileProConnect)
	id, err := b.login(t, oidc.BeginOptions{})
	if err != nil {
		t.Fatalf("Callback: %v", err)
	}
	if id.SIRET != "13002526500013" {
		t.Fatalf("SIRET = %q", id.SIRET)
	}
	for _, change := range []func(c map[string]any){
		func(c map[string]any) { delete(c, "siret") },
		func(c map[string]any) { c["siret"] = "1300252650001" },  // 13 digits
		func(c map[string]any) { c["siret"] = "13002526500014" }, // wrong check key
	} {
		b.op.set(func(op *testOP) { op.userinfoClaims = change })
		_, err = b.login(t, oidc.BeginOptions{})
		wantCode(t, err, oidc.CodeSIRETMissing)
	}
}

func TestAttackAlgNone(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.ProfileFranceConnect)
	b.op.set(func(op *testOP) { op.idToken = unsigned })
	_, err := b.login(t, oidc.BeginOptions{})
	wantCode(t, err, oidc.CodeUnsupportedAlg)
}

func TestAttackHS256WithPublicKey(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.ProfileFranceConnect)
	b.op.set(func(op *testOP) {
		op.idToken = func(c map[string]any) string {
			pub, _ := x509.MarshalPKIXPublicKey(&op.key.PublicKey)
			return signWith(jose.HS256, pub, op.kid, c)
		}
	})
	_, err := b.login(t, oidc.BeginOptions{})
	wantCode(t, err, oidc.CodeUnsupportedAlg)
}

func otherKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generating key: %v", err)
	}
	return k
}

func TestAttackBadSignature(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.ProfileFranceConnect)
	forger := otherKey(t)
	b.op.set(func(op *testOP) {
		op.idToken = func(c map[string]any) string { return signWith(jose.ES256, forger, op.kid, c) }
	})
	_, err := b.login(t, oidc.BeginOptions{})
	wantCode(t, err, oidc.CodeBadSignature)
}

func TestAttackWrongIssuer(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.ProfileFranceConnect)
	b.op.set(func(op *testOP) { op.idClaims = func(c map[string]any) { c["iss"] = "https://evil.example" } })
	_, err := b.login(t, oidc.BeginOptions{})
	wantCode(t, err, oidc.CodeIssuerMismatch)
}

func TestAttackWrongAudience(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.ProfileFranceConnect)
	b.op.set(func(op *testOP) { op.idClaims = func(c map[string]any) { c["aud"] = []string{"another-service"} } })
	_, err := b.login(t, oidc.BeginOptions{})
	wantCode(t, err, oidc.CodeAudienceMismatch)
}

func TestAttackExpiredToken(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.ProfileFranceConnect)
	// exp = now - 31s: beyond the 30 s leeway.
	b.op.set(func(op *testOP) {
		op.idClaims = func(c map[string]any) { c["exp"] = b.clock.Now().Add(-31 * time.Second).Unix() }
	})
	_, err := b.login(t, oidc.BeginOptions{})
	wantCode(t, err, oidc.CodeTokenExpired)

	// exp = now - 20s: within the leeway, accepted.
	b.op.set(func(op *testOP) {
		op.idClaims = func(c map[string]any) { c["exp"] = b.clock.Now().Add(-20 * time.Second).Unix() }
	})
	if _, err := b.login(t, oidc.BeginOptions{}); err != nil {
		t.Fatalf("token expired within the leeway rejected: %v", err)
	}
}

func TestAttackIssuedInFuture(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.ProfileFranceConnect)
	b.op.set(func(op *testOP) {
		op.idClaims = func(c map[string]any) { c["iat"] = b.clock.Now().Add(45 * time.Second).Unix() }
	})
	_, err := b.login(t, oidc.BeginOptions{})
	wantCode(t, err, oidc.CodeIssuedInFuture)

	b.op.set(func(op *testOP) {
		op.idClaims = func(c map[string]any) { c["iat"] = b.clock.Now().Add(25 * time.Second).Unix() }
	})
	if _, err := b.login(t, oidc.BeginOptions{}); err != nil {
		t.Fatalf("iat 25 s ahead (within the leeway) rejected: %v", err)
	}
}

func TestAttackNonceMismatch(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.ProfileFranceConnect)
	b.op.set(func(op *testOP) {
		op.idClaims = func(c map[string]any) { c["nonce"] = "an-attacker-chosen-nonce-of-enough-length" }
	})
	_, err := b.login(t, oidc.BeginOptions{})
	wantCode(t, err, oidc.CodeNonceMismatch)
}

func TestAttackNonceReplayed(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.ProfileFranceConnect)
	var first string
	b.op.set(func(op *testOP) {
		op.idToken = func(c map[string]any) string {
			if first == "" {
				first = op.sign(c)
			}
			return first // every later login gets the first id_token again
		}
	})
	if _, err := b.login(t, oidc.BeginOptions{}); err != nil {
		t.Fatalf("first login: %v", err)
	}
	_, err := b.login(t, oidc.BeginOptions{})
	wantCode(t, err, oidc.CodeNonceMismatch)
}

func TestAttackStateMismatch(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.ProfileFranceConnect)
	l, q := b.authorize(t, oidc.BeginOptions{})

	forged := url.Values{"state": {"forged-state-forged-state-forged-state"}, "code": q["code"]}
	_, err := b.rp.Callback(t.Context(), forged, l.Binding)
	wantCode(t, err, oidc.CodeStateMismatch)

	// Right state, another browser: rejected, and the state is spent.
	_, err = b.rp.Callback(t.Context(), q, "cookie-of-another-browser")
	wantCode(t, err, oidc.CodeStateMismatch)
	_, err = b.rp.Callback(t.Context(), q, l.Binding)
	wantCode(t, err, oidc.CodeStateMismatch)

	_, err = b.rp.Callback(t.Context(), url.Values{"code": {"x"}}, l.Binding)
	wantCode(t, err, oidc.CodeStateMissing)
}

func TestPendingLoginExpires(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.ProfileFranceConnect)
	l, q := b.authorize(t, oidc.BeginOptions{})
	b.clock.Advance(oidc.DefaultPendingTTL + time.Second)
	_, err := b.rp.Callback(t.Context(), q, l.Binding)
	wantCode(t, err, oidc.CodeLoginExpired)
}

func TestAttackCodeReplayed(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.ProfileFranceConnect)
	l, q := b.authorize(t, oidc.BeginOptions{})
	if _, err := b.rp.Callback(t.Context(), q, l.Binding); err != nil {
		t.Fatalf("first callback: %v", err)
	}
	// The attacker replays the code under a fresh login of their own.
	l2, q2 := b.authorize(t, oidc.BeginOptions{})
	q2.Set("code", q.Get("code"))
	_, err := b.rp.Callback(t.Context(), q2, l2.Binding)
	wantCode(t, err, oidc.CodeTokenExchange)
	if !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("error %q does not surface the OP's invalid_grant", err)
	}
}

func TestAttackRedirectURIMismatch(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.ProfileFranceConnect)
	pending := oidc.NewMemoryPending(0, 0, b.clock.Now)
	other, err := oidc.New(t.Context(), oidc.Config{
		Name: "fc", Profile: oidc.ProfileFranceConnect, IssuerURL: b.op.issuer(),
		ClientID: b.op.clientID, ClientSecret: "s3cr3t-client-secret",
		RedirectURL: "https://evil.example/auth/fc/callback",
	}, oidc.Options{Pending: pending, HTTPClient: b.browser, Now: b.clock.Now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	// The OP refuses to send the browser to an unregistered URI.
	l, err := other.Begin(t.Context(), oidc.BeginOptions{})
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	resp, err := b.browser.Get(l.URL)
	if err != nil {
		t.Fatalf("GET authorize: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Fatalf("authorize = %d Location %q, want 400 and no redirect", resp.StatusCode, resp.Header.Get("Location"))
	}
	// A code issued for the registered URI, redeemed with another one:
	// the OP refuses it and the RP surfaces the error.
	_, q := b.authorize(t, oidc.BeginOptions{})
	l2, err := other.Begin(t.Context(), oidc.BeginOptions{})
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	q.Set("state", l2.State)
	_, err = other.Callback(t.Context(), q, l2.Binding)
	wantCode(t, err, oidc.CodeTokenExchange)
}

func TestAttackACRTooLow(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.ProfileFranceConnect)
	l, _ := b.authorize(t, oidc.BeginOptions{MinACR: oidc.ACREidas2})
	if u, _ := url.Parse(l.URL); u.Query().Get("acr_values") != "eidas2" {
		t.Fatalf("acr_values = %q, want eidas2", u.Query().Get("acr_values"))
	}
	// The OP answers eidas1 all the same.
	_, err := b.login(t, oidc.BeginOptions{MinACR: oidc.ACREidas2})
	wantCode(t, err, oidc.CodeACRTooLow)
	b.op.set(func(op *testOP) { op.idClaims = func(c map[string]any) { delete(c, "acr") } })
	_, err = b.login(t, oidc.BeginOptions{})
	wantCode(t, err, oidc.CodeACRTooLow)
}

func TestAttackUserinfoBadSignature(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.ProfileFranceConnect)
	forger := otherKey(t)
	b.op.set(func(op *testOP) {
		op.userinfoToken = func(c map[string]any) string { return signWith(jose.ES256, forger, op.kid, c) }
	})
	_, err := b.login(t, oidc.BeginOptions{})
	wantCode(t, err, oidc.CodeUserinfoSignature)
}

func TestAttackUserinfoOtherSubject(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.ProfileFranceConnect)
	b.op.set(func(op *testOP) { op.userinfoClaims = func(c map[string]any) { c["sub"] = "someone-else" } })
	_, err := b.login(t, oidc.BeginOptions{})
	wantCode(t, err, oidc.CodeSubjectMismatch)
}

func TestAttackFranceConnectPlusNotEncrypted(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.ProfileFranceConnectPlus)
	b.op.set(func(op *testOP) { op.idToken = func(c map[string]any) string { return op.sign(c) } })
	_, err := b.login(t, oidc.BeginOptions{})
	wantCode(t, err, oidc.CodeNotEncrypted)

	b.op.set(func(op *testOP) {
		op.idToken = nil
		op.userinfoToken = func(c map[string]any) string { return op.sign(c) }
	})
	_, err = b.login(t, oidc.BeginOptions{})
	wantCode(t, err, oidc.CodeNotEncrypted)
}

func TestFranceConnectPlusWrongRecipient(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.ProfileFranceConnectPlus)
	stranger, err := oidc.GenerateDecryptionKeys()
	if err != nil {
		t.Fatalf("generating keys: %v", err)
	}
	pub := stranger.Public().Keys[0]
	b.op.set(func(op *testOP) { op.encryptTo = &pub })
	_, err = b.login(t, oidc.BeginOptions{})
	wantCode(t, err, oidc.CodeDecryption)
}

func TestProviderErrorInFrench(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.ProfileFranceConnect)
	l, q := b.authorize(t, oidc.BeginOptions{})
	q.Del("code")
	q.Set("error", "access_denied")
	q.Set("error_description", "User auth aborted")
	_, err := b.rp.Callback(t.Context(), q, l.Binding)
	wantCodeProvider(t, err, "Vous avez annulé la connexion.", "access_denied")
}

func wantCodeProvider(t *testing.T, err error, msg, code string) {
	t.Helper()
	var e *oidc.Error
	if !errors.As(err, &e) || e.Code != oidc.CodeProviderError || e.Message != msg {
		t.Fatalf("error = %#v, want provider error %q", err, msg)
	}
	var pe *oidc.ProviderError
	if !errors.As(err, &pe) || pe.ErrorCode != code {
		t.Fatalf("provider error code = %v, want %s", pe, code)
	}
}

func TestLogoutURL(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.ProfileFranceConnect)
	id, err := b.login(t, oidc.BeginOptions{})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	state := oidc.NewLogoutState()
	raw, err := b.rp.LogoutURL(id.IDToken, state)
	if err != nil {
		t.Fatalf("LogoutURL: %v", err)
	}
	u, _ := url.Parse(raw)
	q := u.Query()
	if u.Path != "/session/end" || q.Get("id_token_hint") != id.IDToken || q.Get("state") != state ||
		q.Get("post_logout_redirect_uri") != "https://relais.example/" || len(state) < 32 {
		t.Fatalf("logout URL = %s", raw)
	}
}

func TestCookie(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.ProfileFranceConnect, func(c *oidc.Config) { c.SecureCookie = true })
	l, err := b.rp.Begin(t.Context(), oidc.BeginOptions{})
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	c := b.rp.Cookie(l)
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/auth/fc/callback" || c.Value != l.Binding {
		t.Fatalf("cookie = %+v", c)
	}
	if strings.Contains(l.URL, l.Binding) {
		t.Fatal("the binding secret leaks into the authorization URL")
	}
}

func TestAttackUserinfoTokenClaims(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(c map[string]any)
		want   oidc.Code
	}{
		{"iss of another issuer", func(c map[string]any) { c["iss"] = "https://evil.example" }, oidc.CodeIssuerMismatch},
		{"aud of another client", func(c map[string]any) { c["aud"] = "another-client" }, oidc.CodeAudienceMismatch},
		{"aud list without the client", func(c map[string]any) { c["aud"] = []string{"another-client"} }, oidc.CodeAudienceMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, oidc.ProfileFranceConnect)
			b.op.set(func(op *testOP) { op.userinfoClaims = tc.change })
			_, err := b.login(t, oidc.BeginOptions{})
			wantCode(t, err, tc.want)
		})
	}
}

// A userinfo JWT's token claims (acr, amr, nonce...) never overwrite the
// id_token's: the acr checked against the login's level is the one kept.
func TestUserinfoDoesNotOverrideTokenClaims(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.ProfileFranceConnect)
	b.op.set(func(op *testOP) {
		op.userinfoClaims = func(c map[string]any) {
			c["acr"], c["amr"], c["nonce"], c["auth_time"] = "eidas3", []string{"mfa"}, "other", 1
		}
	})
	id, err := b.login(t, oidc.BeginOptions{})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	if id.ACR != "eidas1" || len(id.AMR) != 1 || id.AMR[0] != "pwd" || id.Claims["nonce"] == "other" || id.AuthTime.Unix() == 1 {
		t.Fatalf("userinfo overrode the id_token: acr %q, amr %v, nonce %v, auth_time %v", id.ACR, id.AMR, id.Claims["nonce"], id.AuthTime)
	}
}

// A login started for one provider cannot be finished at another sharing
// the pending store, even with the right browser binding.
func TestAttackCallbackAtAnotherProvider(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.ProfileFranceConnect)
	cfg := b.rp.Config()
	cfg.Name = "other"
	other, err := oidc.New(t.Context(), cfg, oidc.Options{Pending: b.pending, HTTPClient: b.browser, Now: b.clock.Now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	l, q := b.authorize(t, oidc.BeginOptions{})
	_, err = other.Callback(t.Context(), q, l.Binding)
	wantCode(t, err, oidc.CodeStateMismatch)
}
