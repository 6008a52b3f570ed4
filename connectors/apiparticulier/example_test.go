package apiparticulier_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/apiparticulier"
	"github.com/relais-dev/relais/mapping"
	mockapi "github.com/relais-dev/relais/mocks/apiparticulier"
)

// Pull a person's quotient familial and RSA status from the CAF (here the
// mock platform, with its sandbox token), by their identity traits.
func ExampleNew() {
	srv := httptest.NewServer(mockapi.New(mockapi.Options{}))
	defer srv.Close()

	caf, err := apiparticulier.New("apiparticulier", apiparticulier.Config{
		BaseURL: srv.URL,
		Token:   connectors.Secret(mockapi.DefaultToken),
	}, connectors.Deps{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer caf.CloseIdleConnections()

	items, err := caf.Pull(context.Background(), &connectors.PullQuery{
		Operations: []string{apiparticulier.OpQuotientFamilial, apiparticulier.OpRevenuSolidariteActive},
		Person: mapping.Person{
			BirthFamilyName: "DUPONT", GivenNames: []string{"Sophie"}, Sex: mapping.SexFemale,
			BirthDate: "1982-09-03", BirthPlaceCOG: "13001", BirthCountryCOG: mapping.CountryFrance,
		},
		Recipient: "13002526500013", // the SIRET of the establishment asking
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, item := range items {
		b := item.Benefits[0]
		fmt.Println(item.Operation, connectors.OutcomeOf(item.Err), item.Provider, b.Status)
	}
	fmt.Println("quotient familial:", *items[0].Benefits[0].Amount, "children:", len(items[0].Household.Children))
	// Output:
	// quotient_familial ok CNAF beneficiary
	// revenu_solidarite_active ok CNAF not_beneficiary
	// quotient familial: 900 children: 4
}

// A failed operation is an item, with the platform's code and its
// canonical outcome: the others still come back.
func ExampleClient_Pull_notFound() {
	srv := httptest.NewServer(mockapi.New(mockapi.Options{}))
	defer srv.Close()
	caf, err := apiparticulier.New("apiparticulier", apiparticulier.Config{BaseURL: srv.URL, Token: mockapi.DefaultToken}, connectors.Deps{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer caf.CloseIdleConnections()

	items, err := caf.Pull(context.Background(), &connectors.PullQuery{
		Operations: []string{apiparticulier.OpAllocationAdulteHandicape, apiparticulier.OpFranceTravailStatut},
		Person: mapping.Person{
			BirthFamilyName: "INCONNU", GivenNames: []string{"Personne"}, Sex: mapping.SexMale,
			BirthDate: "1970-01", BirthPlaceCOG: "75056",
			Identifiers: []mapping.Identifier{{System: apiparticulier.FranceTravailIDSystem, Value: "123456A"}},
		},
		Recipient: "13002526500013",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, item := range items {
		code := ""
		if ce, ok := errors.AsType[*connectors.Error](item.Err); ok {
			code = ce.Code
		}
		fmt.Println(item.Operation, connectors.OutcomeOf(item.Err), code)
	}
	// Output:
	// allocation_adulte_handicape not_found 37003
	// france_travail_statut ok
}
