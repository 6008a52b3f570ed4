package apiparticulier_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relais-dev/relais/connectors/clock"
	"github.com/relais-dev/relais/mocks/apiparticulier"
	"github.com/relais-dev/relais/mocks/platform"
)

const qfPath = "/v3/dss/quotient_familial/identite"

// qf is the quotient familial part of an answer.
type qf struct {
	Data struct {
		Allocataires []struct {
			NomNaissance string `json:"nom_naissance"`
			Prenoms      string `json:"prenoms"`
		} `json:"allocataires"`
		Enfants          []map[string]any `json:"enfants"`
		QuotientFamilial struct {
			Fournisseur string `json:"fournisseur"`
			Valeur      int    `json:"valeur"`
			Annee       int    `json:"annee"`
			Mois        int    `json:"mois"`
		} `json:"quotient_familial"`
	} `json:"data"`
}

func (b *bundle) quotient(q url.Values, header http.Header) (answer, qf) {
	b.t.Helper()
	a := b.do(call{path: qfPath, query: q, token: apiparticulier.DefaultToken, header: header})
	var v qf
	if a.status == http.StatusOK {
		a.decode(b.t, &v)
	}
	return a, v
}

func TestCache(t *testing.T) {
	t.Parallel()
	b := setup(t, apiparticulier.Options{})

	a, v := b.quotient(dupontSophie(), nil)
	if a.status != http.StatusOK || v.Data.QuotientFamilial.Valeur != 900 {
		t.Fatalf("first call: %d %s", a.status, a.body)
	}
	if got := a.header.Get("X-Response-Cached"); got != "false" {
		t.Errorf("first call: X-Response-Cached %q, want false", got)
	}
	if vals, ok := a.header["X-Cache-Expires-In"]; !ok || vals[0] != "" {
		t.Errorf("first call: X-Cache-Expires-in %q, want present and empty", vals)
	}

	// The household changes at the CAF: the cache still serves the old
	// answer, for 24 hours, unless the caller asks for fresh data.
	h := dupontHousehold(t, 1234)
	if err := b.srv.SetHousehold(h); err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(time.Hour)
	a, v = b.quotient(dupontSophie(), nil)
	if a.header.Get("X-Response-Cached") != "true" || a.header.Get("X-Cache-Expires-In") != "82800" || v.Data.QuotientFamilial.Valeur != 900 {
		t.Errorf("within 24 h: cached %q, expires %q, valeur %d; want true, 82800, the old 900",
			a.header.Get("X-Response-Cached"), a.header.Get("X-Cache-Expires-In"), v.Data.QuotientFamilial.Valeur)
	}
	a, v = b.quotient(dupontSophie(), http.Header{"Cache-Control": {"no-cache"}})
	if a.header.Get("X-Response-Cached") != "false" || v.Data.QuotientFamilial.Valeur != 1234 {
		t.Errorf("no-cache: cached %q, valeur %d; want false, the new 1234", a.header.Get("X-Response-Cached"), v.Data.QuotientFamilial.Valeur)
	}
	// no-cache did not refresh the cache.
	if _, v = b.quotient(dupontSophie(), nil); v.Data.QuotientFamilial.Valeur != 900 {
		t.Errorf("after no-cache: valeur %d, want the cached 900", v.Data.QuotientFamilial.Valeur)
	}
	// Another token shares the platform's cache; other routes do not.
	other := b.do(call{path: qfPath, query: dupontSophie(), token: apiparticulier.RestrictedToken})
	if other.header.Get("X-Response-Cached") != "true" {
		t.Errorf("another token: X-Response-Cached %q, want true", other.header.Get("X-Response-Cached"))
	}
	rsa := b.do(call{path: "/v3/dss/revenu_solidarite_active/identite", query: dupontSophie(), token: apiparticulier.DefaultToken})
	if rsa.header.Get("X-Response-Cached") != "false" {
		t.Errorf("another route: X-Response-Cached %q, want false", rsa.header.Get("X-Response-Cached"))
	}

	b.clock.Advance(23 * time.Hour)
	a, v = b.quotient(dupontSophie(), nil)
	if a.header.Get("X-Response-Cached") != "false" || v.Data.QuotientFamilial.Valeur != 1234 {
		t.Errorf("after 24 h: cached %q, valeur %d; want false, 1234", a.header.Get("X-Response-Cached"), v.Data.QuotientFamilial.Valeur)
	}

	// Reset forgets the cache and the household set.
	b.srv.Reset()
	if a, v = b.quotient(dupontSophie(), nil); a.header.Get("X-Response-Cached") != "false" || v.Data.QuotientFamilial.Valeur != 900 {
		t.Errorf("after Reset: cached %q, valeur %d; want false, 900", a.header.Get("X-Response-Cached"), v.Data.QuotientFamilial.Valeur)
	}
}

