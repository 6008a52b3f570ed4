package apiparticulier_test

import (
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/apiparticulier"
	"github.com/relais-dev/relais/contracts/connectortest"
	"github.com/relais-dev/relais/mapping"
	mockapi "github.com/relais-dev/relais/mocks/apiparticulier"
)

// The connector against the pull conformance suite, on the mock seeded
// with the platform's sandbox cases.
func TestConformance(t *testing.T) {
	t.Parallel()
	status := func(name string) connectortest.PullRoute {
		return connectortest.PullRoute{
			Calls: []string{name + ".identite"},
			Drift: []connectortest.PullField{{Call: name + ".identite", Path: "/data/est_beneficiaire"}},
		}
	}
	connectortest.RunPull(t, connectortest.PullHarness{
		Routes: map[string]connectortest.PullRoute{
			apiparticulier.OpQuotientFamilial: {
				Calls: []string{"quotient_familial.identite"},
				Drift: []connectortest.PullField{
					{Call: "quotient_familial.identite", Path: "/data/quotient_familial/valeur"},
					{Call: "quotient_familial.identite", Path: "/data/allocataires/*/nom_naissance"},
				},
			},
			apiparticulier.OpParticipationFamilialeEAJE: {
				Calls: []string{"participation_familiale_eaje.identite"},
				Drift: []connectortest.PullField{
					{Call: "participation_familiale_eaje.identite", Path: "/data/parametres_calcul_participation_familiale/base_ressources_annuelles/valeur"},
				},
			},
			apiparticulier.OpAllocationSoutienFamilial:    status(apiparticulier.OpAllocationSoutienFamilial),
			apiparticulier.OpRevenuSolidariteActive:       status(apiparticulier.OpRevenuSolidariteActive),
			apiparticulier.OpPrimeActivite:                status(apiparticulier.OpPrimeActivite),
			apiparticulier.OpAllocationAdulteHandicape:    status(apiparticulier.OpAllocationAdulteHandicape),
			apiparticulier.OpComplementaireSanteSolidaire: status(apiparticulier.OpComplementaireSanteSolidaire),
			apiparticulier.OpAllocationEnfantHandicape: {
				Calls: []string{"allocation_enfant_handicape.identite"},
				Drift: []connectortest.PullField{{Call: "allocation_enfant_handicape.identite", Path: "/data/status"}},
			},
			apiparticulier.OpFranceTravailStatut: {
				Calls: []string{"france_travail.statut"},
				Drift: []connectortest.PullField{{Call: "france_travail.statut", Path: "/data/inscription/date_debut"}},
			},
			apiparticulier.OpFranceTravailIndemnites: {
				Calls: []string{"france_travail.indemnites"},
				Drift: []connectortest.PullField{{Call: "france_travail.indemnites", Path: "/data/paiements/*/montant_total"}},
			},
		},
		Known: func() *connectors.PullQuery {
			return &connectors.PullQuery{Person: withFranceTravail(dupontSophie(), "123456A"), Recipient: recipient}
		},
		Unknown: func() *connectors.PullQuery {
			return &connectors.PullQuery{Person: nobody(), Recipient: recipient}
		},
		Check:   checkDupontSophie,
		Secrets: []string{mockapi.DefaultToken},
		Setup: func(t *testing.T, env connectortest.PullEnv) connectortest.PullPair {
			mock := mockapi.New(mockapi.Options{Now: env.Now})
			srv := httptest.NewServer(env.Wrap(mock))
			t.Cleanup(srv.Close)
			stack := env.Stack
			// The suite's bucket is far above the platform's limit,
			// which Config.Validate refuses: the connector's own.
			stack.RateLimit = connectors.RateLimitConfig{}
			c, err := apiparticulier.New("apiparticulier", apiparticulier.Config{
				BaseURL: srv.URL,
				Token:   mockapi.DefaultToken,
				Stack:   stack,
			}, env.Deps(), apiparticulier.WithCatalog(catalog(t)))
			if err != nil {
				t.Fatalf("building the connector: %v", err)
			}
			t.Cleanup(c.CloseIdleConnections)
			return connectortest.PullPair{Puller: c, Mock: mock.Platform()}
		},
	})
}

// checkDupontSophie checks the values the sandbox holds for DUPONT Sophie
// (and for the job seeker 123456A).
func checkDupontSophie(item *connectors.PullItem) error {
	benefit := func() (*mapping.Benefit, error) {
		if len(item.Benefits) != 1 {
			return nil, fmt.Errorf("%d benefits, want 1", len(item.Benefits))
		}
		return &item.Benefits[0], nil
	}
	switch item.Operation {
	case apiparticulier.OpQuotientFamilial:
		b, err := benefit()
		if err != nil {
			return err
		}
		if b.Amount == nil || *b.Amount != 900 || b.Provider != mapping.ProviderCNAF || b.Period.Year != 2023 || b.Period.Month != 6 {
			return fmt.Errorf("quotient familial %+v, want 900 (CNAF) for 2023-06", b)
		}
		if item.Household == nil || len(item.Household.Children) != 4 {
			return fmt.Errorf("household %+v, want four children", item.Household)
		}
	case apiparticulier.OpParticipationFamilialeEAJE:
		b, err := benefit()
		if err != nil {
			return err
		}
		if b.Amount == nil || *b.Amount != 21600 || b.Period.ComputedYear != 2023 {
			return fmt.Errorf("crèche figures %+v, want resources of 21600 computed in 2023", b)
		}
	case apiparticulier.OpRevenuSolidariteActive:
		if b, err := benefit(); err != nil || b.Status != mapping.StatusNotBeneficiary {
			return fmt.Errorf("RSA %+v (%v), want not_beneficiary", b, err)
		}
	case apiparticulier.OpFranceTravailStatut:
		if item.Employment == nil || item.Employment.Identifier != "123456A" || item.Identity == nil {
			return fmt.Errorf("registration %+v, identity %+v: want 123456A's, with an identity", item.Employment, item.Identity)
		}
	case apiparticulier.OpFranceTravailIndemnites:
		if len(item.Payments) == 0 {
			return fmt.Errorf("no payment for 123456A")
		}
	}
	if item.Operation != apiparticulier.OpFranceTravailStatut && item.Operation != apiparticulier.OpFranceTravailIndemnites && item.Provider != mapping.ProviderCNAF {
		return fmt.Errorf("provider %s, want CNAF", item.Provider)
	}
	return nil
}
