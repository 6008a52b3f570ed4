package tddui_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/tddui"
	"github.com/relais-dev/relais/contracts/connectortest"
	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/engine"
	"github.com/relais-dev/relais/mapping/specs"
	mappingtddui "github.com/relais-dev/relais/mapping/tddui"
	mocktddui "github.com/relais-dev/relais/mocks/tddui"
)

const finess = "750000010"

// sample is a small Bundle in the shape mapping/tddui makes, its
// identifier the delivery's key so that every key is its own chunk.
func sample(identifier string, version int) []byte {
	return []byte(`{"resourceType":"Bundle","type":"transaction","meta":{"versionId":"` + fmt.Sprint(version) + `"},` +
		`"identifier":{"system":"` + mappingtddui.BundleIdentifierSystem + `","value":"` + identifier + `"},"entry":[` +
		`{"resource":{"resourceType":"Organization","identifier":[{"system":"urn:oid:1.2.250.1.71.4.2.2","value":"1` + finess + `"}]},"request":{"method":"POST","url":"Organization"}},` +
		`{"resource":{"resourceType":"Patient","identifier":[{"value":"3` + finess + `/DUI500"}],"gender":"male","birthDate":"1950"},"request":{"method":"POST","url":"Patient"}}]}`)
}

func reportDelivery(key string, version int, body []byte) *connectors.Delivery {
	return &connectors.Delivery{ID: key, IdempotencyKey: key, Attempt: 1, Report: &connectors.ReportDelivery{
		Kind: connectors.ReportTDDUIBundle, ReportID: "rpt1", FINESS: finess,
		Period: mapping.Period{Start: "2024-01-01", End: "2024-12-31"}, Version: version, Chunk: 1, Chunks: 1,
		ContentType: tddui.ContentType, Body: body,
	}}
}

