package mapping_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/relais-dev/relais/mapping"
)

func TestFoldName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Gérôme":                      "GEROME",
		"  jean--philippe  ":          "JEAN PHILIPPE",
		"D'ARTAGNAN":                  "D ARTAGNAN",
		"d’Artagnan":                  "D ARTAGNAN",
		"N'Diaye":                     "N DIAYE",
		"Lætitia Œdipe":               "LAETITIA OEDIPE",
		"FRANÇOIS":                    "FRANCOIS",
		"Émile\tZola":                 "EMILE ZOLA",
		"Ñúñez":                       "NUNEZ",
		"Łukasz Øster Straße Đorđe":   "LUKASZ OSTER STRASSE DORDE",
		"Zoé-Marie  de la Fontaine":   "ZOE MARIE DE LA FONTAINE",
		"E\u0301mile":                 "EMILE", // already decomposed
		"Jean–Pierre":                 "JEAN PIERRE",
		"St. Martin (dit « Tintin »)": "ST MARTIN DIT TINTIN",
		"":                            "",
		"---":                         "",
		"TROIS-DUPRE":                 "TROIS DUPRE",
		"ALEXIS GÉRÔME JEAN-PHILIPPE": "ALEXIS GEROME JEAN PHILIPPE",
		"\u00a0x\u2003y":              "X Y",
	} {
		if got := mapping.FoldName(in); got != want {
			t.Errorf("FoldName(%q) = %q, want %q", in, got, want)
		}
	}
}

// person builds an identity; given names are separated by "|".
func person(birthName, usedName, givenNames string, sex mapping.Sex, birthDate mapping.PartialDate, commune, country string) mapping.Person {
	p := mapping.Person{BirthFamilyName: birthName, UsedName: usedName, Sex: sex, BirthDate: birthDate, BirthPlaceCOG: commune, BirthCountryCOG: country}
	if givenNames != "" {
		p.GivenNames = strings.Split(givenNames, "|")
	}
	return p
}

