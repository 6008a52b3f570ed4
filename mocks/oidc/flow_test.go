package oidc_test

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/relais-dev/relais/mocks/oidc"
)

// flowCase is one full code flow: a profile, a user, scopes, and what the
// tokens must say.
type flowCase struct {
	name    string
	profile oidc.Profile
	user    string
	scope   string
	acr     string
	amr     []string
	claims  map[string]any // userinfo claims besides sub, iss, aud, iat, exp
	ecKey   bool
	public  string // the expected public sub ("" = pairwise)
}

func flowCases() []flowCase {
	return []flowCase{
		{
			name: "franceconnect", profile: oidc.FranceConnect(), user: "jean-philippe.dartois",
			scope: "openid identite_pivot email", acr: "eidas1",
			claims: map[string]any{
				"given_name": "Jean-Philippe Marie", "given_name_array": []any{"Jean-Philippe", "Marie"},
				"family_name": "D'ARTOIS-LÉVÊQUE", "birthdate": "1978-06-27", "gender": "male",
				"birthplace": "69123", "birthcountry": "99100", "email": "jp.dartois@example.fr",
			},
		},
		{
			name: "franceconnectplus-rsa", profile: oidc.FranceConnectPlus(), user: "fatima.el-amrani",
			scope: "openid identite_pivot", acr: "eidas2",
			claims: map[string]any{
				"given_name": "Fatima Zahra", "given_name_array": []any{"Fatima", "Zahra"},
				"family_name": "EL AMRANI", "birthdate": "1985-11-03", "gender": "female",
				"birthplace": "", "birthcountry": "99350",
			},
		},
		{
			name: "franceconnectplus-ec", profile: oidc.FranceConnectPlus(), user: "angela.dubois", ecKey: true,
			scope: "openid birth", acr: "eidas2",
			claims: map[string]any{"birthplace": "75107", "birthcountry": "99100"},
		},
		{
			name: "proconnect", profile: oidc.ProConnect(), user: "sophie.garnier",
			scope: "openid given_name usual_name email uid siret idp_id organizational_unit", acr: "eidas1", amr: []string{"pwd"},
			public: "b6b1a2f4-4c1e-4a7d-9a53-5e0f1b7e2c01",
			claims: map[string]any{
				"given_name": "Sophie", "usual_name": "GARNIER", "email": "sophie.garnier@ccas-exemple.fr",
				"uid": "sgarnier", "siret": "21300012300009", "idp_id": "fia1v2", "organizational_unit": "CCAS - Pôle insertion",
			},
		},
		{
			name: "prosanteconnect", profile: oidc.ProSanteConnect(), user: "helene.roux",
			scope: "openid scope_all", acr: "eidas1",
			public: "550dc1c8-d97b-4b1e-ac8c-8eb4471cf9dd",
			claims: map[string]any{
				"given_name": "Hélène", "family_name": "ROUX", "preferred_username": "810002345678",
				"email": "helene.roux@ehpad-exemple.fr", "SubjectNameID": "810002345678",
				"SubjectRole": []any{"60^1.2.250.1.213.1.1.5.5"}, "Secteur_Activite": "SA07^1.2.250.1.71.4.2.4",
				"SubjectRefPro": map[string]any{"exercices": []any{map[string]any{
					"codeProfession": "60", "codeCategorieProfessionnelle": "C",
					"nomDexercice": "ROUX", "prenomDexercice": "Hélène",
					"activities": []any{map[string]any{
						"codeModeExercice": "S", "codeSecteurDActivite": "SA07", "codeRole": "FON-01",
						"numeroSiretSite": "41234567800012", "numeroFinessSite": "130012345",
						"raisonSocialeSite": "EHPAD Les Tilleuls",
					}},
				}}},
			},
		},
	}
}

// TestCodeFlow drives a full authorization code flow per profile, as a
// browser and a relying party would, and checks every token; with a fixed
// issuer, and with the issuer taken from the request's Host.
func TestCodeFlow(t *testing.T) {
	t.Parallel()
	for _, tc := range flowCases() {
		for _, dynamic := range []bool{false, true} {
			name := tc.name
			if dynamic {
				name += "/issuer-from-host"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				testCodeFlow(t, tc, dynamic)
			})
		}
	}
}

