package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/gateway/delivery"
	"github.com/relais-dev/relais/gateway/report"
	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/gateway/store/storetest"
	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/activitycsv"
)

const finess = "750000010"

var year2024 = mapping.Period{Start: "2024-01-01", End: "2024-12-31"}

// ---- Fakes ---------------------------------------------------------------

// countingMapper stands for the mapping functions of the outputs: its
// bodies list what they were built from, so tests can check it.
type countingMapper struct{}

type countingFigures struct {
	finess string
	counts map[string]int
}

func (countingMapper) NewFigures(finess string, _ mapping.Period) report.Figures {
	return &countingFigures{finess: finess, counts: map[string]int{}}
}

func (countingMapper) TDDUIBundle(part *mapping.ActivityReport, c report.ChunkRef) (string, []byte, error) {
	var ids []string
	for _, p := range part.Persons {
		ids = append(ids, p.LocalID)
	}
	for _, s := range part.Stays {
		ids = append(ids, s.Identifier)
	}
	for _, e := range part.Events {
		ids = append(ids, e.Identifier)
	}
	for _, pa := range part.PresenceAbsences {
		ids = append(ids, pa.Identifier)
	}
	b, err := json.Marshal(map[string]any{"chunk": c.Chunk, "chunks": c.Chunks, "finess": part.FINESS, "ids": ids})
	return "application/fhir+json", b, err
}

func (f *countingFigures) Add(row activitycsv.Row) error {
	f.counts[row.Kind.String()]++
	return nil
}

func (f *countingFigures) Indicators() (string, []byte, []byte, error) {
	b, err := json.Marshal(f.counts)
	var csv bytes.Buffer
	csv.WriteString("indicateur;valeur\r\n")
	for _, k := range slices.Sorted(mapsKeys(f.counts)) {
		fmt.Fprintf(&csv, "%s;%d\r\n", k, f.counts[k])
	}
	return "application/json", b, csv.Bytes(), err
}

func (f *countingFigures) PSU() (string, []byte, error) {
	b, err := json.Marshal(map[string]any{"finess": f.finess, "presences": f.counts[activitycsv.KindPresences.String()]})
	return "application/json", b, err
}

func mapsKeys(m map[string]int) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// recordingConnector is a destination that keeps what it receives, once
// per idempotency key, as a platform deduplicating on it would.
type recordingConnector struct {
	name string
	// reject refuses every delivery, as a platform refusing the report.
	reject bool

	mu       sync.Mutex
	calls    int
	received map[string]connectors.ReportDelivery
	order    []string
	// refChunks says, by report version, which chunks carry persons or
	// stays; arrivals lists the chunks in the order they came.
	refChunks map[string]map[int]bool
	arrivals  map[string][]int
}

var _ connectors.Connector = (*recordingConnector)(nil)

func newRecordingConnector(name string) *recordingConnector {
	return &recordingConnector{name: name, received: map[string]connectors.ReportDelivery{}, refChunks: map[string]map[int]bool{}, arrivals: map[string][]int{}}
}

func (c *recordingConnector) Name() string              { return c.name }
func (c *recordingConnector) Status() connectors.Status { return connectors.Status{Name: c.name} }

func (c *recordingConnector) Deliver(_ context.Context, d *connectors.Delivery) (connectors.Receipt, error) {
	if d.Report == nil {
		return connectors.Receipt{}, &connectors.Error{Class: connectors.Permanent, Op: "delivering: not a report"}
	}
	if c.reject {
		return connectors.Receipt{}, &connectors.Error{Class: connectors.Permanent, Op: "delivering: report refused"}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	remote := "remote-" + d.IdempotencyKey
	if _, dup := c.received[d.IdempotencyKey]; !dup {
		c.received[d.IdempotencyKey] = *d.Report
		c.order = append(c.order, d.IdempotencyKey)
		if d.Report.Kind == connectors.ReportTDDUIBundle {
			version := fmt.Sprintf("%s-v%d", d.Report.ReportID, d.Report.Version)
			var body struct {
				IDs []string `json:"ids"`
			}
			_ = json.Unmarshal(d.Report.Body, &body)
			if c.refChunks[version] == nil {
				c.refChunks[version] = map[int]bool{}
			}
			refs := false
			for _, id := range body.IDs {
				refs = refs || strings.Contains(id, "-SEJOUR-") || !strings.Contains(id[strings.Index(id, "/")+1:], "-")
			}
			c.refChunks[version][d.Report.Chunk] = refs
			c.arrivals[version] = append(c.arrivals[version], d.Report.Chunk)
		}
	}
	return connectors.Receipt{RemoteID: remote, At: time.Now()}, nil
}

// outOfOrder counts TDDUI chunks that arrived before an earlier chunk
// carrying persons or stays (which they may refer to).
func (c *recordingConnector) outOfOrder() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for version, arrivals := range c.arrivals {
		seen := map[int]bool{}
		for _, k := range arrivals {
			for j := 1; j < k; j++ {
				if c.refChunks[version][j] && !seen[j] {
					n++
				}
			}
			seen[k] = true
		}
	}
	return n
}