// dupontHousehold is DUPONT SOPHIE's household with another quotient
// familial for June 2023.
func dupontHousehold(t *testing.T, valeur int) apiparticulier.Household {
	t.Helper()
	commune, pays := "13001", "99100"
	return apiparticulier.Household{
		ID:          "dupont-sophie-1982",
		Fournisseur: "CNAF",
		Allocataires: []apiparticulier.Member{{NomNaissance: "DUPONT", Prenoms: "SOPHIE", DateNaissance: "1982-09-03", Sexe: "F",
			CodeCommuneNaissance: &commune, CodePaysNaissance: &pays}},
		Adresse:            &apiparticulier.Adresse{Destinataire: "Madame DUPONT SOPHIE", CodePostalVille: "13006 MARSEILLE", Pays: "FRANCE"},
		QuotientsFamiliaux: []apiparticulier.QuotientFamilial{{Annee: 2023, Mois: 6, Valeur: valeur, AnneeCalcul: 2024, MoisCalcul: 12}},
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, apiparticulier.Options{})
	q := url.Values{"recipient": {recipient}, "identifiant": {"default"}}
	// The window opens with the first request and lasts a second:
	// RateLimit-Reset is the Unix time it ends, as the platform sends it.
	wantReset := strconv.FormatInt(sandboxNow.Add(time.Second).Unix(), 10)
	for i := range apiparticulier.DefaultRateLimit {
		a := b.do(call{path: "/v3/france_travail/statut/identifiant", query: q, token: apiparticulier.DefaultToken})
		if a.status != http.StatusOK {
			t.Fatalf("request %d: %d %s", i+1, a.status, a.body)
		}
		if a.header.Get("RateLimit-Limit") != "20" || a.header.Get("RateLimit-Remaining") != strconv.Itoa(19-i) || a.header.Get("RateLimit-Reset") != wantReset {
			t.Errorf("request %d: RateLimit-Limit %q Remaining %q Reset %q, want 20, %d, %s", i+1,
				a.header.Get("RateLimit-Limit"), a.header.Get("RateLimit-Remaining"), a.header.Get("RateLimit-Reset"), 19-i, wantReset)
		}
	}
	a := b.do(call{path: "/v3/france_travail/statut/identifiant", query: q, token: apiparticulier.DefaultToken})
	if a.status != http.StatusTooManyRequests || a.firstError(t).Code != "00429" || a.header.Get("Retry-After") != "1" ||
		a.header.Get("RateLimit-Remaining") != "0" || a.header.Get("RateLimit-Reset") != wantReset {
		t.Fatalf("21st request: %d %s Retry-After %q RateLimit-Remaining %q Reset %q", a.status, a.body,
			a.header.Get("Retry-After"), a.header.Get("RateLimit-Remaining"), a.header.Get("RateLimit-Reset"))
	}
	// The limit is per token.
	if a := b.do(call{path: qfPath, query: dupontSophie(), token: apiparticulier.RestrictedToken}); a.status != http.StatusOK {
		t.Errorf("another token: %d", a.status)
	}
	b.clock.Advance(time.Second)
	a = b.do(call{path: "/v3/france_travail/statut/identifiant", query: q, token: apiparticulier.DefaultToken})
	if next := strconv.FormatInt(sandboxNow.Add(2*time.Second).Unix(), 10); a.status != http.StatusOK || a.header.Get("RateLimit-Reset") != next {
		t.Errorf("next second: %d, RateLimit-Reset %q, want %s", a.status, a.header.Get("RateLimit-Reset"), next)
	}
	if st := b.srv.Stats(); st.RateLimited != 1 || st.ByStatus["429"] != 1 || st.ByStatus["200"] != 22 {
		t.Errorf("rate limited %d, by status %v; want 1, 22 200s and one 429", st.RateLimited, st.ByStatus)
	}
}