// TestMatchIdentitySandbox compares the identities of the API Particulier
// sandbox cases (mocks/apiparticulier/fixtures/sandbox.json) with the
// allocataire their household returns (households.json), as the connector
// maps them: the platform's prenoms split at spaces, hyphens kept.
func TestMatchIdentitySandbox(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sandboxCase       string
		asked, returned   mapping.Person
		status            mapping.MatchStatus
		mismatched        []string
		uncheckedContains []string
	}{
		{
			sandboxCase: "200-famille-4_enfants",
			asked:       person("DUPONT", "", "SOPHIE", "F", "1982-09-03", "13001", "99100"),
			returned:    person("DUPONT", "", "SOPHIE", "F", "1982-09-03", "13001", "99100"),
			status:      mapping.MatchStatusMatch,
		},
		{
			sandboxCase: "200-couple-2_enfants-qf_msa_150_mai23: year and month asked, both given names",
			asked:       person("ROUX", "", "JEANNE|STEPHANIE", "F", "1987-06", "08480", "99100"),
			returned:    person("ROUX", "", "JEANNE|STEPHANIE", "F", "1987-06-27", "08480", "99100"),
			status:      mapping.MatchStatusMatch,
		},
		{
			sandboxCase: "200-seul-sans_enfant-qf_caf_2550: year and month asked",
			asked:       person("LEFEBVRE", "", "ALEXIS", "F", "1982-12", "08480", "99100"),
			returned:    person("LEFEBVRE", "", "ALEXIS", "F", "1982-12-27", "08480", "99100"),
			status:      mapping.MatchStatusMatch,
		},
		{
			sandboxCase: "200-identite-cas-nominal-peu-de-donnee-naissance: year only, accents",
			asked:       person("LEFEBVRE", "", "ALEXIS|GÉRÔME|JEAN-PHILIPPE", "F", "1982", "08480", "99100"),
			returned:    person("LEFEBVRE", "", "ALEXIS|GÉRÔME|JEAN-PHILIPPE", "F", "1982-12-27", "08480", "99100"),
			status:      mapping.MatchStatusMatch,
		},
		{
			sandboxCase: "200-identite-cas-nominal-peu-de-donnee-prenom: the first given name asked",
			asked:       person("LEFEBVRE", "", "ALEXIS", "F", "1982-12-27", "08480", "99100"),
			returned:    person("LEFEBVRE", "", "ALEXIS|GÉRÔME|JEAN-PHILIPPE", "F", "1982-12-27", "08480", "99100"),
			status:      mapping.MatchStatusMatch,
		},
		{
			sandboxCase: "200-seul-1_enfant-qf_caf_650: first given name of three, year and month",
			asked:       person("BERNARD", "", "ELODIE", "F", "1990-03", "08480", "99100"),
			returned:    person("BERNARD", "", "ELODIE|JUDITH|GERTRUDE", "F", "1990-03-18", "08480", "99100"),
			status:      mapping.MatchStatusMatch,
		},
		{
			sandboxCase: "200-identite-cas-limite-erreur-phonetique: the platform matches phonetically, we flag",
			asked:       person("LEFEBVRE", "", "ALEXI|GEROME|JEN-PHILIPE", "F", "1982-12-27", "08480", "99100"),
			returned:    person("LEFEBVRE", "", "ALEXIS|GÉRÔME|JEAN-PHILIPPE", "F", "1982-12-27", "08480", "99100"),
			status:      mapping.MatchStatusMismatch,
			mismatched:  []string{"given_names"},
		},
		{
			sandboxCase: "200-identite-cas-limite-faute-de-frappe: a typo",
			asked:       person("LEFEBVRE", "", "ALEIXS|GRÉÔME|JEAN-PHILIPPE", "F", "1982-12-27", "08480", "99100"),
			returned:    person("LEFEBVRE", "", "ALEXIS|GÉRÔME|JEAN-PHILIPPE", "F", "1982-12-27", "08480", "99100"),
			status:      mapping.MatchStatusMismatch,
			mismatched:  []string{"given_names"},
		},
		{
			sandboxCase: "200-couple-2_enfants-qf_msa_150_sept2024: another year of birth, compound list",
			asked:       person("Martin", "", "Pierre", "M", "1987-06-27", "51108", "99100"),
			returned:    person("MARTIN", "", "PIERRE|ALEXIS|FRANÇOIS", "M", "1978-06-27", "", ""),
			status:      mapping.MatchStatusMismatch,
			mismatched:  []string{"birth_date"},
			// The platform gives no place of birth for this allocataire.
			uncheckedContains: []string{"birth_place_cog", "birth_country_cog"},
		},
		{
			sandboxCase: "200-etranger-celibataire-2_enfants-qf_cnaf_300_sept2024: born abroad, another name",
			asked:       person("SIMPSON", "", "Marge", "F", "1980-11-15", "", "99404"),
			returned:    person("BROWN", "", "Marge", "F", "1980-11-15", "", ""),
			status:      mapping.MatchStatusMismatch,
			mismatched:  []string{"birth_family_name"},
		},
		{
			sandboxCase: "200-identite-cas-etranger: born abroad, the sex differs",
			asked:       person("FAKIR", "", "EYMEN|MOHAMED", "M", "1992-11-14", "", "99350"),
			returned:    person("FAKIR", "", "EYMEN|MOHAMED", "F", "1992-11-14", "", "99350"),
			status:      mapping.MatchStatusMismatch,
			mismatched:  []string{"sex"},
		},
		{
			sandboxCase: "france_connect_200_cnaf_2_parents_0_enfant: compound given name, used name returned",
			asked:       person("HUCHE", "", "Anne-Laure", "F", "1945-09-30", "31555", "99100"),
			returned:    person("HUCHE", "MERCIER", "ANNE-LAURE", "F", "1945-09-30", "31555", "99100"),
			status:      mapping.MatchStatusMatch,
		},
		{
			sandboxCase: "france_connect_200_cnaf_2_parents_0_enfant: the used name returned as the birth name",
			asked:       person("HUCHE", "MERCIER", "Anne-Laure", "F", "1945-09-30", "31555", "99100"),
			returned:    person("MERCIER", "", "ANNE-LAURE", "F", "1945-09-30", "31555", "99100"),
			status:      mapping.MatchStatusMatch,
		},
		{
			sandboxCase: "france_connect_200_cnaf_2_parents_2_mineurs_1_majeur: hyphenated family name, case",
			asked:       person("TROIS-DUPRE", "", "Melissandre|Juliette", "F", "1981-07-27", "13012", "99100"),
			returned:    person("TROIS DUPRÉ", "DUBOIS", "MELISSANDRE|JULIETTE", "F", "1981-07-27", "13012", "99100"),
			status:      mapping.MatchStatusMatch,
		},
		{
			sandboxCase: "200_beneficiaire: used name asked, two given names",
			asked:       person("MARTIN", "DUPONT", "PIERRE|RICHARD", "M", "1987-12-01", "08480", "99100"),
			returned:    person("MARTIN", "DUPONT", "PIERRE|RICHARD", "M", "1987-12-01", "08480", "99100"),
			status:      mapping.MatchStatusMatch,
		},
		{
			sandboxCase: "fake_france_connect_cnaf_2: the sandbox answers with another person",
			asked:       person("Delatour", "Delamouette", "Thomas", "M", "1994-04-16", "75111", "99100"),
			returned:    person("CNAF", "MARTIN", "GEORGES", "M", "2002-01-01", "75002", "99100"),
			status:      mapping.MatchStatusMismatch,
			mismatched:  []string{"birth_family_name", "given_names", "birth_date", "birth_place_cog"},
		},
		{
			sandboxCase: "200-giraud-anne-3_enfants: another commune of birth",
			asked:       person("GIRAUD", "", "ANNE", "F", "1988-12-01", "13002", "99100"),
			returned:    person("GIRAUD", "", "ANNE", "F", "1988-12-01", "13055", "99100"),
			status:      mapping.MatchStatusMismatch,
			mismatched:  []string{"birth_place_cog"},
		},
		{
			sandboxCase: "born in France asked, born abroad returned (country left empty means France)",
			asked:       person("DUPONT", "", "SOPHIE", "F", "1982-09-03", "13001", ""),
			returned:    person("DUPONT", "", "SOPHIE", "F", "1982-09-03", "", "99350"),
			status:      mapping.MatchStatusMismatch,
			mismatched:  []string{"birth_country_cog"},
			// Only one side has a commune.
			uncheckedContains: []string{"birth_place_cog"},
		},
	} {
		t.Run(tc.sandboxCase, func(t *testing.T) {
			t.Parallel()
			got := mapping.MatchIdentity(&tc.asked, &tc.returned)
			if got.Status != tc.status || !slices.Equal(got.Mismatched, tc.mismatched) {
				t.Errorf("MatchIdentity = %+v, want status %s, mismatched %v", got, tc.status, tc.mismatched)
			}
			for _, f := range tc.uncheckedContains {
				if !slices.Contains(got.Unchecked, f) {
					t.Errorf("MatchIdentity = %+v, want %s unchecked", got, f)
				}
			}
			if back := mapping.MatchIdentity(&tc.returned, &tc.asked); !reflect.DeepEqual(back, got) {
				t.Errorf("not symmetric: %+v one way, %+v the other", got, back)
			}
		})
	}
}

