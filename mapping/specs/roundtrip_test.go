package specs_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/engine"
)

// plan returns the spec named name.
func plan(t *testing.T, cat *engine.Catalog, name string) *engine.Plan {
	t.Helper()
	for _, p := range cat.Plans() {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no spec named %s", name)
	return nil
}

// identityQuery is the output of apiparticulier.identite.outbound.
type identityQuery struct {
	NomNaissance string   `json:"nomNaissance"`
	NomUsage     string   `json:"nomUsage"`
	Prenoms      []string `json:"prenoms"`
	Annee        int      `json:"anneeDateNaissance"`
	Mois         int      `json:"moisDateNaissance"`
	Jour         int      `json:"jourDateNaissance"`
	Sexe         string   `json:"sexeEtatCivil"`
}

// qfAnswer builds the quotient familial answer a platform gives for the
// identity q: the same person as the only allocataire, the birth date with
// 00 for an unknown month or day.
func qfAnswer(q identityQuery) map[string]any {
	var usage any
	if q.NomUsage != "" {
		usage = q.NomUsage
	}
	return map[string]any{
		"data": map[string]any{
			"allocataires": []any{map[string]any{
				"nom_naissance":  q.NomNaissance,
				"nom_usage":      usage,
				"prenoms":        strings.Join(q.Prenoms, " "),
				"date_naissance": fmt.Sprintf("%04d-%02d-%02d", q.Annee, q.Mois, q.Jour),
				"sexe":           q.Sexe,
			}},
			"enfants": []any{},
			"adresse": map[string]any{
				"destinataire": nil, "complement_information": nil, "complement_information_geographique": nil,
				"numero_libelle_voie": "1 RUE DE LA PAIX", "lieu_dit": nil, "code_postal_ville": "75002 PARIS", "pays": "FRANCE",
			},
			"quotient_familial": map[string]any{
				"fournisseur": "CNAF", "valeur": 800, "annee": 2024, "mois": 11, "annee_calcul": 2024, "mois_calcul": 11,
			},
		},
		"links": map[string]any{},
		"meta":  map[string]any{},
	}
}

// TestIdentityRoundTrip maps canonical persons to API Particulier's identity
// parameters, answers with the quotient familial of that same identity, maps
// the answer back, and checks the identity traits survive: birth family
// name, used name, given names, sex and birth date at its precision.
func TestIdentityRoundTrip(t *testing.T) {
	t.Parallel()
	cat := setup(t)
	out := plan(t, cat, "apiparticulier.identite.outbound")
	in := plan(t, cat, "apiparticulier.quotient_familial.inbound")
	persons := []mapping.Person{
		{BirthFamilyName: "MARTIN", UsedName: "DURAND", GivenNames: []string{"SAMUEL"}, Sex: mapping.SexMale,
			BirthDate: "1980-09-20", BirthPlaceCOG: "08480", BirthCountryCOG: mapping.CountryFrance},
		{BirthFamilyName: "FAKIR", GivenNames: []string{"EYMEN", "MOHAMED"}, Sex: mapping.SexMale,
			BirthDate: "1992-03-14", BirthCountryCOG: "99350"},
		{BirthFamilyName: "DIALLO", GivenNames: []string{"AÏSSATA"}, Sex: mapping.SexFemale,
			BirthDate: "1975", BirthCountryCOG: "99341"},
		{BirthFamilyName: "ROUX", GivenNames: []string{"LINA"}, Sex: mapping.SexFemale,
			BirthDate: "2015-05", BirthPlaceCOG: "75056"},
		{BirthFamilyName: "ANO'NYMOS-LONS", UsedName: "D'ARTAGNAN", GivenNames: []string{"JEAN-PHILIPPE", "MARIE", "ÉLOÏSE"},
			Sex: mapping.SexFemale, BirthDate: "1990-03-18", BirthPlaceCOG: "2A004", BirthCountryCOG: mapping.CountryFrance},
	}
	for _, want := range persons {
		t.Run(want.BirthFamilyName, func(t *testing.T) {
			t.Parallel()
			raw, err := json.Marshal(map[string]any{"person": want})
			if err != nil {
				t.Fatal(err)
			}
			res, err := out.Run(raw, engine.RunOptions{})
			if err != nil {
				t.Fatalf("mapping the person to the query: %v", err)
			}
			var q identityQuery
			if err := json.Unmarshal(res.Output, &q); err != nil {
				t.Fatalf("decoding the query: %v", err)
			}
			answer, err := json.Marshal(qfAnswer(q))
			if err != nil {
				t.Fatal(err)
			}
			back, err := in.Run(answer, engine.RunOptions{Source: engine.Source{At: fetchedAt}})
			if err != nil {
				t.Fatalf("mapping the answer back: %v", err)
			}
			var doc struct {
				Household mapping.Household `json:"household"`
			}
			if err := json.Unmarshal(back.Output, &doc); err != nil {
				t.Fatalf("decoding the household: %v", err)
			}
			if len(doc.Household.Allocataires) != 1 {
				t.Fatalf("got %d allocataires, want 1", len(doc.Household.Allocataires))
			}
			got := doc.Household.Allocataires[0]
			for _, c := range []struct {
				trait     string
				got, want any
			}{
				{"birth_family_name", got.BirthFamilyName, want.BirthFamilyName},
				{"used_name", got.UsedName, want.UsedName},
				{"given_names", got.GivenNames, want.GivenNames},
				{"sex", got.Sex, want.Sex},
				{"birth_date", got.BirthDate, want.BirthDate},
			} {
				if !reflect.DeepEqual(c.got, c.want) {
					t.Errorf("%s: got %v after the round trip, want %v", c.trait, c.got, c.want)
				}
			}
		})
	}
}