// A refused call is answered before the per-token limit, yet it carries
// the per-IP limit's headers: RateLimit-Reset is the Unix time, in the
// future, at which the minute-long window ends.
func TestRateLimitHeadersOnUnauthorized(t *testing.T) {
	t.Parallel()
	b := setup(t, apiparticulier.Options{})
	for _, tc := range []struct {
		name, path, token, code string
		status                  int
	}{
		{"no token", qfPath, "", "00101", http.StatusUnauthorized},
		{"unknown token", qfPath, "not-a-token", "00101", http.StatusUnauthorized},
		{"expired token", qfPath, apiparticulier.ExpiredToken, "00103", http.StatusUnauthorized},
		{"unknown FranceConnect token", "/v3/dss/quotient_familial/france_connect", "not-a-franceconnect-token", "00101", http.StatusUnauthorized},
		{"platform token on a FranceConnect route", "/v3/dss/prime_activite/france_connect", apiparticulier.ExpiredToken, "00101", http.StatusUnauthorized},
		{"restricted token", "/v3/dss/revenu_solidarite_active/identite", apiparticulier.RestrictedToken, "00100", http.StatusForbidden},
	} {
		now := b.clock.Now()
		a := b.do(call{path: tc.path, query: dupontSophie(), token: tc.token})
		if a.status != tc.status || a.firstError(t).Code != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, a.status, a.body, tc.status, tc.code)
			continue
		}
		if got := a.header.Get("RateLimit-Limit"); got != strconv.Itoa(apiparticulier.DefaultIPRateLimit) {
			t.Errorf("%s: RateLimit-Limit %q, want the per-IP limit %d", tc.name, got, apiparticulier.DefaultIPRateLimit)
		}
		if rem, err := strconv.Atoi(a.header.Get("RateLimit-Remaining")); err != nil || rem < 0 || rem >= apiparticulier.DefaultIPRateLimit {
			t.Errorf("%s: RateLimit-Remaining %q", tc.name, a.header.Get("RateLimit-Remaining"))
		}
		reset, err := strconv.ParseInt(a.header.Get("RateLimit-Reset"), 10, 64)
		if err != nil {
			t.Errorf("%s: RateLimit-Reset %q is not a Unix time", tc.name, a.header.Get("RateLimit-Reset"))
			continue
		}
		// The per-IP window opened with the first call, at sandboxNow.
		if at := time.Unix(reset, 0); !at.After(now) || at.After(now.Add(time.Minute)) || reset != sandboxNow.Add(time.Minute).Unix() {
			t.Errorf("%s: RateLimit-Reset %s (now %s), want the end of the minute-long window, %s", tc.name, at.UTC(), now, sandboxNow.Add(time.Minute))
		}
		b.clock.Advance(5 * time.Second)
	}
	if st := b.srv.Stats(); st.ByStatus["401"] != 5 || st.ByStatus["403"] != 1 {
		t.Errorf("by status %v, want five 401s and one 403", st.ByStatus)
	}
}

// The per-IP limit counts every call, refused tokens included, before
// authentication: over it, even a valid token gets 429.
func TestIPRateLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, apiparticulier.Options{IPRateLimit: 3})
	wantReset := strconv.FormatInt(sandboxNow.Add(time.Minute).Unix(), 10)
	for i, token := range []string{"not-a-token", apiparticulier.DefaultToken, apiparticulier.BlacklistedToken} {
		a := b.do(call{path: qfPath, query: dupontSophie(), token: token})
		if a.status == http.StatusTooManyRequests {
			t.Fatalf("call %d refused by the limit: %s", i+1, a.body)
		}
	}
	b.clock.Advance(30 * time.Second)
	a := b.do(call{path: qfPath, query: dupontSophie(), token: apiparticulier.DefaultToken})
	if a.status != http.StatusTooManyRequests || a.firstError(t).Code != "00429" ||
		a.header.Get("RateLimit-Limit") != "3" || a.header.Get("RateLimit-Remaining") != "0" || a.header.Get("RateLimit-Reset") != wantReset {
		t.Fatalf("4th call: %d %s, RateLimit-Limit %q Remaining %q Reset %q (want 3, 0, %s)", a.status, a.body,
			a.header.Get("RateLimit-Limit"), a.header.Get("RateLimit-Remaining"), a.header.Get("RateLimit-Reset"), wantReset)
	}
	if ra, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || ra <= 0 || ra > 30 {
		t.Errorf("Retry-After %q, want the 30 s left in the window at most", a.header.Get("Retry-After"))
	}
	b.clock.Advance(30 * time.Second)
	if a := b.do(call{path: qfPath, query: dupontSophie(), token: apiparticulier.DefaultToken}); a.status != http.StatusOK || a.header.Get("RateLimit-Limit") != "20" {
		t.Errorf("next minute: %d, RateLimit-Limit %q (want the per-token 20)", a.status, a.header.Get("RateLimit-Limit"))
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	b := setup(t, apiparticulier.Options{})
	rsa := "/v3/dss/revenu_solidarite_active/identite"
	for _, tc := range []struct {
		name, path, token string
		status            int
		code              string
	}{
		{"none", qfPath, "", 401, "00101"},
		{"unknown", qfPath, "not-a-token", 401, "00101"},
		{"expired", qfPath, apiparticulier.ExpiredToken, 401, "00103"},
		{"blacklisted", qfPath, apiparticulier.BlacklistedToken, 401, "00105"},
		{"restricted, allowed", qfPath, apiparticulier.RestrictedToken, 200, ""},
		{"restricted, not allowed", rsa, apiparticulier.RestrictedToken, 403, "00100"},
		{"platform token on a FranceConnect route", "/v3/dss/quotient_familial/france_connect", apiparticulier.DefaultToken, 401, "00101"},
	} {
		a := b.do(call{path: tc.path, query: dupontSophie(), token: tc.token})
		if a.status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, a.status, a.body, tc.status)
			continue
		}
		if tc.code != "" {
			if e := a.firstError(t); e.Code != tc.code || (e.Source == nil || e.Source.Parameter != "token") {
				t.Errorf("%s: %+v, want code %s about the token", tc.name, e, tc.code)
			}
		}
	}

	// A token that expires while in use.
	clk := clock.NewFake(sandboxNow)
	b2 := setup(t, apiparticulier.Options{Now: clk.Now, Tokens: []apiparticulier.Token{{Value: "short", ExpiresAt: sandboxNow.Add(time.Minute)}}})
	if a := b2.do(call{path: qfPath, query: dupontSophie(), token: "short"}); a.status != http.StatusOK {
		t.Errorf("before expiry: %d", a.status)
	}
	clk.Advance(time.Minute)
	if a := b2.do(call{path: qfPath, query: dupontSophie(), token: "short"}); a.status != http.StatusUnauthorized || a.errorCode() != "00103" {
		t.Errorf("after expiry: %d %s", a.status, a.body)
	}
}

func TestParameterErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, apiparticulier.Options{})
	with := func(q url.Values, kv ...string) url.Values {
		out := url.Values{}
		for k, v := range q {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				out.Del(kv[i])
			} else {
				out.Set(kv[i], kv[i+1])
			}
		}
		return out
	}
	base := dupontSophie()
	tooMany := with(base)
	tooMany["prenoms[]"] = []string{"A", "B", "C", "D"}
	for _, tc := range []struct {
		name     string
		query    url.Values
		code     string
		source   string
		contract bool // refused by the contract (counted as a violation)
	}{
		{"no recipient", with(base, "recipient", ""), "00203", "recipient", true},
		{"recipient with letters", with(base, "recipient", "1300252650001A"), "00210", "recipient", true},
		{"recipient failing Luhn", with(base, "recipient", "13002526500014"), "00210", "recipient", false},
		{"no first name", with(base, "prenoms[]", ""), "00366", "", true},
		{"four first names", tooMany, "00366", "", true},
		{"sex not M or F", with(base, "sexeEtatCivil", "X"), "00366", "", true},
		{"country not 5 digits", with(base, "codeCogInseePaysNaissance", "FR"), "00366", "", true},
		{"born in France, no commune", with(base, "codeCogInseeCommuneNaissance", ""), "00366", "", false},
		{"born abroad with a commune", with(base, "codeCogInseePaysNaissance", "99350"), "00366", "", false},
		{"month in the future", with(base, "annee", "2025", "mois", "1"), "00366", "mois", false},
		{"year only, in the future", with(base, "annee", "2025"), "00366", "annee", false},
		{"25 months back", with(base, "annee", "2022", "mois", "11"), "00366", "annee", false},
		{"month 13", with(base, "mois", "13"), "00366", "", true},
	} {
		before := b.srv.Stats().Violations
		a := b.do(call{path: qfPath, query: tc.query, token: apiparticulier.DefaultToken})
		if a.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s, want 422", tc.name, a.status, a.body)
			continue
		}
		e := a.firstError(t)
		gotSource := ""
		if e.Source != nil {
			gotSource = e.Source.Parameter
		}
		if e.Code != tc.code || gotSource != tc.source || e.Title != "Entité non traitable" {
			t.Errorf("%s: %s %q source %q, want %s source %q", tc.name, e.Code, e.Title, gotSource, tc.code, tc.source)
		}
		if counted := b.srv.Stats().Violations - before; counted != map[bool]int64{true: 1, false: 0}[tc.contract] {
			t.Errorf("%s: %d violations counted, want contract=%v", tc.name, counted, tc.contract)
		}
	}
}