// TestMatchIdentityRules holds each rule, on one field at a time.
func TestMatchIdentityRules(t *testing.T) {
	t.Parallel()
	base := person("NDIAYE", "", "Marie-Anne|Louise", "F", "1984-09-03", "75056", "")
	for _, tc := range []struct {
		name      string
		edit      func(p *mapping.Person)
		status    mapping.MatchStatus
		mismatch  []string
		unchecked []string
	}{
		{"identical", func(*mapping.Person) {}, mapping.MatchStatusMatch, nil, nil},
		{"apostrophe in the family name", func(p *mapping.Person) { p.BirthFamilyName = "N'Diaye" }, mapping.MatchStatusMatch, nil, nil},
		{"space in the family name", func(p *mapping.Person) { p.BirthFamilyName = "n  diaye" }, mapping.MatchStatusMatch, nil, nil},
		{"typographic apostrophe and accent", func(p *mapping.Person) { p.BirthFamilyName = "N’Diayé" }, mapping.MatchStatusMatch, nil, nil},
		{"another family name", func(p *mapping.Person) { p.BirthFamilyName = "DIALLO" }, mapping.MatchStatusMismatch, []string{"birth_family_name"}, nil},
		{"used name only matches", func(p *mapping.Person) { p.BirthFamilyName, p.UsedName = "DIALLO", "N'DIAYE" }, mapping.MatchStatusMatch, nil, nil},
		{"compound given name with a space", func(p *mapping.Person) { p.GivenNames = []string{"Marie Anne", "Louise"} }, mapping.MatchStatusMatch, nil, nil},
		{"compound given name as two names", func(p *mapping.Person) { p.GivenNames = []string{"MARIE", "ANNE", "LOUISE"} }, mapping.MatchStatusMatch, nil, nil},
		{"compound given name glued", func(p *mapping.Person) { p.GivenNames = []string{"MarieAnne", "Louise"} }, mapping.MatchStatusMatch, nil, nil},
		{"first given name only", func(p *mapping.Person) { p.GivenNames = []string{"marie-anne"} }, mapping.MatchStatusMatch, nil, nil},
		{"half of a compound given name", func(p *mapping.Person) { p.GivenNames = []string{"Marie"} }, mapping.MatchStatusMismatch, []string{"given_names"}, nil},
		{"given names in another order", func(p *mapping.Person) { p.GivenNames = []string{"Louise", "Marie-Anne"} }, mapping.MatchStatusMismatch, []string{"given_names"}, nil},
		{"second given name only", func(p *mapping.Person) { p.GivenNames = []string{"Louise"} }, mapping.MatchStatusMismatch, []string{"given_names"}, nil},
		{"year of birth only", func(p *mapping.Person) { p.BirthDate = "1984" }, mapping.MatchStatusMatch, nil, nil},
		{"year and month of birth", func(p *mapping.Person) { p.BirthDate = "1984-09" }, mapping.MatchStatusMatch, nil, nil},
		{"another month of birth", func(p *mapping.Person) { p.BirthDate = "1984-10" }, mapping.MatchStatusMismatch, []string{"birth_date"}, nil},
		{"another day of birth", func(p *mapping.Person) { p.BirthDate = "1984-09-04" }, mapping.MatchStatusMismatch, []string{"birth_date"}, nil},
		{"no date of birth", func(p *mapping.Person) { p.BirthDate = "" }, mapping.MatchStatusMatch, nil, []string{"birth_date"}},
		{"an unreadable date of birth", func(p *mapping.Person) { p.BirthDate = "1984-00-03" }, mapping.MatchStatusMatch, nil, []string{"birth_date"}},
		{"another sex", func(p *mapping.Person) { p.Sex = mapping.SexMale }, mapping.MatchStatusMismatch, []string{"sex"}, nil},
		{"unknown sex", func(p *mapping.Person) { p.Sex = mapping.SexUnknown }, mapping.MatchStatusMatch, nil, []string{"sex"}},
		{"no commune of birth", func(p *mapping.Person) { p.BirthPlaceCOG = "" }, mapping.MatchStatusMatch, nil, []string{"birth_place_cog", "birth_country_cog"}},
		{"France given explicitly", func(p *mapping.Person) { p.BirthCountryCOG = mapping.CountryFrance }, mapping.MatchStatusMatch, nil, nil},
		{"born abroad", func(p *mapping.Person) { p.BirthPlaceCOG, p.BirthCountryCOG = "", "99350" }, mapping.MatchStatusMismatch, []string{"birth_country_cog"}, []string{"birth_place_cog"}},
		{"an INS on one side only", func(p *mapping.Person) {
			p.INS = &mapping.INS{Value: "284097505600128", System: mapping.INSSystemNIR}
		}, mapping.MatchStatusMatch, nil, []string{"ins"}},
		{"no names", func(p *mapping.Person) { p.BirthFamilyName, p.GivenNames = "", nil }, mapping.MatchStatusUnverified, nil, []string{"birth_family_name", "given_names"}},
		{"names of punctuation only", func(p *mapping.Person) { p.BirthFamilyName = "--" }, mapping.MatchStatusUnverified, nil, []string{"birth_family_name"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			other := base
			other.GivenNames = slices.Clone(base.GivenNames)
			tc.edit(&other)
			got := mapping.MatchIdentity(&base, &other)
			if got.Status != tc.status || !slices.Equal(got.Mismatched, tc.mismatch) || !slices.Equal(got.Unchecked, tc.unchecked) {
				t.Errorf("MatchIdentity = %+v, want status %s, mismatched %v, unchecked %v", got, tc.status, tc.mismatch, tc.unchecked)
			}
			if got.Matched() != (tc.status == mapping.MatchStatusMatch) {
				t.Errorf("Matched() = %v with status %s", got.Matched(), got.Status)
			}
		})
	}

	t.Run("INS in both", func(t *testing.T) {
		t.Parallel()
		a, b := base, base
		a.INS = &mapping.INS{Value: "284097505600128", System: mapping.INSSystemNIR}
		b.INS = &mapping.INS{Value: "184097505600128", System: mapping.INSSystemNIR}
		if got := mapping.MatchIdentity(&a, &b); got.Status != mapping.MatchStatusMismatch || !slices.Equal(got.Mismatched, []string{"ins"}) {
			t.Errorf("two INS: %+v", got)
		}
		b.INS = &mapping.INS{Value: "184097505600128", System: mapping.INSSystemNIA}
		if got := mapping.MatchIdentity(&a, &b); got.Status != mapping.MatchStatusMatch || !slices.Equal(got.Unchecked, []string{"ins"}) {
			t.Errorf("an INS and an NIA: %+v", got)
		}
	})
	t.Run("Corsica", func(t *testing.T) {
		t.Parallel()
		a, b := base, base
		a.BirthPlaceCOG, b.BirthPlaceCOG = "2A004", " 2a004"
		if got := mapping.MatchIdentity(&a, &b); !got.Matched() {
			t.Errorf("2A004 and 2a004: %+v", got)
		}
	})
}