func setup(t *testing.T, env connectortest.Env) (*mocktddui.Server, *tddui.Client) {
	t.Helper()
	mock := mocktddui.New(mocktddui.Options{Now: env.Now, Logger: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(mock)
	t.Cleanup(srv.Close)
	c, err := tddui.New("tddui", tddui.Config{BaseURL: srv.URL, Token: mocktddui.DefaultToken, Stack: env.Stack}, env.Deps())
	if err != nil {
		t.Fatalf("building the connector: %v", err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return mock, c
}

// The TDDUI connector against the connector conformance suite.
func TestConformance(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, connectortest.Harness{
		Operation: "bundle.transaction",
		RemoteID:  "/id",
		Delivery:  func(key string) *connectors.Delivery { return reportDelivery(key, 1, sample(key, 1)) },
		Setup: func(t *testing.T, env connectortest.Env) connectortest.Pair {
			mock, c := setup(t, env)
			return connectortest.Pair{
				Connector:   c,
				Mock:        mock.Platform(),
				Stored:      func(key string) int { return mock.StoredPerKey()[key] },
				StoredTotal: func() int { return int(mock.Counts().Submissions) },
			}
		},
	})
}

func plan(t *testing.T) *engine.Plan {
	t.Helper()
	schemas, err := mapping.CompileSchemas()
	if err != nil {
		t.Fatal(err)
	}
	cat, err := engine.LoadCatalog(specs.FS, engine.Options{Schemas: schemas.Get})
	if err != nil {
		t.Fatal(err)
	}
	p, ok := cat.Plan("tddui", "bundle", engine.Outbound)
	if !ok {
		t.Fatal("no TDDUI bundle spec")
	}
	return p
}

// activity is a report of persons persons, each with a stay, two events
// and two presences (the second of the last person dropped when
// corrected; every stay starts a day later when corrected).
func activity(persons int, corrected bool) *mapping.ActivityReport {
	r := &mapping.ActivityReport{FINESS: finess, Period: mapping.Period{Start: "2024-01-01", End: "2024-12-31"}}
	day := time.Date(2024, 3, 4, 9, 0, 0, 0, time.UTC)
	start := mapping.Date("2023-06-01")
	if corrected {
		start = "2023-06-02"
	}
	for p := range persons {
		id := fmt.Sprintf("3%s/U%d", finess, p)
		sid := id + "-SEJOUR-1"
		r.Persons = append(r.Persons, mapping.ReportPerson{LocalID: id, Person: mapping.Person{
			BirthFamilyName: "TEST", GivenNames: []string{"TEST"}, Sex: mapping.SexFemale, BirthDate: "1950-01-02",
		}})
		r.Stays = append(r.Stays, mapping.Stay{Identifier: sid, PersonLocalID: id, Start: start})
		for i := range 2 {
			at := day.AddDate(0, 0, i)
			r.Events = append(r.Events, mapping.Event{Identifier: fmt.Sprintf("E%d-%d", p, i), StayIdentifier: sid,
				Status: mapping.EventFinished, Start: at, End: at.Add(time.Hour)})
			if corrected && p == persons-1 && i == 1 {
				continue
			}
			r.PresenceAbsences = append(r.PresenceAbsences, mapping.PresenceAbsence{Identifier: fmt.Sprintf("%s-PA-%d", id, i), StayIdentifier: sid,
				Kind: mapping.Presence, Start: at, End: at.Add(8 * time.Hour), Invoiced: true})
		}
	}
	return r
}

// chunks maps the report's version into three chunks (persons and
// stays, events, presences and absences: each refers to the earlier ones,
// as the gateway's chunks may) and their deliveries, keyed by version and
// chunk as the gateway keys them.
func chunks(t *testing.T, p *engine.Plan, r *mapping.ActivityReport, version int) []*connectors.Delivery {
	t.Helper()
	parts := []*mapping.ActivityReport{
		{FINESS: r.FINESS, Period: r.Period, Persons: r.Persons, Stays: r.Stays},
		{FINESS: r.FINESS, Period: r.Period, Events: r.Events},
		{FINESS: r.FINESS, Period: r.Period, PresenceAbsences: r.PresenceAbsences},
	}
	out := make([]*connectors.Delivery, len(parts))
	for i, part := range parts {
		b, err := mappingtddui.Map(p, part, mappingtddui.Options{ReportID: "rpt1", Version: version, Chunk: i + 1, Chunks: len(parts)})
		if err != nil {
			t.Fatal(err)
		}
		if v := mappingtddui.Check(b.Body); len(v) > 0 {
			t.Fatalf("chunk %d breaks the guide: %v", b.Chunk, v)
		}
		d := reportDelivery(fmt.Sprintf("rpt1-v%d-c%d", version, b.Chunk), version, b.Body)
		d.Report.Chunk, d.Report.Chunks = b.Chunk, b.Chunks
		out[i] = d
	}
	return out
}

// TestCorrection delivers the chunks of a report, then of its corrected
// version 2: each chunk of version 2 replaces its version 1 at the
// receiver (the previous Task cancelled, resources updated, the dropped
// presence removed); replaying either version stores nothing.
func TestCorrection(t *testing.T) {
	t.Parallel()
	now := func() time.Time { return time.Date(2025, 1, 10, 10, 0, 0, 0, time.UTC) }
	mock, c := setup(t, connectortest.Env{Now: now})
	ctx := context.Background()
	p := plan(t)
	v1, v2 := chunks(t, p, activity(3, false), 1), chunks(t, p, activity(3, true), 2)
	sandbox := mock.Counts().Resources

	receipts := map[string]string{}
	for _, d := range v1 {
		rec, err := c.Deliver(ctx, d)
		if err != nil {
			t.Fatalf("%s: %v", d.ID, err)
		}
		receipts[d.ID] = rec.RemoteID
	}
	// 3 persons, their stays, 6 events, 6 presences and the Organization.
	if got := mock.Counts().Resources - sandbox; got != 3+3+6+6+1 {
		t.Fatalf("version 1 holds %d resources", got)
	}
	for i, d := range v2 {
		d.Report.Replaces = receipts[v1[i].ID]
		rec, err := c.Deliver(ctx, d)
		if err != nil {
			t.Fatalf("%s: %v", d.ID, err)
		}
		if rec.RemoteID == d.Report.Replaces {
			t.Fatalf("%s: the replacement has the receipt of version 1", d.ID)
		}
		receipts[d.ID] = rec.RemoteID
	}
	// Replays of both versions, as the delivery worker may make them.
	for _, d := range append(append([]*connectors.Delivery{}, v1...), v2...) {
		d.Attempt = 2
		rec, err := c.Deliver(ctx, d)
		if err != nil || rec.RemoteID != receipts[d.ID] {
			t.Fatalf("replaying %s: %v, receipt %q want %q", d.ID, err, rec.RemoteID, receipts[d.ID])
		}
	}

	n := len(v1)
	cnt := mock.Counts()
	if cnt.Submissions != int64(2*n) || cnt.Replacements != int64(n) {
		t.Errorf("counts %+v: want %d Bundles stored and %d replacements", cnt, 2*n, n)
	}
	if got := cnt.Resources - sandbox; got != 3+3+6+5+1 {
		t.Errorf("after the correction the receiver holds %d resources, want 18 (one presence dropped, nothing duplicated)", got)
	}
	for id, stored := range mock.StoredPerIdentifier() {
		if stored != 2 {
			t.Errorf("Bundle %s stored %d times, want its 2 versions", id, stored)
		}
	}
	for key, stored := range mock.StoredPerKey() {
		if stored != 1 {
			t.Errorf("key %s stored %d Bundles", key, stored)
		}
	}
	if st := mock.Stats(); st.Violations != 0 || st.ResponseViolations != 0 {
		t.Errorf("contract: %d request and %d answer violations", st.Violations, st.ResponseViolations)
	}

	// Version 1 sent again under a new key, with a change: outdated.
	late := reportDelivery("late", 1, []byte(strings.Replace(string(v1[0].Report.Body), "2023-06-01", "2023-05-01", 1)))
	_, err := c.Deliver(ctx, late)
	ce, ok := errors.AsType[*connectors.Error](err)
	if !ok || ce.Class != connectors.Permanent || ce.Status != 409 || ce.Code != "conflict" {
		t.Fatalf("an outdated version: %v (%+v)", err, ce)
	}
}

// TestRefusedBeforeSending: what is not the delivery's TDDUI Bundle is
// Permanent and never reaches the receiver.
func TestRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	mock, c := setup(t, connectortest.Env{Now: time.Now})
	for name, d := range map[string]*connectors.Delivery{
		"no report": {ID: "a", IdempotencyKey: "a"},
		"another kind": func() *connectors.Delivery {
			d := reportDelivery("b", 1, sample("b", 1))
			d.Report.Kind = connectors.ReportIndicators
			return d
		}(),
		"no key":          reportDelivery("", 1, sample("c", 1)),
		"not JSON":        reportDelivery("d", 1, []byte("<Bundle/>")),
		"a batch":         reportDelivery("e", 1, []byte(strings.Replace(string(sample("e", 1)), `"transaction"`, `"batch"`, 1))),
		"no identifier":   reportDelivery("f", 1, []byte(`{"resourceType":"Bundle","type":"transaction","meta":{"versionId":"1"},"entry":[]}`)),
		"version differs": reportDelivery("g", 2, sample("g", 1)),
	} {
		_, err := c.Deliver(context.Background(), d)
		if connectors.ClassOf(err) != connectors.Permanent {
			t.Errorf("%s: %v, want Permanent", name, err)
		}
	}
	if n := mock.Stats().ByOperation["bundle.transaction"]; n != 0 {
		t.Errorf("%d calls reached the receiver", n)
	}
}

// TestOutcomeCode: a refusal keeps the receiver's OperationOutcome and its
// first error code.
func TestOutcomeCode(t *testing.T) {
	t.Parallel()
	_, c := setup(t, connectortest.Env{Now: time.Now})
	bad := strings.Replace(string(sample("x", 1)), `3`+finess+`/DUI500`, "DUI500", 1)
	_, err := c.Deliver(context.Background(), reportDelivery("x", 1, []byte(bad)))
	ce, ok := errors.AsType[*connectors.Error](err)
	if !ok || ce.Status != 422 || ce.Code != "value" || ce.Class != connectors.Permanent || !strings.Contains(string(ce.Body), "OperationOutcome") {
		t.Fatalf("a broken identifier: %v (%+v)", err, ce)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := tddui.Config{BaseURL: "https://tddui.example", Token: "t"}
	for field, mutate := range map[string]func(c *tddui.Config){
		"base_url":   func(c *tddui.Config) { c.BaseURL = "tddui" },
		"token":      func(c *tddui.Config) { c.Token = "" },
		"stack.auth": func(c *tddui.Config) { c.Stack.Auth.Kind = connectors.AuthNone },
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