func TestQuotientFamilialMonths(t *testing.T) {
	t.Parallel()
	b := setup(t, apiparticulier.Options{})
	month := func(q url.Values, annee, mois string) url.Values {
		out := url.Values{}
		for k, v := range q {
			out[k] = v
		}
		if annee != "" {
			out.Set("annee", annee)
		}
		if mois != "" {
			out.Set("mois", mois)
		}
		return out
	}
	roux := identityQuery("ROUX", []string{"JEANNE", "STEPHANIE"}, 1987, 6, 0, "F", "99100", "08480")
	for _, tc := range []struct {
		name         string
		query        url.Values
		status       int
		valeur       int
		annee, mois  int
		code, source string
	}{
		{"current", dupontSophie(), 200, 900, 2023, 6, "", ""},
		{"in force in March 2023", month(dupontSophie(), "2023", "3"), 200, 870, 2023, 1, "", ""},
		{"June 2023", month(dupontSophie(), "2023", "6"), 200, 900, 2023, 6, "", ""},
		{"month only, this year", month(dupontSophie(), "", "2"), 200, 900, 2023, 6, "", ""},
		{"before the first on file (CNAF)", month(dupontSophie(), "2022", "12"), 404, 0, 0, 0, "23003", ""},
		{"before the first on file (MSA)", month(roux, "2023", "4"), 404, 0, 0, 0, "10003", ""},
		{"MSA, May 2023", month(roux, "2023", "5"), 200, 150, 2023, 5, "", ""},
	} {
		a, v := b.quotient(tc.query, nil)
		if a.status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, a.status, a.body, tc.status)
			continue
		}
		if tc.status != http.StatusOK {
			if e := a.firstError(t); e.Code != tc.code || e.Meta["provider"] != map[string]string{"23003": "CNAF", "10003": "MSA"}[tc.code] {
				t.Errorf("%s: %+v, want %s", tc.name, e, tc.code)
			}
			continue
		}
		got := v.Data.QuotientFamilial
		if got.Valeur != tc.valeur || got.Annee != tc.annee || got.Mois != tc.mois {
			t.Errorf("%s: %+v, want valeur %d for %d-%d", tc.name, got, tc.valeur, tc.annee, tc.mois)
		}
	}
}

func TestIdentityMatching(t *testing.T) {
	t.Parallel()
	b := setup(t, apiparticulier.Options{})
	nominal := []string{"ALEXIS", "GÉRÔME", "JEAN-PHILIPPE"}
	for _, tc := range []struct {
		name   string
		query  url.Values
		status int
		who    string // prenoms of the first allocataire, when found
	}{
		{"sandbox case", identityQuery("LEFEBVRE", nominal, 1982, 12, 27, "F", "99100", "08480"), 200, "ALEXIS GÉRÔME JEAN-PHILIPPE"},
		{"lower case, no accents, no hyphen", identityQuery("lefebvre", []string{"alexis", "gerome", "jean philippe"}, 1982, 12, 27, "F", "99100", "08480"), 200, "ALEXIS GÉRÔME JEAN-PHILIPPE"},
		{"first two names, year and month", identityQuery("Lefèbvre", nominal[:2], 1982, 12, 0, "F", "99100", "08480"), 200, "ALEXIS GÉRÔME JEAN-PHILIPPE"},
		{"the second name first", identityQuery("LEFEBVRE", []string{"GÉRÔME"}, 1982, 12, 27, "F", "99100", "08480"), 404, ""},
		{"other day", identityQuery("LEFEBVRE", nominal, 1982, 12, 26, "F", "99100", "08480"), 404, ""},
		{"other commune", identityQuery("LEFEBVRE", nominal, 1982, 12, 27, "F", "99100", "75056"), 404, ""},
		{"other sex", identityQuery("LEFEBVRE", nominal, 1982, 12, 27, "M", "99100", "08480"), 404, ""},
		{"no birth date", identityQuery("LEFEBVRE", nominal, 0, 0, 0, "F", "99100", "08480"), 404, ""},
		{"the spouse", identityQuery("ROUX", []string{"LOIC"}, 1979, 5, 19, "M", "99100", "08480"), 200, "JEANNE STEPHANIE"},
		{"benefits only, no quotient familial", identityQuery("MARTIN", []string{"SAMUEL"}, 1980, 9, 20, "M", "99100", "08480"), 404, ""},
	} {
		a, v := b.quotient(tc.query, nil)
		if a.status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, a.status, a.body, tc.status)
			continue
		}
		if tc.who != "" && v.Data.Allocataires[0].Prenoms != tc.who {
			t.Errorf("%s: found %s, want %s", tc.name, v.Data.Allocataires[0].Prenoms, tc.who)
		}
		if tc.status == http.StatusNotFound {
			want := "37003"
			if tc.name == "benefits only, no quotient familial" {
				want = "23003"
			}
			if e := a.firstError(t); e.Code != want {
				t.Errorf("%s: code %s, want %s", tc.name, e.Code, want)
			}
		}
	}

	// The commune of birth by name, département and year.
	byName := identityQuery("DUPONT", []string{"SOPHIE"}, 1982, 9, 3, "F", "99100", "")
	byName.Set("nomCommuneNaissance", "aix en provence")
	byName.Set("codeCogInseeDepartementNaissance", "13")
	if a, v := b.quotient(byName, nil); a.status != http.StatusOK || v.Data.QuotientFamilial.Valeur != 900 {
		t.Errorf("commune by name: %d %s", a.status, a.body)
	}
	byName.Set("nomCommuneNaissance", "Marseille")
	if a, _ := b.quotient(byName, nil); a.status != http.StatusNotFound {
		t.Errorf("another commune by name: %d, want 404", a.status)
	}
}

