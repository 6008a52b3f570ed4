package apiparticulier

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"

	"github.com/relais-dev/relais/mapping"
)

// fixtureFiles are the sandbox's people, in Relais' own form (see doc.go).
//
//go:embed fixtures/*.json
var fixtureFiles embed.FS

// Household is a CAF or MSA file ("dossier allocataire"): the people it
// covers and what the platform answers about them. The sandbox households
// are in fixtures/households.json; tests add their own with
// Options.Households or Server.SetHousehold.
type Household struct {
	// ID names the household in the fixtures; unique.
	ID string `json:"id"`
	// Fournisseur is the body that holds the file: "CNAF" or "MSA".
	Fournisseur string `json:"fournisseur"`
	// Allocataires are the person who claims and their spouse, if any; the
	// identity routes find a household through them. At least one.
	Allocataires []Member `json:"allocataires"`
	// Enfants are the children of the household.
	Enfants []Member `json:"enfants"`
	// Adresse is the household's address; required with a quotient
	// familial or crèche figures.
	Adresse *Adresse `json:"adresse"`
	// QuotientsFamiliaux are the quotients familiaux on file, one per month
	// it took effect; the one in force on a month is the last one on or
	// before it.
	QuotientsFamiliaux []QuotientFamilial `json:"quotients_familiaux"`
	// Prestations are the household's rights, by benefit
	// ("revenu_solidarite_active", "prime_activite",
	// "allocation_adulte_handicape", "allocation_soutien_familial",
	// "allocation_enfant_handicape", "complementaire_sante_solidaire"). A
	// benefit that is not listed is answered as not received.
	Prestations map[string]Droit `json:"prestations"`
	// ParticipationFamilialeEaje are the figures of the crèche fee; nil
	// when the CAF has none (404).
	ParticipationFamilialeEaje *ParametresEaje `json:"participation_familiale_eaje,omitempty"`
}

// Member is a person of a household, in the platform's words.
type Member struct {
	NomNaissance string  `json:"nom_naissance"`
	NomUsage     *string `json:"nom_usage"`
	// Prenoms are the first names separated by spaces.
	Prenoms string `json:"prenoms"`
	// DateNaissance is AAAA-MM-JJ, with 00 for unknown parts.
	DateNaissance string `json:"date_naissance"`
	Sexe          string `json:"sexe"`
	// CodeCommuneNaissance and CodePaysNaissance are the INSEE codes of the
	// place of birth, nil when unknown (then any place matches).
	CodeCommuneNaissance *string `json:"code_cog_insee_commune_naissance"`
	CodePaysNaissance    *string `json:"code_cog_insee_pays_naissance,omitempty"`
}

// Adresse is a postal address in La Poste's form.
type Adresse struct {
	Destinataire                      string  `json:"destinataire"`
	ComplementInformation             *string `json:"complement_information"`
	ComplementInformationGeographique *string `json:"complement_information_geographique"`
	NumeroLibelleVoie                 *string `json:"numero_libelle_voie"`
	LieuDit                           *string `json:"lieu_dit"`
	CodePostalVille                   string  `json:"code_postal_ville"`
	Pays                              string  `json:"pays"`
}

// QuotientFamilial is a quotient familial on file: the month it applies to
// (Annee, Mois) and the month it was computed.
type QuotientFamilial struct {
	Annee       int `json:"annee"`
	Mois        int `json:"mois"`
	Valeur      int `json:"valeur"`
	AnneeCalcul int `json:"annee_calcul"`
	MoisCalcul  int `json:"mois_calcul"`
}

// Droit is a household's right to one benefit. Which fields a benefit uses:
// RSA and prime d'activité EstBeneficiaire, AvecMajoration, DateDebutDroit;
// AAH and ASF EstBeneficiaire, DateDebutDroit; C2S EstBeneficiaire,
// AvecParticipation, DateDebutDroit; AEEH Status, DateDebutDroit.
type Droit struct {
	EstBeneficiaire   bool    `json:"est_beneficiaire,omitempty"`
	AvecMajoration    *bool   `json:"avec_majoration,omitempty"`
	AvecParticipation *bool   `json:"avec_participation,omitempty"`
	Status            string  `json:"status,omitempty"`
	DateDebutDroit    *string `json:"date_debut_droit"`
}

// ParametresEaje are the CAF's figures for a family's crèche fee.
type ParametresEaje struct {
	NombreEnfantsACharge          int                     `json:"nombre_enfants_a_charge"`
	NombreEnfantsBeneficiaireAeeh int                     `json:"nombre_enfants_beneficiaire_aeeh"`
	BaseRessourcesAnnuelles       BaseRessourcesAnnuelles `json:"base_ressources_annuelles"`
}