func testCodeFlow(t *testing.T, tc flowCase, dynamic bool) {
	b := setup(t, tc.profile, setupOpts{ecEncKey: tc.ecKey, dynamicIssuer: dynamic})
	verifier, challenge := pkce()
	params := b.authParams(tc.scope)
	params.Set("acr_values", tc.acr)
	params.Set("code_challenge", challenge)
	params.Set("code_challenge_method", "S256")

	back := b.authorize(t, b.browser(t), params, tc.user)
	if got := back.Scheme + "://" + back.Host + back.Path; got != redirectURI {
		t.Fatalf("redirected to %q, want %q", got, redirectURI)
	}
	q := back.Query()
	if q.Get("state") != params.Get("state") || q.Get("code") == "" || q.Get("error") != "" {
		t.Fatalf("redirect query %v: want the code and the state", q)
	}

	status, tr := b.exchange(t, q.Get("code"), verifier)
	if status != http.StatusOK || tr.AccessToken == "" || tr.IDToken == "" || !strings.EqualFold(tr.TokenType, "bearer") {
		t.Fatalf("token: status %d, %+v", status, tr)
	}
	if tr.ExpiresIn < 55 || tr.ExpiresIn > 60 {
		t.Errorf("expires_in = %d, want about 60", tr.ExpiresIn)
	}
	set := b.jwks(t)
	idToken := tr.IDToken
	encrypted := len(tc.profile.IDTokenEncryptionAlgs) > 0
	if encrypted {
		if n := strings.Count(idToken, "."); n != 4 {
			t.Fatalf("FranceConnect+ id_token has %d dots, want a 5-part JWE", n)
		}
		idToken = decryptJWE(t, b.encKey, idToken)
	}
	claims := verifyJWT(t, set, idToken)
	wantSub := tc.public
	if wantSub == "" {
		wantSub, _ = b.prov.Subject(clientID, tc.user)
	}
	checks := map[string]any{
		"iss": b.issuer, "sub": wantSub, "nonce": params.Get("nonce"), "acr": tc.acr,
	}
	for k, want := range checks {
		if claims[k] != want {
			t.Errorf("id_token %s = %v, want %v", k, claims[k], want)
		}
	}
	if aud := claims["aud"]; !slices.Contains(toStrings(aud), clientID) {
		t.Errorf("id_token aud = %v, want %s", aud, clientID)
	}
	if life := claims["exp"].(float64) - claims["iat"].(float64); life != 60 {
		t.Errorf("id_token lifetime %v s, want 60", life)
	}
	if _, ok := claims["given_name"]; ok {
		t.Errorf("the id_token carries the identity (given_name); it belongs to userinfo")
	}
	if tc.amr != nil {
		if got := toStrings(claims["amr"]); !slices.Equal(got, tc.amr) {
			t.Errorf("id_token amr = %v, want %v", got, tc.amr)
		}
		if claims["sid"] == nil {
			t.Errorf("ProConnect's id_token has no sid")
		}
	}

	status, ctype, body := b.userinfo(t, tr.AccessToken)
	if status != http.StatusOK || ctype != "application/jwt" {
		t.Fatalf("userinfo: status %d, Content-Type %q, body %.200s", status, ctype, body)
	}
	if encrypted {
		body = decryptJWE(t, b.encKey, body)
	}
	info := verifyJWT(t, set, body)
	for _, k := range []string{"sub", "iss", "aud", "iat", "exp"} {
		if _, ok := info[k]; !ok {
			t.Errorf("userinfo has no %s", k)
		}
	}
	if info["sub"] != wantSub || info["aud"] != clientID || info["iss"] != b.issuer {
		t.Errorf("userinfo sub, aud, iss = %v, %v, %v", info["sub"], info["aud"], info["iss"])
	}
	got := maps.Clone(info)
	for _, k := range []string{"sub", "iss", "aud", "iat", "exp"} {
		delete(got, k)
	}
	if !deepEqualJSON(got, tc.claims) {
		t.Errorf("userinfo claims:\n got %v\nwant %v", got, tc.claims)
	}
}

func toStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, _ := e.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}