func (c *recordingConnector) snapshot() (calls int, received map[string]connectors.ReportDelivery) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]connectors.ReportDelivery, len(c.received))
	for k, v := range c.received {
		out[k] = v
	}
	return c.calls, out
}

// ---- Setup -----------------------------------------------------------------

type fixture struct {
	store    *store.Store
	svc      *report.Service
	tenant   store.TenantInfo
	tddui    *recordingConnector
	ind      *recordingConnector
	psu      *recordingConnector
	startJob func(t *testing.T)
}

func setup(t testing.TB, driver string, chunkEntries int) *fixture {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t, driver, nil)
	tenant, err := st.CreateTenant(ctx, store.NewTenant{Name: "creche-les-lucioles", FINESS: finess}, "adm_test")
	if err != nil {
		t.Fatalf("creating tenant: %v", err)
	}
	f := &fixture{store: st, tenant: tenant,
		tddui: newRecordingConnector("tddui"), ind: newRecordingConnector("indicators"), psu: newRecordingConnector("cafpsu")}
	reg := connectors.NewRegistry()
	for _, c := range []*recordingConnector{f.tddui, f.ind, f.psu} {
		reg.Register(c)
	}
	f.svc, err = report.New(report.Config{
		ChunkEntries: chunkEntries,
		Routes: []report.Route{
			{Output: connectors.ReportTDDUIBundle, Destination: "tddui"},
			{Output: connectors.ReportIndicators, Destination: "indicators"},
			{Output: connectors.ReportPSUDeclaration, Destination: "cafpsu"},
		},
		Establishments: []report.Establishment{{FINESS: finess, Creche: true, SIRET: "21759901800017"}},
		SpoolDir:       t.TempDir(),
	}, report.Deps{Store: st, Mapper: countingMapper{}, Destinations: reg})
	if err != nil {
		t.Fatalf("building report service: %v", err)
	}
	f.startJob = func(t *testing.T) {
		t.Helper()
		workers := river.NewWorkers()
		w := delivery.NewWorker(st, reg, delivery.Config{DependencyWait: 20 * time.Millisecond, BackoffBase: 10 * time.Millisecond},
			delivery.NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler), nil).WithReports(f.svc)
		river.AddWorker(workers, w)
		stop, err := st.StartWorkers(ctx, store.QueueConfig{Workers: workers, FetchCooldown: 5 * time.Millisecond, FetchPollInterval: 20 * time.Millisecond})
		if err != nil {
			t.Fatalf("starting workers: %v", err)
		}
		t.Cleanup(func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = stop(sctx)
		})
	}
	return f
}

// sampleFiles opens the CSV files of a sample directory of activitycsv.
func sampleFiles(t *testing.T, parts ...string) []activitycsv.Input {
	t.Helper()
	dir := filepath.Join(append([]string{"..", "..", "mapping", "activitycsv", "testdata", "samples"}, parts...)...)
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatalf("reading samples: %v", err)
	}
	paths := []string{dir}
	if info.IsDir() {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatalf("reading samples: %v", err)
		}
		paths = paths[:0]
		for _, e := range entries {
			paths = append(paths, filepath.Join(dir, e.Name()))
		}
	}
	var in []activitycsv.Input
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("reading sample: %v", err)
		}
		in = append(in, activitycsv.Input{Name: filepath.Base(p), R: bytes.NewReader(b), Size: int64(len(b))})
	}
	return in
}

// waitDelivered polls the report until every output of version is
// delivered or failed, within a bound.
func waitDelivered(t *testing.T, st *store.Store, tenantID, reportID string, version int) store.ReportVersion {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		rep, err := st.GetReport(ctx, tenantID, reportID)
		if err != nil {
			t.Fatalf("reading report: %v", err)
		}
		for _, v := range rep.Versions {
			if v.Version != version {
				continue
			}
			done := true
			for _, o := range v.Outputs {
				done = done && o.Delivery.Status.Terminal()
			}
			if done {
				return v
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("version %d of report %s not delivered within 30s: %+v", version, reportID, rep.Versions)
		}
		<-tick.C
	}
}