// BaseRessourcesAnnuelles are the yearly resources the fee is computed on.
type BaseRessourcesAnnuelles struct {
	Valeur      int `json:"valeur"`
	AnneeCalcul int `json:"annee_calcul"`
}

// The benefits of the CAF/MSA routes, as their paths name them.
const (
	benefitQuotientFamilial         = "quotient_familial"
	benefitEaje                     = "participation_familiale_eaje"
	benefitPrimeActivite            = "prime_activite"
	benefitRSA                      = "revenu_solidarite_active"
	benefitAAH                      = "allocation_adulte_handicape"
	benefitAEEH                     = "allocation_enfant_handicape"
	benefitASF                      = "allocation_soutien_familial"
	benefitComplementaireSante      = "complementaire_sante_solidaire"
	fournisseurCNAF, fournisseurMSA = "CNAF", "MSA"
)

// benefits lists the eight benefits in the contract's order.
func benefits() []string {
	return []string{benefitQuotientFamilial, benefitEaje, benefitPrimeActivite, benefitRSA,
		benefitAAH, benefitAEEH, benefitASF, benefitComplementaireSante}
}

var (
	datePattern    = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	communePattern = regexp.MustCompile(`^[0-9][0-9AB][0-9]{3}$`)
)

// Validate names the first field of h the platform could not answer with.
func (h Household) Validate() error {
	fail := func(format string, a ...any) error {
		return fmt.Errorf("household %q: "+format, append([]any{h.ID}, a...)...)
	}
	switch {
	case h.ID == "":
		return fmt.Errorf("household: id is empty")
	case h.Fournisseur != fournisseurCNAF && h.Fournisseur != fournisseurMSA:
		return fail("fournisseur %q is not CNAF or MSA", h.Fournisseur)
	case len(h.Allocataires) == 0:
		return fail("allocataires is empty")
	case h.Adresse == nil && (len(h.QuotientsFamiliaux) > 0 || h.ParticipationFamilialeEaje != nil):
		return fail("adresse is missing (required with quotients_familiaux or participation_familiale_eaje)")
	}
	for i, m := range slices.Concat(h.Allocataires, h.Enfants) {
		field := fmt.Sprintf("allocataires[%d]", i)
		if i >= len(h.Allocataires) {
			field = fmt.Sprintf("enfants[%d]", i-len(h.Allocataires))
		}
		switch {
		case mapping.FoldName(m.NomNaissance) == "" || mapping.FoldName(m.Prenoms) == "":
			return fail("%s: nom_naissance or prenoms is empty", field)
		case !datePattern.MatchString(m.DateNaissance):
			return fail("%s.date_naissance %q is not AAAA-MM-JJ", field, m.DateNaissance)
		case m.Sexe != "M" && m.Sexe != "F":
			return fail("%s.sexe %q is not M or F", field, m.Sexe)
		case m.CodeCommuneNaissance != nil && !communePattern.MatchString(*m.CodeCommuneNaissance):
			return fail("%s.code_cog_insee_commune_naissance %q is not an INSEE code", field, *m.CodeCommuneNaissance)
		}
	}
	for i, q := range h.QuotientsFamiliaux {
		if q.Mois < 1 || q.Mois > 12 || q.MoisCalcul < 1 || q.MoisCalcul > 12 || q.Valeur < 0 || q.Annee < 1900 {
			return fail("quotients_familiaux[%d] has a month out of 1..12, a year before 1900 or a negative valeur", i)
		}
	}
	for benefit, d := range h.Prestations {
		if !slices.Contains(benefits(), benefit) || benefit == benefitQuotientFamilial || benefit == benefitEaje {
			return fail("prestations: unknown benefit %q", benefit)
		}
		if d.DateDebutDroit != nil && !datePattern.MatchString(*d.DateDebutDroit) {
			return fail("prestations.%s.date_debut_droit %q is not AAAA-MM-JJ", benefit, *d.DateDebutDroit)
		}
		if benefit == benefitAEEH && !slices.Contains([]string{"allocataire", "ouvrant_droit", "non_beneficiaire"}, d.Status) {
			return fail("prestations.%s.status %q is not allocataire, ouvrant_droit or non_beneficiaire", benefit, d.Status)
		}
	}
	return nil
}

// sandboxQuery is one of the platform's sandbox cases: the exact identity
// that selects a household on an operation.
type sandboxQuery struct {
	Operation string        `json:"operation"`
	Case      string        `json:"case"`
	Params    sandboxParams `json:"params"`
	Household string        `json:"household"`
}

