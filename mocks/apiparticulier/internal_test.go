package apiparticulier

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestPrenomsMatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		asked, member string
		want          bool
	}{
		{"JEAN", "JEAN PIERRE", true},
		{"JEAN PIERRE", "JEAN PIERRE", true},
		{"JEAN PI", "JEAN PIERRE", false},
		{"PIERRE", "JEAN PIERRE", false},
		{"", "JEAN", false},
		{"JEAN PIERRE PAUL", "JEAN PIERRE", false},
	} {
		if got := prenomsMatch(tc.asked, tc.member); got != tc.want {
			t.Errorf("prenomsMatch(%q, %q) = %v", tc.asked, tc.member, got)
		}
	}
}

func TestValidSIRET(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"13002526500013": true, // DINUM, the platform's example
		"21310555400017": true,
		"13002526500014": false,
		"1300252650001":  false,
		"1300252650001A": false,
		"00000000000000": true,
	} {
		if got := validSIRET(s); got != want {
			t.Errorf("validSIRET(%q) = %v", s, got)
		}
	}
}

func TestCitizenIdentity(t *testing.T) {
	t.Parallel()
	c := Citizen{GivenNames: []string{"Angela", "Claire"}, FamilyName: "DUBOIS", PreferredUsername: "DURAND", Birthdate: "1962-08-00", Gender: "female", Birthplace: "75107", Birthcountry: "99100"}
	id := c.Identity()
	if id.NomNaissance != "DUBOIS" || id.NomUsage != "DURAND" || id.Sexe != "F" || id.AnneeNaissance != 1962 || id.MoisNaissance != 8 || id.JourNaissance != 0 ||
		id.CodeCommuneNaissance != "75107" || id.CodePaysNaissance != "99100" || strings.Join(id.Prenoms, " ") != "Angela Claire" {
		t.Errorf("Identity() = %+v", id)
	}
	if id := (Citizen{Birthdate: "not a date"}).Identity(); id.AnneeNaissance != 0 {
		t.Errorf("a bad birthdate gave year %d", id.AnneeNaissance)
	}
}

func TestCacheEviction(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newResponseCache(time.Hour, 2)
	c.put("a", []byte("A"), now)
	c.put("b", []byte("B"), now.Add(time.Minute))
	c.put("c", []byte("C"), now.Add(2*time.Minute)) // evicts a, the oldest
	if _, _, ok := c.get("a", now.Add(3*time.Minute)); ok {
		t.Error("a survived eviction")
	}
	if body, left, ok := c.get("b", now.Add(3*time.Minute)); !ok || string(body) != "B" || left != 58*time.Minute {
		t.Errorf("b: %q %s %v", body, left, ok)
	}
	if _, _, ok := c.get("c", now.Add(2*time.Minute+time.Hour)); ok {
		t.Error("c outlived its TTL")
	}
}

// The embedded fixtures load and every sandbox case names a household.
func TestFixtures(t *testing.T) {
	t.Parallel()
	f, err := loadFixtures()
	if err != nil {
		t.Fatal(err)
	}
	if len(f.households) < 29 || len(f.queries) < 37 || len(f.jobSeekers) < 8 || len(f.citizens) < 14 {
		t.Errorf("%d households, %d sandbox cases, %d job seekers, %d citizens", len(f.households), len(f.queries), len(f.jobSeekers), len(f.citizens))
	}
	d := newDataset(f.households, f.queries)
	for _, q := range f.queries {
		if got := d.find(q.Operation, q.Params.Identity, communes()); got == nil || got.ID != q.Household {
			t.Errorf("case %s/%s finds %v, want %s", q.Operation, q.Case, got, q.Household)
		}
	}
	for token, c := range f.citizens {
		if c.FamilyName == "" || c.Birthcountry == "" {
			t.Errorf("citizen %s lacks a name or a country", token)
		}
	}
}

// FuzzIdentityFromQuery: any query string is parsed without panicking, and
// an accepted identity has a stable key and passes its own checks.
func FuzzIdentityFromQuery(f *testing.F) {
	f.Add("nomNaissance=DUPONT&prenoms[]=SOPHIE&anneeDateNaissance=1982&sexeEtatCivil=F&codeCogInseePaysNaissance=99100&codeCogInseeCommuneNaissance=13001")
	f.Add("nomNaissance=X&prenoms[]=&sexeEtatCivil=M&codeCogInseePaysNaissance=99350&moisDateNaissance=13")
	f.Add("nomCommuneNaissance=Marseille&codeCogInseeDepartementNaissance=13&anneeDateNaissance=-1")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		id, err := identityFromQuery(q)
		if err != nil {
			return
		}
		if id.check() != nil || id.key() != id.key() {
			t.Fatalf("accepted %+v but it does not pass its own checks", id)
		}
		_ = newDataset(nil, nil).find("quotient_familial.identite", id, communes())
	})
}

// FuzzCitizenBirthdate: FranceConnect birthdates of any shape never panic
// and give a month and day in range.
func FuzzCitizenBirthdate(f *testing.F) {
	for _, s := range []string{"1962-08-24", "1962-00-00", "", "x", "2002-13-01", "+123-01-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id := Citizen{Birthdate: s}.Identity()
		if id.MoisNaissance < 0 || id.MoisNaissance > 12 || id.JourNaissance < 0 || id.JourNaissance > 31 || id.AnneeNaissance < 0 {
			t.Fatalf("birthdate %q gave %d-%d-%d", s, id.AnneeNaissance, id.MoisNaissance, id.JourNaissance)
		}
	})
}

// BenchmarkFind is the lookup of an identity no sandbox case lists: the
// generic match over every allocataire.
func BenchmarkFind(b *testing.B) {
	f, err := loadFixtures()
	if err != nil {
		b.Fatal(err)
	}
	d := newDataset(f.households, f.queries)
	id := Identity{NomNaissance: "Dupont", Prenoms: []string{"Sophie"}, AnneeNaissance: 1982, MoisNaissance: 9, Sexe: "F", CodePaysNaissance: "99100", CodeCommuneNaissance: "13001"}
	c := communes()
	b.ReportAllocs()
	for b.Loop() {
		if d.find("prime_activite.identite", id, c) == nil {
			b.Fatal("not found")
		}
	}
}
