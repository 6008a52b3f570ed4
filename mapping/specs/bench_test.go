package specs_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/engine"
)

// The benchmarks map the quotient familial response of a couple with two
// children, the sandbox's typical case, to the canonical household and
// benefit: with the engine and the QF spec, and with handMapQF, the Go a
// developer would write for the same case. Both decode the JSON, map and
// encode the JSON; "validated" adds the checks each does in production (the
// engine: the platform's schema on input, the canonical schemas on output;
// the hand-written mapper: the canonical types' Validate).

const qfCase = "apiparticulier/testdata/quotient_familial.inbound/cnaf_couple_two_children.input.json"

func qfInput(b *testing.B) []byte {
	b.Helper()
	raw, err := os.ReadFile(qfCase)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

func BenchmarkQFEngine(b *testing.B) {
	cat := setup(b)
	p, ok := cat.Plan("apiparticulier", "quotient_familial", engine.Inbound)
	if !ok {
		b.Fatal("no quotient familial spec")
	}
	benchEngine(b, p, qfInput(b))
}

func BenchmarkQFHandWritten(b *testing.B) {
	benchMapper(b, qfInput(b), handMapQF)
}

// assertSameOutput maps raw with the plan and with the hand-written mapper
// (both validating) and fails unless the two JSON outputs are equal.
func assertSameOutput(t *testing.T, name string, p *engine.Plan, raw []byte, hand func([]byte, bool) ([]byte, error)) {
	t.Helper()
	res, err := p.Run(raw, engine.RunOptions{})
	if err != nil {
		t.Fatalf("%s: engine: %v", name, err)
	}
	handOut, err := hand(raw, true)
	if err != nil {
		t.Fatalf("%s: hand-written: %v", name, err)
	}
	canonical := func(b []byte) string {
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: decoding output: %v", name, err)
		}
		out, _ := json.Marshal(v, json.Deterministic(true))
		return string(out)
	}
	if ja, jb := canonical(res.Output), canonical(handOut); ja != jb {
		t.Errorf("%s: engine and hand-written mapper differ:\nengine: %s\nhand:   %s", name, ja, jb)
	}
}

// benchEngine measures a plan on one record, with and without schema
// validation.
func benchEngine(b *testing.B, p *engine.Plan, raw []byte) {
	benchMapper(b, raw, func(raw []byte, validate bool) (any, error) {
		return p.Run(raw, engine.RunOptions{SkipValidation: !validate})
	})
}

// benchMapper measures mapOne on one record, with and without validation,
// and reports records per second.
func benchMapper[T any](b *testing.B, raw []byte, mapOne func(raw []byte, validate bool) (T, error)) {
	for _, bc := range []struct {
		name     string
		validate bool
	}{{"unvalidated", false}, {"validated", true}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if _, err := mapOne(raw, bc.validate); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// TestHandWrittenMatchesEngine keeps the baseline honest: it produces the
// engine's output on every golden case the engine maps.
func TestHandWrittenMatchesEngine(t *testing.T) {
	t.Parallel()
	cat := setup(t)
	p, _ := cat.Plan("apiparticulier", "quotient_familial", engine.Inbound)
	for _, c := range []string{"cnaf_couple_two_children", "msa_couple_two_children", "qf_zero_not_computable", "compound_given_names", "apostrophe_and_accents", "partial_birth_dates", "single_no_children_empty_usage"} {
		raw, err := os.ReadFile("apiparticulier/testdata/quotient_familial.inbound/" + c + ".input.json") //nolint:gosec // the test's own cases
		if err != nil {
			t.Fatal(err)
		}
		assertSameOutput(t, c, p, raw, handMapQF)
	}
}

type qfPerson struct {
	NomNaissance  string  `json:"nom_naissance"`
	NomUsage      *string `json:"nom_usage"`
	Prenoms       string  `json:"prenoms"`
	DateNaissance string  `json:"date_naissance"`
	Sexe          string  `json:"sexe"`
}

type qfResponse struct {
	Data struct {
		Allocataires []qfPerson `json:"allocataires"`
		Enfants      []qfPerson `json:"enfants"`
		Adresse      struct {
			NumeroLibelleVoie *string `json:"numero_libelle_voie"`
			LieuDit           *string `json:"lieu_dit"`
			CodePostalVille   *string `json:"code_postal_ville"`
			Pays              *string `json:"pays"`
		} `json:"adresse"`
		QuotientFamilial struct {
			Fournisseur string  `json:"fournisseur"`
			Valeur      float64 `json:"valeur"`
			Annee       int     `json:"annee"`
			Mois        int     `json:"mois"`
			AnneeCalcul int     `json:"annee_calcul"`
			MoisCalcul  int     `json:"mois_calcul"`
		} `json:"quotient_familial"`
	} `json:"data"`
}

type qfCanonical struct {
	Household mapping.Household `json:"household"`
	Benefit   mapping.Benefit   `json:"benefit"`
}

var errHand = errors.New("invalid quotient familial response")

// handMapQF is the hand-written baseline.
func handMapQF(raw []byte, validate bool) ([]byte, error) {
	var r qfResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	var out qfCanonical
	for _, a := range r.Data.Allocataires {
		p, err := handPerson(a)
		if err != nil {
			return nil, err
		}
		out.Household.Allocataires = append(out.Household.Allocataires, p)
	}
	for _, e := range r.Data.Enfants {
		p, err := handPerson(e)
		if err != nil {
			return nil, err
		}
		out.Household.Children = append(out.Household.Children, p)
	}
	ad := r.Data.Adresse
	addr := mapping.Address{Street: text(ad.NumeroLibelleVoie), Locality: text(ad.LieuDit), PostalCodeCity: text(ad.CodePostalVille), Country: text(ad.Pays)}
	if addr != (mapping.Address{}) {
		out.Household.Address = &addr
	}
	q := r.Data.QuotientFamilial
	var provider mapping.Provider
	switch q.Fournisseur {
	case "CNAF":
		provider = mapping.ProviderCNAF
	case "MSA":
		provider = mapping.ProviderMSA
	default:
		return nil, errHand
	}
	out.Benefit = mapping.NewQuotientFamilial(provider, q.Valeur, mapping.BenefitPeriod{Year: q.Annee, Month: q.Mois, ComputedYear: q.AnneeCalcul, ComputedMonth: q.MoisCalcul})
	if validate {
		if errs := out.Household.Validate(); len(errs) > 0 {
			return nil, errs[0]
		}
		if errs := out.Benefit.Validate(); len(errs) > 0 {
			return nil, errs[0]
		}
	}
	return json.Marshal(out, json.OmitZeroStructFields(true))
}

func handPerson(p qfPerson) (mapping.Person, error) {
	d, err := mapping.ParsePartialDate(p.DateNaissance)
	if err != nil {
		return mapping.Person{}, err
	}
	var sex mapping.Sex
	switch p.Sexe {
	case "F":
		sex = mapping.SexFemale
	case "M":
		sex = mapping.SexMale
	default:
		return mapping.Person{}, errHand
	}
	return mapping.Person{BirthFamilyName: p.NomNaissance, UsedName: text(p.NomUsage), GivenNames: strings.Fields(p.Prenoms), Sex: sex, BirthDate: d}, nil
}

func text(s *string) string {
	if s == nil || strings.TrimSpace(*s) == "" {
		return ""
	}
	return *s
}