func TestBenefits(t *testing.T) {
	t.Parallel()
	b := setup(t, apiparticulier.Options{})
	for _, tc := range []struct {
		benefit string
		query   url.Values
		status  int
		data    string
	}{
		{"revenu_solidarite_active", dupontSophie(), 200, `{"est_beneficiaire":false,"avec_majoration":null,"date_debut_droit":null}`},
		{"prime_activite", dupontSophie(), 200, `{"est_beneficiaire":true,"avec_majoration":true,"date_debut_droit":"2021-04-01"}`},
		{"allocation_adulte_handicape", dupontSophie(), 200, `{"est_beneficiaire":false,"date_debut_droit":null}`},
		{"allocation_soutien_familial", dupontSophie(), 200, `{"est_beneficiaire":true,"date_debut_droit":"2019-05-01"}`},
		{"allocation_enfant_handicape", identityQuery("GIRAUD", []string{"ANNE"}, 1988, 12, 1, "F", "99100", "13002"), 200, `{"status":"allocataire","date_debut_droit":"2020-09-01"}`},
		{"allocation_enfant_handicape", identityQuery("MARTIN", []string{"SAMUEL"}, 1980, 9, 20, "M", "99100", "08480"), 200, `{"status":"non_beneficiaire","date_debut_droit":null}`},
		{"complementaire_sante_solidaire", dupontSophie(), 200, `{"est_beneficiaire":true,"avec_participation":false,"date_debut_droit":"2023-01-01"}`},
		{"complementaire_sante_solidaire", identityQuery("NOBODY", []string{"X"}, 1990, 1, 1, "M", "99100", "75056"), 404, `40003`},
		{"participation_familiale_eaje", identityQuery("LEFEBVRE", []string{"ALEXIS"}, 1982, 12, 27, "F", "99100", "08480"), 404, `37003`},
	} {
		a := b.do(call{path: "/v3/dss/" + tc.benefit + "/identite", query: tc.query, token: apiparticulier.DefaultToken})
		if a.status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.benefit, a.status, a.body, tc.status)
			continue
		}
		if tc.status != http.StatusOK {
			if e := a.firstError(t); e.Code != tc.data {
				t.Errorf("%s: %s, want %s", tc.benefit, e.Code, tc.data)
			}
			continue
		}
		var env struct {
			Data  any            `json:"data"`
			Links map[string]any `json:"links"`
			Meta  map[string]any `json:"meta"`
		}
		a.decode(t, &env)
		diffs, err := jsonDiff([]byte(tc.data), mustJSON(t, env.Data), true)
		if err != nil || len(diffs) > 0 || env.Links == nil || env.Meta == nil {
			t.Errorf("%s: %s, want data %s: %v %v", tc.benefit, a.body, tc.data, diffs, err)
		}
	}

	// The crèche fee figures carry the commune of birth.
	a := b.do(call{path: "/v3/dss/participation_familiale_eaje/identite", query: dupontSophie(), token: apiparticulier.DefaultToken})
	var eaje struct {
		Data struct {
			Allocataires []map[string]any `json:"allocataires"`
			Parametres   struct {
				Enfants int `json:"nombre_enfants_a_charge"`
			} `json:"parametres_calcul_participation_familiale"`
		} `json:"data"`
	}
	a.decode(t, &eaje)
	if a.status != http.StatusOK || eaje.Data.Allocataires[0]["code_cog_insee_commune_naissance"] != "13001" || eaje.Data.Parametres.Enfants != 4 {
		t.Errorf("EAJE: %d %s", a.status, a.body)
	}
}