// TestClaimsPerScope checks that each FranceConnect scope releases exactly
// its claims.
func TestClaimsPerScope(t *testing.T) {
	t.Parallel()
	cases := map[string][]string{
		"openid":                {},
		"openid identite_pivot": {"given_name", "given_name_array", "family_name", "birthdate", "gender", "birthplace", "birthcountry"},
		"openid profile":        {"given_name", "given_name_array", "family_name", "birthdate", "gender", "preferred_username"},
		"openid birth":          {"birthplace", "birthcountry"},
		"openid email":          {"email"},
		"openid birth email":    {"birthplace", "birthcountry", "email"},
		"openid family_name":    {"family_name"},
	}
	b := setup(t, oidc.FranceConnect(), setupOpts{})
	set := b.jwks(t)
	for scope, want := range cases {
		t.Run(strings.ReplaceAll(scope, " ", "+"), func(t *testing.T) {
			t.Parallel()
			back := b.authorize(t, b.browser(t), b.authParams(scope), "chloe.noel")
			status, tr := b.exchange(t, back.Query().Get("code"), "")
			if status != http.StatusOK {
				t.Fatalf("token: status %d, %+v", status, tr)
			}
			_, _, body := b.userinfo(t, tr.AccessToken)
			info := verifyJWT(t, set, body)
			var got []string
			for k := range info {
				switch k {
				case "sub", "iss", "aud", "iat", "exp":
				default:
					got = append(got, k)
				}
			}
			slices.Sort(got)
			want = slices.Sorted(slices.Values(want))
			if !slices.Equal(got, want) {
				t.Errorf("claims %v, want %v", got, want)
			}
		})
	}
}

// TestPairwiseSubject checks that two clients see two subjects for one
// citizen.
func TestPairwiseSubject(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.FranceConnect(), setupOpts{})
	a, _ := b.prov.Subject("client-a", "angela.dubois")
	c, _ := b.prov.Subject("client-b", "angela.dubois")
	if a == "" || a == c {
		t.Fatalf("subjects %q and %q: want two different pairwise subjects", a, c)
	}
	if again, _ := b.prov.Subject("client-a", "angela.dubois"); again != a {
		t.Fatalf("subject is not stable: %q then %q", a, again)
	}
}

func TestCodeIsSingleUse(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.FranceConnect(), setupOpts{})
	back := b.authorize(t, b.browser(t), b.authParams("openid"), "pierre.mercier")
	code := back.Query().Get("code")
	if status, tr := b.exchange(t, code, ""); status != http.StatusOK {
		t.Fatalf("first exchange: status %d, %+v", status, tr)
	}
	status, tr := b.exchange(t, code, "")
	if status != http.StatusBadRequest || tr.Error != "invalid_grant" {
		t.Fatalf("second exchange: status %d, error %q; want 400 invalid_grant", status, tr.Error)
	}
}

func TestCodeExpiresAfter30s(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.FranceConnect(), setupOpts{})
	back := b.authorize(t, b.browser(t), b.authParams("openid"), "pierre.mercier")
	b.clock.Advance(31 * time.Second)
	status, tr := b.exchange(t, back.Query().Get("code"), "")
	if status != http.StatusBadRequest || tr.Error != "invalid_grant" {
		t.Fatalf("late exchange: status %d, error %q; want 400 invalid_grant", status, tr.Error)
	}
}

func TestAccessTokenExpiresAfter60s(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.ProConnect(), setupOpts{})
	back := b.authorize(t, b.browser(t), b.authParams("openid siret"), "karim.benali")
	_, tr := b.exchange(t, back.Query().Get("code"), "")
	if status, _, _ := b.userinfo(t, tr.AccessToken); status != http.StatusOK {
		t.Fatalf("userinfo with a fresh token: status %d", status)
	}
	b.clock.Advance(61 * time.Second)
	if status, _, body := b.userinfo(t, tr.AccessToken); status < 400 || status >= 500 {
		t.Fatalf("userinfo with an expired token: status %d, body %.200s; want a 4xx", status, body)
	}
}

func TestWrongRedirectURIIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.FranceConnect(), setupOpts{})
	c := b.browser(t)
	for _, uri := range []string{"https://evil.example/callback", redirectURI + "/", redirectURI + "?x=1"} {
		params := b.authParams("openid")
		params.Set("redirect_uri", uri)
		res, body := get(t, c, b.url("/authorize")+"?"+params.Encode())
		if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" {
			t.Errorf("redirect_uri %q: status %d, Location %q; want 400 and no redirect (%.100s)", uri, res.StatusCode, res.Header.Get("Location"), body)
		}
	}
	// At the token endpoint, the redirect_uri must be the authorize one.
	back := b.authorize(t, c, b.authParams("openid"), "pierre.mercier")
	status, tr := b.postToken(t, url.Values{"grant_type": {"authorization_code"}, "code": {back.Query().Get("code")},
		"redirect_uri": {"https://rp.example/other"}, "client_id": {clientID}, "client_secret": {clientSecret}})
	if status != http.StatusBadRequest || tr.Error == "" {
		t.Fatalf("token with another redirect_uri: status %d, %+v; want 400", status, tr)
	}
}

func TestWrongClientSecretIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.FranceConnect(), setupOpts{})
	back := b.authorize(t, b.browser(t), b.authParams("openid"), "pierre.mercier")
	status, tr := b.postToken(t, url.Values{"grant_type": {"authorization_code"}, "code": {back.Query().Get("code")},
		"redirect_uri": {redirectURI}, "client_id": {clientID}, "client_secret": {"wrong"}})
	if status != http.StatusUnauthorized && status != http.StatusBadRequest || tr.Error != "invalid_client" {
		t.Fatalf("token with a wrong secret: status %d, %+v; want invalid_client", status, tr)
	}
	// The refused presentation burnt the code: the right secret is too late.
	if status, tr := b.exchange(t, back.Query().Get("code"), ""); status != http.StatusBadRequest || tr.Error != "invalid_grant" {
		t.Fatalf("token after a refused exchange: status %d, %+v; want invalid_grant", status, tr)
	}
}

func TestAccessDenied(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.FranceConnect(), setupOpts{})
	check := func(t *testing.T, back *url.URL) {
		t.Helper()
		q := back.Query()
		if back.Host != "rp.example" || q.Get("error") != "access_denied" || q.Get("error_description") == "" ||
			q.Get("state") != b.authParams("").Get("state") || q.Get("code") != "" {
			t.Fatalf("redirect %s: want access_denied with a description and the state", back)
		}
	}
	t.Run("consent", func(t *testing.T) {
		t.Parallel()
		c := b.browser(t)
		id, _ := b.login(t, c, b.authParams("openid identite_pivot"), "angela.dubois")
		check(t, b.answerConsent(t, c, id, "deny"))
		// The request is gone: accepting now fails.
		res, _ := postForm(t, c, b.url("/consent"), url.Values{"id": {id}, "action": {"accept"}})
		if res.StatusCode != http.StatusBadRequest {
			t.Fatalf("consent after denial: status %d, want 400", res.StatusCode)
		}
	})
	t.Run("login", func(t *testing.T) {
		t.Parallel()
		c := b.browser(t)
		res, _ := get(t, c, b.url("/authorize")+"?"+b.authParams("openid").Encode())
		id := res.Request.URL.Query().Get("id")
		res, body := postForm(t, c, b.url("/login"), url.Values{"id": {id}, "action": {"cancel"}})
		check(t, redirectTo(t, res, body))
	})
}

func TestAuthorizeRequirements(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		profile oidc.Profile
		pkce    bool
		edit    func(url.Values)
		desc    string
	}{
		{"fc nonce too short", oidc.FranceConnect(), false, func(v url.Values) { v.Set("nonce", strings.Repeat("n", 21)) }, "nonce"},
		{"fc no nonce", oidc.FranceConnect(), false, func(v url.Values) { v.Del("nonce") }, "nonce"},
		{"pc nonce under 32", oidc.ProConnect(), false, func(v url.Values) { v.Set("nonce", strings.Repeat("n", 31)) }, "nonce"},
		{"pc state under 32", oidc.ProConnect(), false, func(v url.Values) { v.Set("state", strings.Repeat("s", 31)) }, "state"},
		{"fc no acr_values", oidc.FranceConnect(), false, func(v url.Values) { v.Del("acr_values") }, "acr_values"},
		{"fc+ eidas1 refused", oidc.FranceConnectPlus(), false, func(v url.Values) { v.Set("acr_values", "eidas1") }, "acr_values"},
		{"pkce required", oidc.FranceConnect(), true, func(url.Values) {}, "code_challenge"},
		{"pkce plain refused", oidc.FranceConnect(), false, func(v url.Values) {
			v.Set("code_challenge", strings.Repeat("c", 43))
			v.Set("code_challenge_method", "plain")
		}, "S256"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tc.profile, setupOpts{requirePKCE: tc.pkce})
			params := b.authParams("openid")
			tc.edit(params)
			res, body := get(t, b.browser(t), b.url(b.profile.AuthorizationPath)+"?"+params.Encode())
			back := redirectTo(t, res, body)
			q := back.Query()
			if back.Host != "rp.example" || q.Get("error") != "invalid_request" || !strings.Contains(q.Get("error_description"), tc.desc) {
				t.Fatalf("redirect %s: want invalid_request about %s", back, tc.desc)
			}
			if state := params.Get("state"); state != "" && q.Get("state") != state {
				t.Fatalf("redirect state %q, want %q", q.Get("state"), state)
			}
		})
	}
}

