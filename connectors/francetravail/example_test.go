package francetravail_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/francetravail"
	"github.com/relais-dev/relais/mapping"
	mockft "github.com/relais-dev/relais/mocks/francetravail"
)

// Read a job seeker's registration and payments (here from the mock
// platform, whose sandbox person Martine Courtet is registered).
func ExampleNew() {
	srv := httptest.NewServer(mockft.New(mockft.Options{}))
	defer srv.Close()

	source, err := francetravail.New("francetravail", francetravail.Config{
		BaseURL:      srv.URL,
		ClientID:     "PAR_relais_sandbox",
		ClientSecret: connectors.Secret("relais-sandbox-secret"),
	}, connectors.Deps{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer source.CloseIdleConnections()

	items, err := source.Pull(context.Background(), &connectors.PullQuery{
		Operations: []string{francetravail.OpStatut},
		Person: mapping.Person{
			BirthFamilyName: "Courtet", GivenNames: []string{"Martine"}, Sex: mapping.SexFemale, BirthDate: "1990-01-06",
			BirthPlaceCOG: "31555", INS: &mapping.INS{Value: "290013155501226", System: mapping.INSSystemNIR},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, it := range items {
		fmt.Println(it.Operation, connectors.OutcomeOf(it.Err), it.Provider, it.Employment.Identifier, it.Employment.StartDate, "category", it.Employment.CategoryCode)
	}
	// Output: france_travail_statut ok FRANCE_TRAVAIL 123456A 2024-01-01 category 1
}