func TestFranceConnect(t *testing.T) {
	t.Parallel()
	b := setup(t, apiparticulier.Options{})
	fcQuery := url.Values{"recipient": {recipient}}
	a := b.do(call{path: "/v3/dss/quotient_familial/france_connect", query: fcQuery, token: apiparticulier.DefaultFranceConnectToken})
	var v qf
	a.decode(t, &v)
	if a.status != http.StatusOK || v.Data.Allocataires[0].NomNaissance != "CNAF" || v.Data.QuotientFamilial.Valeur != 2550 {
		t.Fatalf("all_cnav: %d %s", a.status, a.body)
	}
	if a := b.do(call{path: "/v3/dss/revenu_solidarite_active/france_connect", query: fcQuery, token: "cnaf_qfv2"}); a.status != http.StatusOK {
		t.Errorf("RSA through FranceConnect: %d %s", a.status, a.body)
	}
	for token, code := range map[string]string{"fc_inconnu": "37003", "not-a-franceconnect-token": "00101"} {
		a := b.do(call{path: "/v3/dss/quotient_familial/france_connect", query: fcQuery, token: token})
		if a.errorCode() != code {
			t.Errorf("%s: %d %s, want %s", token, a.status, a.body, code)
		}
	}

	// The access token is resolved when the call is authenticated, before
	// its parameters are checked.
	if a := b.do(call{path: "/v3/dss/quotient_familial/france_connect", token: "not-a-franceconnect-token"}); a.status != http.StatusUnauthorized || a.errorCode() != "00101" {
		t.Errorf("unknown token without recipient: %d %s, want 401 00101", a.status, a.body)
	}

	// A FranceConnect provider of the test's own.
	var asked atomic.Value
	b2 := setup(t, apiparticulier.Options{FranceConnect: func(_ context.Context, token string) (apiparticulier.Citizen, bool) {
		asked.Store(token)
		return apiparticulier.Citizen{GivenNames: []string{"Sophie"}, FamilyName: "Dupont", Birthdate: "1982-09-03", Gender: "female", Birthplace: "13001", Birthcountry: "99100"}, token == "good"
	}})
	a = b2.do(call{path: "/v3/dss/prime_activite/france_connect", query: fcQuery, token: "good"})
	if a.status != http.StatusOK || asked.Load() != "good" {
		t.Errorf("own provider: %d %s (asked %v)", a.status, a.body, asked.Load())
	}
	if a := b2.do(call{path: "/v3/dss/prime_activite/france_connect", query: fcQuery, token: "bad"}); a.status != http.StatusUnauthorized {
		t.Errorf("own provider, refused token: %d", a.status)
	}
}

func TestFranceTravail(t *testing.T) {
	t.Parallel()
	b := setup(t, apiparticulier.Options{})
	for _, tc := range []struct {
		op, identifiant string
		status          int
		code            string
	}{
		{"statut", "123461A", 200, ""},
		{"statut", "inconnu", 404, "24003"},
		{"statut", "", 422, "00380"},
		{"indemnites", "123456A", 200, ""},
		{"indemnites", "123457A", 404, "24003"},
		{"indemnites", "erreur_fournisseur", 502, "24999"},
		{"indemnites", "indisponible", 504, "24001"},
		{"statut", "hors_delai", 504, "24002"},
	} {
		q := url.Values{"recipient": {recipient}, "identifiant": {tc.identifiant}}
		a := b.do(call{path: "/v3/france_travail/" + tc.op + "/identifiant", query: q, token: apiparticulier.DefaultToken})
		if a.status != tc.status || a.errorCode() != tc.code {
			t.Errorf("%s %q: %d %s, want %d %s", tc.op, tc.identifiant, a.status, a.body, tc.status, tc.code)
		}
		if tc.code != "" && tc.code != "00380" {
			if e := a.firstError(t); e.Meta["provider"] != "France Travail" {
				t.Errorf("%s %q: provider %v", tc.op, tc.identifiant, e.Meta["provider"])
			}
		}
	}
}

