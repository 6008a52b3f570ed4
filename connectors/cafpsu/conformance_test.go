package cafpsu_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/cafpsu"
	"github.com/relais-dev/relais/contracts/connectortest"
	"github.com/relais-dev/relais/mapping"
	mockcafpsu "github.com/relais-dev/relais/mocks/cafpsu"
)

// The sandbox structure takes declarations at any date; it has no FINESS,
// so the report's FINESS maps to it in the configuration only.
const (
	finess  = "750000010"
	partner = mockcafpsu.PartnerSandbox
	siret   = "99000001000019"
)

// body is a June update of 2025 for the sandbox structure, billed hours
// bumped by bump (a correction).
func body(bump int) []byte {
	months := make([]string, 6)
	for i := range months {
		months[i] = fmt.Sprintf(`{"month":"2025-%02d","billed_hours":%d,"attended_hours":2650.5,"psu_hours":2750,"children":28,"opening_days":20}`, i+1, 2800+bump)
	}
	return []byte(`{"year":2025,"kind":"actualisation_juin","establishment":{"siret":"` + siret + `","finess":null},"months":[` + strings.Join(months, ",") + `]}`)
}

func delivery(key string, version int) *connectors.Delivery {
	return &connectors.Delivery{ID: key, IdempotencyKey: key, Attempt: 1, Report: &connectors.ReportDelivery{
		Kind: connectors.ReportPSUDeclaration, ReportID: "rpt1", FINESS: finess,
		Period: mapping.Period{Start: "2025-01-01", End: "2025-06-30"}, Version: version, Chunk: 1, Chunks: 1,
		ContentType: "application/json", Body: body(version),
	}}
}

func setup(t *testing.T, env connectortest.Env) (*mockcafpsu.Server, *cafpsu.Client) {
	t.Helper()
	mock := mockcafpsu.New(mockcafpsu.Options{Now: env.Now, Logger: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(mock)
	t.Cleanup(srv.Close)
	c, err := cafpsu.New("cafpsu", cafpsu.Config{
		BaseURL: srv.URL, ClientID: mockcafpsu.DefaultClientID, ClientSecret: mockcafpsu.DefaultClientSecret,
		Structures: []cafpsu.Structure{{FINESS: finess, PartnerNumber: partner}},
		Stack:      env.Stack,
	}, env.Deps())
	if err != nil {
		t.Fatalf("building the connector: %v", err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return mock, c
}

// The CAF PSU connector against the connector conformance suite.
func TestConformance(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, connectortest.Harness{
		Operation:      "declarations.create",
		TokenOperation: "token",
		TokenTTL:       mockcafpsu.DefaultTokenTTL,
		RemoteID:       "/declaration_number",
		Delivery:       func(key string) *connectors.Delivery { return delivery(key, 1) },
		Setup: func(t *testing.T, env connectortest.Env) connectortest.Pair {
			mock, c := setup(t, env)
			return connectortest.Pair{
				Connector:   c,
				Mock:        mock.Platform(),
				Stored:      func(key string) int { return mock.CreatedPerKey()[key] },
				StoredTotal: func() int { return int(mock.Declared()) },
			}
		},
	})
}

// TestCorrection: version 2 supersedes version 1 at the CAF; replaying
// either creates nothing.
func TestCorrection(t *testing.T) {
	t.Parallel()
	now := func() time.Time { return time.Date(2025, 7, 5, 10, 0, 0, 0, time.UTC) }
	mock, c := setup(t, connectortest.Env{Now: now, Stack: connectors.StackConfig{}})
	ctx := context.Background()
	r1, err := c.Deliver(ctx, delivery("k1", 1))
	if err != nil {
		t.Fatal(err)
	}
	d2 := delivery("k2", 2)
	d2.Report.Replaces = r1.RemoteID
	r2, err := c.Deliver(ctx, d2)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Deliver(ctx, delivery("k1", 1))
	if err != nil {
		t.Fatal(err)
	}
	if r1.RemoteID == r2.RemoteID || again.RemoteID != r1.RemoteID {
		t.Errorf("receipts %s, %s, replay %s", r1.RemoteID, r2.RemoteID, again.RemoteID)
	}
	if got := mock.Declared(); got != 2 {
		t.Errorf("the CAF holds %d declarations, want 2", got)
	}
	if per := mock.CreatedPerKey(); per["k1"] != 1 || per["k2"] != 1 {
		t.Errorf("created per key = %v", per)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := cafpsu.Config{BaseURL: "https://caf.example", ClientID: "id", ClientSecret: "s",
		Structures: []cafpsu.Structure{{FINESS: finess, PartnerNumber: partner}}}
	for field, mutate := range map[string]func(c *cafpsu.Config){
		"base_url":                     func(c *cafpsu.Config) { c.BaseURL = "caf" },
		"client_id":                    func(c *cafpsu.Config) { c.ClientID = "" },
		"client_secret":                func(c *cafpsu.Config) { c.ClientSecret = "" },
		"structures":                   func(c *cafpsu.Config) { c.Structures = nil },
		"structures[0].finess":         func(c *cafpsu.Config) { c.Structures[0].FINESS = "750000011" },
		"structures[0].partner_number": func(c *cafpsu.Config) { c.Structures[0].PartnerNumber = "9900" },
	} {
		c := ok
		c.Structures = append([]cafpsu.Structure(nil), ok.Structures...)
		mutate(&c)
		if err := c.WithDefaults().Validate(); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: error = %v", field, err)
		}
	}
	if err := ok.WithDefaults().Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
}