func TestPKCEVerifierChecked(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.FranceConnect(), setupOpts{requirePKCE: true})
	_, challenge := pkce()
	params := b.authParams("openid")
	params.Set("code_challenge", challenge)
	params.Set("code_challenge_method", "S256")
	back := b.authorize(t, b.browser(t), params, "pierre.mercier")
	status, tr := b.exchange(t, back.Query().Get("code"), "another-verifier-"+strings.Repeat("y", 40))
	if status != http.StatusBadRequest || tr.Error != "invalid_grant" {
		t.Fatalf("exchange with a wrong verifier: status %d, %+v; want 400 invalid_grant", status, tr)
	}
}

func TestLoginWithPassword(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.FranceConnect(), setupOpts{})
	c := b.browser(t)
	res, _ := get(t, c, b.url("/authorize")+"?"+b.authParams("openid").Encode())
	id := res.Request.URL.Query().Get("id")
	res, body := postForm(t, c, b.url("/login"), url.Values{"id": {id}, "login": {"pierre.mercier"}, "password": {"wrong"}})
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Identifiant ou mot de passe incorrect") {
		t.Fatalf("wrong password: status %d; want 401 and the French message", res.StatusCode)
	}
	res, body = postForm(t, c, b.url("/login"), url.Values{"id": {id}, "login": {"pierre.mercier"}, "password": {"pierre"}})
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Autoriser") {
		t.Fatalf("right password: status %d; want the consent page", res.StatusCode)
	}
}

func TestConsentPageListsClaimsInFrench(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.FranceConnect(), setupOpts{})
	_, page := b.login(t, b.browser(t), b.authParams("openid identite_pivot"), "fatima.el-amrani")
	for _, want := range []string{`lang="fr"`, "Prénom(s)", "Fatima Zahra", "Pays de naissance (code INSEE) : 99350",
		"Nom de naissance", "Date de naissance", "Autoriser", "Refuser"} {
		if !strings.Contains(page, want) {
			t.Errorf("the consent page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script") {
		t.Errorf("the consent page has a script; it must work without JavaScript")
	}
}

func TestEndSession(t *testing.T) {
	t.Parallel()
	b := setup(t, oidc.FranceConnect(), setupOpts{})
	c := b.browser(t)
	back := b.authorize(t, c, b.authParams("openid"), "pierre.mercier")
	_, tr := b.exchange(t, back.Query().Get("code"), "")
	q := url.Values{"id_token_hint": {tr.IDToken}, "state": {"logout-state-123"}, "post_logout_redirect_uri": {logoutURI}}
	res, body := get(t, c, b.url("/session/end")+"?"+q.Encode())
	out := redirectTo(t, res, body)
	if out.Scheme+"://"+out.Host+out.Path != logoutURI || out.Query().Get("state") != "logout-state-123" {
		t.Fatalf("end_session redirected to %s, want %s with the state", out, logoutURI)
	}
	// The session's access token no longer works.
	if status, _, _ := b.userinfo(t, tr.AccessToken); status == http.StatusOK {
		t.Fatalf("userinfo after logout: status 200, want a refusal")
	}
	// An unregistered post_logout_redirect_uri is not followed.
	q.Set("post_logout_redirect_uri", "https://evil.example/")
	res, _ = get(t, c, b.url("/session/end")+"?"+q.Encode())
	if loc := res.Header.Get("Location"); strings.HasPrefix(loc, "https://evil.example") {
		t.Fatalf("end_session followed an unregistered post_logout_redirect_uri: %s", loc)
	}
}