// TestIdentityMatchJSON: the verdict names fields and never carries a
// value.
func TestIdentityMatchJSON(t *testing.T) {
	t.Parallel()
	a := person("SIMPSON", "", "Marge", "F", "1980-11-15", "", "99404")
	b := person("BROWN", "", "Marge", "F", "1980-11-15", "", "")
	raw, err := json.Marshal(mapping.MatchIdentity(&a, &b))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"status":"mismatch","mismatched":["birth_family_name"],"unchecked":["birth_country_cog"]}`; string(raw) != want {
		t.Errorf("JSON %s, want %s", raw, want)
	}
}

// fields are the field names MatchIdentity may report.
var fields = []string{
	mapping.FieldBirthFamilyName, mapping.FieldGivenNames, mapping.FieldSex, mapping.FieldBirthDate,
	mapping.FieldBirthPlaceCOG, mapping.FieldBirthCountryCOG, mapping.FieldINS,
}

// FuzzFoldName: the folded form is idempotent and holds only letters that
// are not lower case, digits and single spaces.
func FuzzFoldName(f *testing.F) {
	for _, s := range []string{"Gérôme", "jean--philippe", "D’ARTAGNAN", "Œ", "\u00a0x\u2003y", "ǅ", "ᶗ", "ß", "E\u0301"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := mapping.FoldName(s)
		if again := mapping.FoldName(n); again != n {
			t.Fatalf("FoldName is not idempotent on %q: %q then %q", s, n, again)
		}
		if strings.HasPrefix(n, " ") || strings.HasSuffix(n, " ") || strings.Contains(n, "  ") {
			t.Fatalf("FoldName(%q) = %q has stray spaces", s, n)
		}
		for _, r := range n {
			if r != ' ' && (unicode.IsLower(r) || unicode.Is(unicode.M, r) || !(unicode.IsLetter(r) || unicode.IsDigit(r))) {
				t.Fatalf("FoldName(%q) = %q keeps %q", s, n, r)
			}
		}
	})
}

// FuzzMatchIdentity: any two identities are compared without panicking,
// the verdict is symmetric, an identity matches itself and its folded
// copy, and only known fields are reported, each once.
func FuzzMatchIdentity(f *testing.F) {
	for _, pair := range [][2]string{
		{`{"birth_family_name":"N'Diaye","given_names":["Marie-Anne"],"sex":"F","birth_date":"1984","birth_place_cog":"75056"}`,
			`{"birth_family_name":"NDIAYE","used_name":"DUPONT","given_names":["MARIE","ANNE","LOUISE"],"sex":"F","birth_date":"1984-09-03","birth_place_cog":"75056"}`},
		{`{"birth_family_name":"SIMPSON","given_names":["Marge"],"sex":"F","birth_date":"1980-11-15","birth_country_cog":"99404"}`,
			`{"birth_family_name":"BROWN","given_names":["Marge"],"sex":"F","birth_date":"1980-11-15"}`},
		{`{"given_names":["", "-", " "],"sex":"X","birth_date":"1984-00","ins":{"value":"1","system":"s"}}`, `{"ins":{"value":"2","system":"s"}}`},
		{`{}`, `{}`},
	} {
		f.Add([]byte(pair[0]), []byte(pair[1]))
	}
	f.Fuzz(func(t *testing.T, rawA, rawB []byte) {
		var a, b mapping.Person
		if json.Unmarshal(rawA, &a) != nil || json.Unmarshal(rawB, &b) != nil {
			return
		}
		got := mapping.MatchIdentity(&a, &b)
		if back := mapping.MatchIdentity(&b, &a); !reflect.DeepEqual(back, got) {
			t.Fatalf("not symmetric: %+v one way, %+v the other", got, back)
		}
		if (got.Status == mapping.MatchStatusMismatch) != (len(got.Mismatched) > 0) {
			t.Fatalf("status %s with mismatched %v", got.Status, got.Mismatched)
		}
		reported := append(slices.Clone(got.Mismatched), got.Unchecked...)
		for i, field := range reported {
			if !slices.Contains(fields, field) || slices.Contains(reported[i+1:], field) {
				t.Fatalf("field %q reported in %+v", field, got)
			}
		}
		if self := mapping.MatchIdentity(&a, &a); len(self.Mismatched) > 0 {
			t.Fatalf("%+v does not match itself: %+v", a, self)
		}
		folded := a
		folded.BirthFamilyName, folded.UsedName = mapping.FoldName(a.BirthFamilyName), mapping.FoldName(a.UsedName)
		folded.GivenNames = nil
		for _, g := range a.GivenNames {
			folded.GivenNames = append(folded.GivenNames, mapping.FoldName(g))
		}
		if m := mapping.MatchIdentity(&a, &folded); slices.Contains(m.Mismatched, mapping.FieldBirthFamilyName) || slices.Contains(m.Mismatched, mapping.FieldGivenNames) {
			t.Fatalf("%+v does not match its folded copy %+v: %+v", a, folded, m)
		}
	})
}

func BenchmarkFoldName(b *testing.B) {
	for _, name := range []string{"ALEXIS GEROME JEAN-PHILIPPE", "Alexis Gérôme Jean-Philippe"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = mapping.FoldName(name)
			}
		})
	}
}

// BenchmarkMatchIdentity compares an identity asked with accents and a
// compound given name with the platform's upper-case answer.
func BenchmarkMatchIdentity(b *testing.B) {
	asked := person("Lefèbvre", "", "Alexis|Gérôme|Jean-Philippe", "F", "1982-12", "08480", "99100")
	returned := person("LEFEBVRE", "", "ALEXIS|GÉRÔME|JEAN-PHILIPPE", "F", "1982-12-27", "08480", "")
	b.ReportAllocs()
	for b.Loop() {
		if m := mapping.MatchIdentity(&asked, &returned); m.Status != mapping.MatchStatusMatch {
			b.Fatal(m)
		}
	}
}
