package profile_test

import (
	"fmt"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/gateway/mandate"
	"github.com/relais-dev/relais/gateway/profile"
	"github.com/relais-dev/relais/mapping"
)

// A source's status sums its operations up: ok when one of them is, so a
// partial answer is still an answer.
func ExampleSourceStatus() {
	fmt.Println(profile.SourceStatus([]profile.OperationResult{
		{Name: "quotient_familial", Status: connectors.OutcomeOK},
		{Name: "revenu_solidarite_active", Status: connectors.OutcomeNotFound},
	}))
	fmt.Println(profile.SourceStatus([]profile.OperationResult{
		{Name: "france_travail_statut", Status: connectors.OutcomeUnavailable},
		{Name: "france_travail_indemnites", Status: connectors.OutcomeRefused},
	}))
	// Output:
	// ok
	// unavailable
}

// The identity of a lookup must be the person its mandate or consent was
// given for: the same person reference, whatever the accents and case.
func ExampleBasisPerson() {
	key := []byte("example-person-key-0123456789abcdef")
	asked := mapping.Person{
		BirthFamilyName: "LEFEVRE", GivenNames: []string{"ZOE", "MARIE-HELENE"}, Sex: mapping.SexFemale,
		BirthDate: "1948-03-14", BirthCountryCOG: "99134",
	}
	bp, ok := profile.BasisPerson(asked)
	mandated := mandate.Person{FamilyName: "Lefèvre", GivenNames: "Zoé Marie-Hélène", BirthDate: "1948-03-14", Sex: "female", BirthCountry: "99134"}
	fmt.Println(ok, mandate.PersonRef(key, bp) == mandate.PersonRef(key, mandated))

	asked.BirthDate = "1948" // a partial date designates no basis's person
	_, ok = profile.BasisPerson(asked)
	fmt.Println(ok)
	// Output:
	// true true
	// false
}
