package francetravail

import (
	_ "embed" // the sandbox persons travel with the binary
	"encoding/json"
	"fmt"
	"slices"
)

//go:embed fixtures.json
var fixturesJSON []byte

// Person is one person France Travail knows, as the mock stores it. The
// JSON names are the platform's.
type Person struct {
	// Number is the person's France Travail identifier.
	Number string `json:"numeroFranceTravail"`
	// NIR is the 15-character NIR (13 characters and the key).
	NIR       string  `json:"nir"`
	Civility  string  `json:"civilite"` // "M." or "MME"
	BirthName string  `json:"nomNaissance"`
	UsedName  *string `json:"nomUsage"`
	FirstName string  `json:"prenom"`
	Sex       string  `json:"sexe"` // "M" or "F"
	BirthDate string  `json:"dateNaissance"`
	// Certified is the topIdentiteCertifiee of a search (O or N).
	Certified bool `json:"identiteCertifiee"`
	// SandboxToken is a person token that never expires, accepted from
	// every application ("" for none).
	SandboxToken string       `json:"jetonSandbox"`
	Registration Registration `json:"inscription"`
	Payments     []Payment    `json:"paiements"`
}

// Registration is a registration as a job seeker.
type Registration struct {
	Start             string   `json:"dateDebut"`
	End               *string  `json:"dateFin"`
	CNAVCertification string   `json:"codeCertificationCNAV"`
	Category          Category `json:"categorie"`
}

// Category is a registration category (1 to 8).
type Category struct {
	Code  int    `json:"code"`
	Label string `json:"libelle"`
}

// Payment is one payment France Travail made.
type Payment struct {
	Date       string  `json:"dateVersement"`
	Total      float64 `json:"montantTotal"`
	Allowances float64 `json:"montantAllocations"`
	Aids       float64 `json:"montantAides"`
	Other      float64 `json:"montantAutres"`
}

// SandboxPersons returns a fresh copy of the sandbox persons.
func SandboxPersons() []Person {
	var f struct {
		Persons []Person `json:"persons"`
	}
	if err := json.Unmarshal(fixturesJSON, &f); err != nil {
		panic(fmt.Sprintf("francetravail: decoding fixtures.json: %v", err)) // a build defect, caught by the tests
	}
	return f.Persons
}

// clonePersons deep-copies ps so a caller's slice is never shared.
func clonePersons(ps []Person) []Person {
	out := slices.Clone(ps)
	for i := range out {
		out[i].Payments = slices.Clone(out[i].Payments)
	}
	return out
}
