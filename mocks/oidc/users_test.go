package oidc_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/relais-dev/relais/mocks/oidc"
)

func luhn(s string) bool {
	sum := 0
	for i := range len(s) {
		d := int(s[len(s)-1-i] - '0')
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// TestFixtures checks the test users against the platforms' rules
// (PLATFORMS.md §1-3).
func TestFixtures(t *testing.T) {
	t.Parallel()
	cog := regexp.MustCompile(`^[0-9][0-9AB][0-9]{3}$`)
	date := regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	abroad := 0
	for _, u := range oidc.Citizens() {
		if len(u.GivenNames) == 0 || u.FamilyName == "" || !date.MatchString(u.Birthdate) || !slices.Contains([]string{"female", "male"}, u.Gender) {
			t.Errorf("%s: incomplete identity pivot %+v", u.ID, u)
		}
		if !cog.MatchString(u.Birthcountry) {
			t.Errorf("%s: birthcountry %q is not a COG code", u.ID, u.Birthcountry)
		}
		switch {
		case u.Birthcountry == "99100" && !cog.MatchString(u.Birthplace):
			t.Errorf("%s: born in France without a COG birthplace (%q)", u.ID, u.Birthplace)
		case u.Birthcountry != "99100" && u.Birthplace != "":
			abroad++
			t.Errorf("%s: born abroad with a birthplace %q", u.ID, u.Birthplace)
		case u.Birthcountry != "99100":
			abroad++
		}
	}
	if abroad == 0 {
		t.Errorf("no citizen born abroad")
	}
	if !slices.ContainsFunc(oidc.Citizens(), func(u oidc.User) bool { return strings.Contains(u.GivenNames[0], "-") && len(u.GivenNames) > 1 }) {
		t.Errorf("no citizen with a compound first given name and several given names")
	}
	for _, u := range oidc.Professionals() {
		if len(u.SIRET) != 14 || !luhn(u.SIRET) {
			t.Errorf("%s: SIRET %q is not 14 Luhn-valid digits", u.ID, u.SIRET)
		}
		if u.Subject == "" || u.UsualName == "" || u.Email == "" || u.UID == "" || u.IdpID == "" {
			t.Errorf("%s: a claim ProConnect always sends is missing: %+v", u.ID, u)
		}
	}
	for _, u := range oidc.HealthProfessionals() {
		if u.SubjectNameID == "" || len(u.SubjectRoles) == 0 || u.SecteurActivite == "" || len(u.Exercices) == 0 {
			t.Errorf("%s: incomplete Pro Santé Connect identity", u.ID)
		}
		for _, e := range u.Exercices {
			for _, a := range e.Activities {
				if !luhn(a.NumeroSiretSite) || len(a.NumeroFinessSite) != 9 {
					t.Errorf("%s: activity with SIRET %q, FINESS %q", u.ID, a.NumeroSiretSite, a.NumeroFinessSite)
				}
			}
		}
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	t.Parallel()
	ok := oidc.Client{ID: "c", Secret: "s", RedirectURIs: []string{redirectURI}}
	cases := []struct {
		name    string
		profile oidc.Profile
		opts    oidc.Options
		want    string
	}{
		{"relative issuer", oidc.FranceConnect(), oidc.Options{Issuer: "idp.example/api/v2", Clients: []oidc.Client{ok}}, "Options.Issuer"},
		{"issuer path", oidc.FranceConnect(), oidc.Options{Issuer: "http://x/api/v1", Clients: []oidc.Client{ok}}, "issuer path"},
		{"no client", oidc.FranceConnect(), oidc.Options{Issuer: "http://x/api/v2"}, "Options.Clients"},
		{"no secret", oidc.FranceConnect(), oidc.Options{Issuer: "http://x/api/v2", Clients: []oidc.Client{{ID: "c", RedirectURIs: []string{redirectURI}}}}, "Secret"},
		{"fc+ without key", oidc.FranceConnectPlus(), oidc.Options{Issuer: "http://x/api/v2", Clients: []oidc.Client{ok}}, "EncryptionKey"},
		{"colon subject", oidc.ProConnect(), oidc.Options{Issuer: "http://x/api/v2", Clients: []oidc.Client{ok},
			Users: []oidc.User{{ID: "u", Subject: "a:b"}}}, "colon"},
		{"unknown alg", oidc.ProSanteConnect(), oidc.Options{Issuer: "http://x/auth/realms/esante-wallet", Clients: []oidc.Client{ok}, SigningAlg: "PS512"}, "PS512"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := oidc.New(tc.profile, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want an error about %s", err, tc.want)
			}
		})
	}
}
