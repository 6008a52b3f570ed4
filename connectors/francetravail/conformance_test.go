package francetravail_test

import (
	"fmt"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/francetravail"
	"github.com/relais-dev/relais/contracts/connectortest"
	mockft "github.com/relais-dev/relais/mocks/francetravail"
	"github.com/relais-dev/relais/mocks/platform"
)

// The France Travail source against the pull conformance suite, on the
// mock's sandbox persons.
func TestConformance(t *testing.T) {
	t.Parallel()
	connectortest.RunPull(t, connectortest.PullHarness{
		Routes: map[string]connectortest.PullRoute{
			francetravail.OpStatut: {
				Calls: []string{"usagers.search_by_nir", "situation.registration"},
				Drift: []connectortest.PullField{
					{Call: "situation.registration", Path: "/inscription/dateDebut"},
					{Call: "situation.registration", Path: "/identite/nomNaissance"},
					{Call: "usagers.search_by_nir", Path: "/jetonUsager"},
					{Call: "usagers.search_by_nir", Path: "/codeRetour"},
				},
			},
			francetravail.OpIndemnites: {
				Calls: []string{"usagers.search_by_nir", "situation.payments"},
				Drift: []connectortest.PullField{{Call: "situation.payments", Path: "/paiements/*/montantTotal"}},
			},
		},
		TokenOperation: "token",
		TokenTTL:       mockft.DefaultTokenTTL,
		Known:          func() *connectors.PullQuery { return query(courtet()) },
		Unknown:        func() *connectors.PullQuery { return query(unknown()) },
		Check:          checkCourtet,
		Secrets:        []string{mockft.DefaultClientSecret},
		SecretHeaders:  []string{"ft-jeton-usager"},
		Setup: func(t *testing.T, env connectortest.PullEnv) connectortest.PullPair {
			// The mock's own rate limit counts by the suite's clock,
			// which does not move: it is left out here (see
			// TestThrottlesItself).
			mock := mockft.New(mockft.Options{Now: env.Now, RateLimit: platform.RateLimit{Limit: -1}, Logger: slog.New(slog.DiscardHandler)})
			srv := httptest.NewServer(env.Wrap(mock))
			t.Cleanup(srv.Close)
			c, err := francetravail.New("francetravail", francetravail.Config{
				BaseURL:       srv.URL,
				ClientID:      mockft.DefaultClientID,
				ClientSecret:  mockft.DefaultClientSecret,
				PaymentMonths: sandboxPaymentMonths,
				Stack:         env.Stack,
			}, env.Deps(), catalog(t))
			if err != nil {
				t.Fatalf("building the source: %v", err)
			}
			t.Cleanup(c.CloseIdleConnections)
			return connectortest.PullPair{Puller: c, Mock: mock.Platform()}
		},
	})
}

// checkCourtet checks the values the mock holds for Martine Courtet.
func checkCourtet(item *connectors.PullItem) error {
	switch item.Operation {
	case francetravail.OpStatut:
		e, p := item.Employment, item.Identity
		if e == nil || e.Identifier != "123456A" || e.StartDate != "2024-01-01" || e.EndDate != "" || e.CategoryCode != "1" || e.CNAVCertificationCode != "VC" {
			return fmt.Errorf("registration %+v, want 123456A since 2024-01-01, category 1, certified VC", e)
		}
		if p == nil || p.BirthFamilyName != "Courtet" || len(p.GivenNames) != 1 || p.GivenNames[0] != "Martine" || p.Sex != "F" || p.BirthDate != "1990-01-06" {
			return fmt.Errorf("identity %+v, want Martine Courtet, F, born 1990-01-06", p)
		}
	case francetravail.OpIndemnites:
		if len(item.Payments) != 3 || item.Payments[0].PaidOn != "2024-02-05" || item.Payments[0].Total != 1042.18 || item.Payments[2].Other != 60 {
			return fmt.Errorf("payments %+v, want the three of 2024-02-05, 2024-03-05 and 2025-01-06", item.Payments)
		}
	}
	return nil
}