// The sandbox's trigger identities fail every CAF/MSA route the same way.
func TestTriggers(t *testing.T) {
	t.Parallel()
	b := setup(t, apiparticulier.Options{})
	triggers := []struct {
		nom, prenom string
		status      int
		code        string
	}{
		{"DESFOUIN", "René", 429, "00429"},
		{"DELANOUE", "Jean-Marie", 502, "37999"},
		{"SITUDI", "Clément", 504, "37002"},
		{"PANNE", "CNAV", 504, "37001"},
		{"SATURATION", "CNAV", 504, "37008"},
	}
	for _, benefit := range []string{"quotient_familial", "participation_familiale_eaje", "prime_activite", "revenu_solidarite_active",
		"allocation_adulte_handicape", "allocation_enfant_handicape", "allocation_soutien_familial", "complementaire_sante_solidaire"} {
		for _, tr := range triggers {
			q := identityQuery(tr.nom, []string{tr.prenom}, 2002, 12, 5, "M", "99100", "08480")
			a := b.do(call{path: "/v3/dss/" + benefit + "/identite", query: q, token: apiparticulier.DefaultToken})
			if a.status != tr.status || a.errorCode() != tr.code {
				t.Errorf("%s %s: %d %s, want %d %s", benefit, tr.nom, a.status, a.body, tr.status, tr.code)
			}
			if tr.status == http.StatusTooManyRequests && a.header.Get("Retry-After") == "" {
				t.Errorf("%s %s: 429 without Retry-After", benefit, tr.nom)
			}
		}
		b.clock.Advance(time.Second) // stay under the rate limit
	}
}

// The runtime's own answers come out in the platform's format.
func TestRuntimeErrorsInPlatformFormat(t *testing.T) {
	t.Parallel()
	b := setup(t, apiparticulier.Options{})
	err := b.srv.SetFaults(platform.Faults{Rules: []platform.Rule{
		{Operations: []string{"quotient_familial.identite"}, Status: http.StatusServiceUnavailable, RetryAfter: "30"},
		{Operations: []string{"france_travail.statut"}, Status: http.StatusBadGateway},
		{Operations: []string{"revenu_solidarite_active.identite"}, Status: http.StatusGatewayTimeout},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path   string
		query  url.Values
		status int
		code   string
	}{
		{qfPath, dupontSophie(), 503, "37001"},
		{"/v3/france_travail/statut/identifiant", url.Values{"recipient": {recipient}, "identifiant": {"default"}}, 502, "24999"},
		{"/v3/dss/revenu_solidarite_active/identite", dupontSophie(), 504, "37002"},
		{"/v3/dss/unknown/identite", nil, 404, "00404"},
	} {
		a := b.do(call{path: tc.path, query: tc.query, token: apiparticulier.DefaultToken})
		if a.status != tc.status || a.firstError(t).Code != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.path, a.status, a.body, tc.status, tc.code)
		}
		if tc.status == http.StatusServiceUnavailable && a.header.Get("Retry-After") != "30" {
			t.Errorf("%s: Retry-After %q", tc.path, a.header.Get("Retry-After"))
		}
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, b.ts.URL+qfPath, nil)
	rsp, err := b.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rsp.Body.Close()
	if rsp.StatusCode != http.StatusMethodNotAllowed || rsp.Header.Get("Allow") != http.MethodGet {
		t.Errorf("POST: %d Allow %q", rsp.StatusCode, rsp.Header.Get("Allow"))
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	bad := dupontHousehold(t, 1)
	bad.Fournisseur = "CAF"
	for name, o := range map[string]apiparticulier.Options{
		"empty token":      {Tokens: []apiparticulier.Token{{}}},
		"duplicate token":  {Tokens: []apiparticulier.Token{{Value: "a"}, {Value: "a"}}},
		"bad household":    {Households: []apiparticulier.Household{bad}},
		"negative history": {History: -1},
	} {
		if err := o.WithDefaults().Validate(); err == nil {
			t.Errorf("%s: Validate accepted it", name)
		}
	}
	if err := (apiparticulier.Options{}).WithDefaults().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	b := setup(t, apiparticulier.Options{})
	if err := b.srv.SetHousehold(bad); err == nil {
		t.Error("SetHousehold accepted an invalid household")
	}
}

// Lookups, cache writes and household updates run concurrently.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	b := setup(t, apiparticulier.Options{RateLimit: -1})
	var wg sync.WaitGroup
	errs := make(chan string, 8*10*2)
	for i := range 8 {
		wg.Go(func() {
			for j := range 10 {
				h := http.Header{}
				if j%2 == 0 {
					h.Set("Cache-Control", "no-cache")
				}
				req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, b.ts.URL+qfPath+"?"+dupontSophie().Encode(), nil)
				if err != nil {
					errs <- err.Error()
					return
				}
				req.Header = h
				req.Header.Set("Authorization", "Bearer "+apiparticulier.DefaultToken)
				rsp, err := b.ts.Client().Do(req)
				if err != nil {
					errs <- err.Error()
					return
				}
				rsp.Body.Close()
				if rsp.StatusCode != http.StatusOK {
					errs <- "status " + strconv.Itoa(rsp.StatusCode)
				}
				if i == 0 {
					if err := b.srv.SetHousehold(dupontHousehold(t, 1000+j)); err != nil {
						errs <- err.Error()
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
