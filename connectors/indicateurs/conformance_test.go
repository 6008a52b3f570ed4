package indicateurs_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/indicateurs"
	"github.com/relais-dev/relais/contracts/connectortest"
	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/indicators"
	mockindicateurs "github.com/relais-dev/relais/mocks/indicateurs"
)

const finess = "750000010"

var period = mapping.Period{Start: "2025-01-01", End: "2025-12-31"}

// body is the indicator report of 2025 as mapping/indicators makes it,
// with days of stay (a correction changes them).
func body(t testing.TB, days int) []byte {
	t.Helper()
	a, err := indicators.New(indicators.Options{FINESS: finess, Period: period, Capacity: 2})
	if err != nil {
		t.Fatal(err)
	}
	a.AddPerson(&mapping.ReportPerson{LocalID: "3750000010/U1", Person: mapping.Person{Sex: mapping.SexFemale, BirthDate: "1950-04-02"}})
	start := time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -days).Format(time.DateOnly)
	a.AddStay(&mapping.Stay{Identifier: "3750000010/U1-SEJOUR-1", PersonLocalID: "3750000010/U1", Start: mapping.Date(start)})
	b, err := a.Report().JSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func delivery(key string, version int, b []byte) *connectors.Delivery {
	return &connectors.Delivery{ID: key, IdempotencyKey: key, Attempt: 1, Report: &connectors.ReportDelivery{
		Kind: connectors.ReportIndicators, ReportID: "rpt1", FINESS: finess, Period: period,
		Version: version, Chunk: 1, Chunks: 1, ContentType: "application/json", Body: b,
	}}
}

func setup(t *testing.T, env connectortest.Env) (*mockindicateurs.Server, *indicateurs.Client) {
	t.Helper()
	mock := mockindicateurs.New(mockindicateurs.Options{Now: env.Now, Logger: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(mock)
	t.Cleanup(srv.Close)
	c, err := indicateurs.New("indicateurs", indicateurs.Config{BaseURL: srv.URL, Token: mockindicateurs.DefaultToken, Stack: env.Stack}, env.Deps())
	if err != nil {
		t.Fatalf("building the connector: %v", err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return mock, c
}

// The indicator report connector against the connector conformance suite.
// Every sample delivery is a new, higher version of the report, so that
// each is stored under its own key.
func TestConformance(t *testing.T) {
	t.Parallel()
	var seq atomic.Int64
	connectortest.Run(t, connectortest.Harness{
		Operation: "reports.submit",
		RemoteID:  "/receipt_number",
		Delivery: func(key string) *connectors.Delivery {
			n := int(seq.Add(1))
			return delivery(key, n, body(t, 30+n))
		},
		Setup: func(t *testing.T, env connectortest.Env) connectortest.Pair {
			mock, c := setup(t, env)
			return connectortest.Pair{
				Connector:   c,
				Mock:        mock.Platform(),
				Stored:      func(key string) int { return mock.StoredPerKey()[key] },
				StoredTotal: func() int { return int(mock.Counts().Stored) },
			}
		},
	})
}

// TestCorrection: version 2 supersedes version 1; replaying either stores
// nothing; a late version 1 with another content is refused as outdated.
func TestCorrection(t *testing.T) {
	t.Parallel()
	now := func() time.Time { return time.Date(2026, 1, 12, 9, 0, 0, 0, time.UTC) }
	mock, c := setup(t, connectortest.Env{Now: now})
	ctx := context.Background()
	r1, err := c.Deliver(ctx, delivery("k1", 1, body(t, 100)))
	if err != nil {
		t.Fatal(err)
	}
	d2 := delivery("k2", 2, body(t, 120))
	d2.Report.Replaces = r1.RemoteID
	r2, err := c.Deliver(ctx, d2)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []*connectors.Delivery{delivery("k1", 1, body(t, 100)), delivery("k1-again", 1, body(t, 100)), d2} {
		again, err := c.Deliver(ctx, d)
		if err != nil || (again.RemoteID != r1.RemoteID && again.RemoteID != r2.RemoteID) {
			t.Errorf("replaying %s: %v, receipt %q", d.ID, err, again.RemoteID)
		}
	}
	if r1.RemoteID == r2.RemoteID || !r2.At.Equal(now()) {
		t.Errorf("receipts %+v, %+v", r1, r2)
	}
	if cnt := mock.Counts(); cnt.Stored != 2 || cnt.Replacements != 1 || cnt.Replays != 1 {
		t.Errorf("counts %+v: want 2 stored, 1 replacement, 1 replay by content (k1-again; the runtime replays k1 and k2 by key)", cnt)
	}
	if v := mock.Versions(finess, 2025); len(v) != 2 {
		t.Errorf("versions %v", v)
	}
	_, err = c.Deliver(ctx, delivery("late", 1, body(t, 90)))
	ce, ok := errors.AsType[*connectors.Error](err)
	if !ok || ce.Class != connectors.Permanent || ce.Status != 409 || ce.Code != "OUTDATED_VERSION" {
		t.Fatalf("an outdated version: %v (%+v)", err, ce)
	}
}

// TestRefusedBeforeSending: what the endpoint cannot take is Permanent and
// never sent.
func TestRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	mock, c := setup(t, connectortest.Env{Now: time.Now})
	b := body(t, 10)
	for name, mutate := range map[string]func(d *connectors.Delivery){
		"no report":    func(d *connectors.Delivery) { d.Report = nil },
		"another kind": func(d *connectors.Delivery) { d.Report.Kind = connectors.ReportTDDUIBundle },
		"no key":       func(d *connectors.Delivery) { d.IdempotencyKey = "" },
		"no version":   func(d *connectors.Delivery) { d.Report.Version = 0 },
		"bad FINESS":   func(d *connectors.Delivery) { d.Report.FINESS = "750000011" },
		"two years":    func(d *connectors.Delivery) { d.Report.Period = mapping.Period{Start: "2024-07-01", End: "2025-06-30"} },
	} {
		d := delivery("k", 1, b)
		mutate(d)
		if _, err := c.Deliver(context.Background(), d); connectors.ClassOf(err) != connectors.Permanent {
			t.Errorf("%s: %v, want Permanent", name, err)
		}
	}
	if n := mock.Stats().ByOperation["reports.submit"]; n != 0 {
		t.Errorf("%d calls reached the endpoint", n)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := indicateurs.Config{BaseURL: "https://indicateurs.example", Token: "k"}
	for field, mutate := range map[string]func(c *indicateurs.Config){
		"base_url":   func(c *indicateurs.Config) { c.BaseURL = "x" },
		"token":      func(c *indicateurs.Config) { c.Token = "" },
		"stack.auth": func(c *indicateurs.Config) { c.Stack.Auth.Kind = connectors.AuthNone },
	} {
		c := ok
		mutate(&c)
		if err := c.WithDefaults().Validate(); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: error = %v", field, err)
		}
	}
	if err := ok.WithDefaults().Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
}