// sandboxParams are a case's query parameters: the identity, and the month
// of a quotient familial (which selects no one).
type sandboxParams struct {
	Identity
	Annee int `json:"annee,omitempty"`
	Mois  int `json:"mois,omitempty"`
}

// jobSeeker is a person France Travail knows, by identifier.
type jobSeeker struct {
	Identifiant string          `json:"identifiant"`
	Identite    json.RawMessage `json:"identite"`
	Contact     json.RawMessage `json:"contact"`
	Adresse     json.RawMessage `json:"adresse"`
	Inscription json.RawMessage `json:"inscription"`
	Paiements   []paiement      `json:"paiements"`
}

// paiement is a payment France Travail made.
type paiement struct {
	DateVersement      string  `json:"date_versement"`
	MontantTotal       float64 `json:"montant_total"`
	MontantAllocations float64 `json:"montant_allocations"`
	MontantAides       float64 `json:"montant_aides"`
	MontantAutres      float64 `json:"montant_autres"`
}

// citizenFixture is a sandbox FranceConnect access token and its citizen.
type citizenFixture struct {
	Token string `json:"token"`
	Citizen
}

// fixtures are the sandbox data, read from fixtureFiles.
type fixtures struct {
	households []Household
	queries    []sandboxQuery
	jobSeekers map[string]jobSeeker
	citizens   map[string]Citizen
}

// loadFixtures reads and checks the embedded fixtures. They are part of
// the binary: an error is a programming error.
func loadFixtures() (*fixtures, error) {
	var f fixtures
	var hh struct {
		Households []Household `json:"households"`
	}
	var qq struct {
		Queries []sandboxQuery `json:"queries"`
	}
	var ft struct {
		Demandeurs []jobSeeker `json:"demandeurs"`
	}
	var fc struct {
		Citizens []citizenFixture `json:"citizens"`
	}
	for name, v := range map[string]any{"households.json": &hh, "sandbox.json": &qq, "france_travail.json": &ft, "franceconnect.json": &fc} {
		if err := decodeFixture(name, v); err != nil {
			return nil, err
		}
	}
	ids := map[string]bool{}
	for _, h := range hh.Households {
		if err := h.Validate(); err != nil {
			return nil, fmt.Errorf("reading fixtures/households.json: %w", err)
		}
		if ids[h.ID] {
			return nil, fmt.Errorf("reading fixtures/households.json: household %q appears twice", h.ID)
		}
		ids[h.ID] = true
	}
	for _, q := range qq.Queries {
		if !ids[q.Household] {
			return nil, fmt.Errorf("reading fixtures/sandbox.json: case %q names household %q, which does not exist", q.Case, q.Household)
		}
	}
	f.households, f.queries = hh.Households, qq.Queries
	f.jobSeekers = make(map[string]jobSeeker, len(ft.Demandeurs))
	for _, j := range ft.Demandeurs {
		f.jobSeekers[j.Identifiant] = j
	}
	f.citizens = make(map[string]Citizen, len(fc.Citizens))
	for _, c := range fc.Citizens {
		f.citizens[c.Token] = c.Citizen
	}
	return &f, nil
}

// decodeFixture reads fixtures/name strictly into v.
func decodeFixture(name string, v any) error {
	b, err := fixtureFiles.ReadFile("fixtures/" + name)
	if err != nil {
		return fmt.Errorf("reading fixtures/%s: %w", name, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decoding fixtures/%s: %w", name, err)
	}
	return nil
}

// commune is an INSEE commune the mock can resolve by name.
type commune struct {
	Nom         string
	Departement string
}

// communes are the communes of birth the mock resolves from
// nomCommuneNaissance and codeCogInseeDepartementNaissance: those of the
// sandbox people whose names are known. Another name resolves to nothing,
// so the person is not found.
func communes() map[string]commune {
	return map[string]commune{
		"13001": {"Aix-en-Provence", "13"},
		"13055": {"Marseille", "13"},
		"31555": {"Toulouse", "31"},
		"51108": {"Châlons-en-Champagne", "51"},
		"75101": {"Paris 1er Arrondissement", "75"},
		"75107": {"Paris 7e Arrondissement", "75"},
		"75111": {"Paris 11e Arrondissement", "75"},
	}
}

// operationID is the contract's operationId of a benefit's route.
func operationID(benefit string, franceConnect bool) string {
	if franceConnect {
		return benefit + ".france_connect"
	}
	return benefit + ".identite"
}
