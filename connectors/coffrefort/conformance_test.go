package coffrefort_test

import (
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/coffrefort"
	"github.com/relais-dev/relais/contracts/connectortest"
	"github.com/relais-dev/relais/mapping"
	mockcoffrefort "github.com/relais-dev/relais/mocks/coffrefort"
)

// The digital safe connector against the connector conformance suite.
func TestConformance(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, connectortest.Harness{
		Operation:      "documents.create",
		TokenOperation: "token",
		TokenTTL:       mockcoffrefort.DefaultTokenTTL,
		RemoteID:       "/id",
		// A 404 of the upload is the beneficiary the connector named no
		// longer existing: ClassifyStatus's NotFound, as for any call.
		NotFound: connectors.NotFound,
		Delivery: func(key string) *connectors.Delivery {
			return delivery(key, "ESMS-CONFORMANCE", pdf(2048), mapping.VisibilityPrivate)
		},
		Setup: func(t *testing.T, env connectortest.Env) connectortest.Pair {
			mock := mockcoffrefort.New(mockcoffrefort.Options{Now: env.Now, Logger: slog.New(slog.DiscardHandler)})
			srv := httptest.NewServer(mock)
			t.Cleanup(srv.Close)
			c, err := coffrefort.New("coffrefort", coffrefort.Config{
				BaseURL:      srv.URL,
				ClientID:     mockcoffrefort.DefaultClientID,
				ClientSecret: mockcoffrefort.DefaultClientSecret,
				Stack:        env.Stack,
			}, env.Deps())
			if err != nil {
				t.Fatalf("building the connector: %v", err)
			}
			t.Cleanup(c.CloseIdleConnections)
			return connectortest.Pair{
				Connector:   c,
				Mock:        mock.Platform(),
				Stored:      func(key string) int { return mock.CreatedPerKey()[key] },
				StoredTotal: func() int { return int(mock.Stats().Documents) },
			}
		},
	})
}
