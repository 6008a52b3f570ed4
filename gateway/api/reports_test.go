package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/gateway/api"
	"github.com/relais-dev/relais/gateway/report"
	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/activitycsv"
)

const reportFINESS = "750000010"

// sizeMapper stands for the outputs' mapping functions: bodies that say
// how many rows they were built from.
type sizeMapper struct{}

type sizeFigures struct{ n int }

func (sizeMapper) NewFigures(string, mapping.Period) report.Figures { return &sizeFigures{} }

func (sizeMapper) TDDUIBundle(part *mapping.ActivityReport, c report.ChunkRef) (string, []byte, error) {
	b, err := json.Marshal(map[string]int{"chunk": c.Chunk, "chunks": c.Chunks, "persons": len(part.Persons)})
	return "application/fhir+json", b, err
}

func (f *sizeFigures) Add(activitycsv.Row) error { f.n++; return nil }

func (f *sizeFigures) Indicators() (string, []byte, []byte, error) {
	b, err := json.Marshal(map[string]int{"rows": f.n})
	return "application/json", b, []byte("indicateur;valeur\r\nlignes;" + string(rune('0'+f.n%10)) + "\r\n"), err
}

func (f *sizeFigures) PSU() (string, []byte, error) { return "application/json", []byte(`{}`), nil }

// reportBundle serves the API with activity reports on, for a tenant that
// is the establishment reportFINESS.
type reportBundle struct {
	*bundle
	owner tenant
}

// setupReports counts its responses in coverage.
func setupReports(tb testing.TB, coverage map[string]bool) *reportBundle {
	tb.Helper()
	bnd := setup(tb)
	ctx := context.Background()
	info, err := bnd.store.CreateTenant(ctx, store.NewTenant{Name: "creche-les-lucioles", FINESS: reportFINESS}, "adm_test")
	if err != nil {
		tb.Fatal(err)
	}
	k, secret, err := bnd.store.CreateAPIKey(ctx, info.ID, "logiciel", "")
	if err != nil {
		tb.Fatal(err)
	}
	registry := connectors.NewRegistry()
	registry.Register(bnd.coffre)
	registry.Register(bnd.archiviste)
	svc, err := report.New(report.Config{
		ChunkEntries: 4, MaxUploadBytes: 64 << 10, SpoolDir: tb.TempDir(),
		Routes: []report.Route{
			{Output: connectors.ReportTDDUIBundle, Destination: "coffrefort"},
			{Output: connectors.ReportIndicators, Destination: "archiviste"},
		},
	}, report.Deps{Store: bnd.store, Mapper: sizeMapper{}, Destinations: registry, Now: bnd.clock.Now})
	if err != nil {
		tb.Fatal(err)
	}
	rb := &reportBundle{bundle: &bundle{store: bnd.store, clock: bnd.clock, logs: bnd.logs, workersUp: bnd.workersUp, a: bnd.a, b: bnd.b,
		coffre: bnd.coffre, archiviste: bnd.archiviste, coverage: coverage}, owner: tenant{id: info.ID, keyID: k.ID, secret: secret}}
	rb.server = api.New(api.Config{}, api.Deps{
		Store: bnd.store, Connectors: registry, WorkersRunning: bnd.workersUp.Load, Reports: svc,
		Registry: prometheus.NewRegistry(), Logger: slog.New(slog.NewJSONHandler(bnd.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now: bnd.clock.Now,
	})
	rb.srv = httptest.NewServer(rb.server)
	tb.Cleanup(rb.srv.Close)
	return rb
}

// multipartFiles builds a multipart body of a sample directory's files.
func multipartFiles(tb testing.TB, dir string) (body []byte, contentType string) {
	tb.Helper()
	dir = filepath.Join("..", "..", "mapping", "activitycsv", "testdata", "samples", dir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		w, err := mw.CreateFormFile(strings.TrimSuffix(e.Name(), ".csv"), e.Name())
		if err != nil {
			tb.Fatal(err)
		}
		_, _ = w.Write(b)
	}
	_ = mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

func postReport(tn tenant, query string, body []byte, contentType, key string) call {
	h := map[string]string{"Content-Type": contentType}
	if key != "" {
		h["Idempotency-Key"] = key
	}
	return call{method: http.MethodPost, path: "/v1/reports" + query, auth: tn.bearer(), header: h, body: body}
}

type reportVersionView struct {
	ReportID string `json:"report_id"`
	Version  int    `json:"version"`
	Href     string `json:"href"`
	Outputs  []struct {
		Kind   string `json:"kind"`
		Chunk  int    `json:"chunk"`
		Chunks int    `json:"chunks"`
	} `json:"outputs"`
}

// exerciseReports runs every reports operation and status, counted in
// bnd's coverage.
func (bnd *bundle) exerciseReports(t *testing.T) {
	t.Helper()
	rb := setupReports(t, bnd.coverage)
	owner := rb.owner
	q := "?establishment=" + reportFINESS + "&period=2024"
	valid, ct := multipartFiles(t, "valid/comma")

	r := rb.do(t, postReport(owner, q, valid, ct, ""))
	wantStatus(t, r, http.StatusAccepted)
	v := decode[reportVersionView](t, r)
	if v.Version != 1 || r.header.Get("Location") != v.Href || len(v.Outputs) < 2 {
		t.Fatalf("upload: %s", r.body)
	}
	again := rb.do(t, postReport(owner, q, valid, ct, ""))
	wantStatus(t, again, http.StatusAccepted)
	if again.header.Get("Idempotent-Replayed") != "true" || decode[reportVersionView](t, again).Version != 1 {
		t.Fatalf("same upload again: %s", again.body)
	}
	keyed := rb.do(t, postReport(owner, q, valid, ct, "rapport-2024-bis"))
	wantStatus(t, keyed, http.StatusAccepted)
	if decode[reportVersionView](t, keyed).Version != 2 {
		t.Fatalf("a new key is a new version: %s", keyed.body)
	}
	invalid, ict := multipartFiles(t, "invalid/cells")
	wantProblem(t, rb.do(t, postReport(owner, q, invalid, ict, "rapport-2024-bis")), http.StatusUnprocessableEntity, "idempotency_key_reused")
	bad := rb.do(t, postReport(owner, q, invalid, ict, ""))
	wantStatus(t, bad, http.StatusUnprocessableEntity)
	var problem struct {
		Code     string           `json:"code"`
		Total    int              `json:"total_problems"`
		Problems []report.Problem `json:"problems"`
	}
	if err := json.Unmarshal(bad.body, &problem); err != nil || problem.Code != "report_invalid" || problem.Total == 0 || problem.Problems[0].Line == 0 {
		t.Fatalf("invalid upload: %s", bad.body)
	}
	wantProblem(t, rb.do(t, postReport(owner, "?period=2024", valid, ct, "")), http.StatusBadRequest, "establishment_required")
	wantProblem(t, rb.do(t, postReport(owner, "?establishment="+reportFINESS+"&period=2024-13", valid, ct, "")), http.StatusBadRequest, "invalid_period")
	wantProblem(t, rb.do(t, postReport(rb.a, q, valid, ct, "")), http.StatusForbidden, "establishment_not_owned")
	wantProblem(t, rb.do(t, postReport(tenant{secret: "rls_not-a-key-of-anyone"}, q, valid, ct, "")), http.StatusUnauthorized, "invalid_api_key")
	plain := postReport(owner, q, []byte("x"), "text/plain", "")
	plain.docRejects = true
	wantProblem(t, rb.do(t, plain), http.StatusUnsupportedMediaType, "unsupported_media_type")
	var big bytes.Buffer
	mw := multipart.NewWriter(&big)
	w, _ := mw.CreateFormFile("usagers", "usagers.csv")
	_, _ = w.Write(bytes.Repeat([]byte("U0042;Martin;;Jean;M;01/01/1950;;;\r\n"), 3000))
	_ = mw.Close()
	wantProblem(t, rb.do(t, postReport(owner, q, big.Bytes(), mw.FormDataContentType(), "")), http.StatusRequestEntityTooLarge, "upload_too_large")

	// Listing, reading, the indicators, the calendar.
	list := rb.do(t, get(owner, "/v1/reports?establishment="+reportFINESS+"&period=2024"))
	wantStatus(t, list, http.StatusOK)
	if !strings.Contains(string(list.body), `"version":2`) || !strings.Contains(string(list.body), `"version":1`) {
		t.Fatalf("list: %s", list.body)
	}
	wantStatus(t, rb.do(t, get(owner, "/v1/reports?establishment="+reportFINESS)), http.StatusOK)
	badFINESS := get(owner, "/v1/reports?establishment=123")
	badFINESS.docRejects = true
	wantProblem(t, rb.do(t, badFINESS), http.StatusBadRequest, "invalid_establishment")
	wantProblem(t, rb.do(t, get(rb.a, "/v1/reports?establishment="+reportFINESS)), http.StatusForbidden, "establishment_not_owned")
	wantProblem(t, rb.do(t, call{method: http.MethodGet, path: "/v1/reports?establishment=" + reportFINESS, auth: "Bearer rls_not-a-key-of-anyone"}),
		http.StatusUnauthorized, "invalid_api_key")
	wantStatus(t, rb.do(t, get(owner, v.Href)), http.StatusOK)
	wantProblem(t, rb.do(t, get(rb.a, v.Href)), http.StatusNotFound, "not_found")
	wantProblem(t, rb.do(t, call{method: http.MethodGet, path: v.Href, auth: "Bearer rls_not-a-key-of-anyone"}), http.StatusUnauthorized, "invalid_api_key")
	csv := rb.do(t, get(owner, v.Href+"/indicators.csv?version=1"))
	wantStatus(t, csv, http.StatusOK)
	if !strings.HasPrefix(string(csv.body), "indicateur;valeur") || !strings.HasPrefix(csv.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("indicators: %s", csv.body)
	}
	badVersion := get(owner, v.Href+"/indicators.csv?version=0")
	badVersion.docRejects = true
	wantProblem(t, rb.do(t, badVersion), http.StatusBadRequest, "invalid_version")
	wantProblem(t, rb.do(t, get(rb.a, v.Href+"/indicators.csv")), http.StatusNotFound, "not_found")
	wantProblem(t, rb.do(t, call{method: http.MethodGet, path: v.Href + "/indicators.csv", auth: "Bearer rls_not-a-key-of-anyone"}), http.StatusUnauthorized, "invalid_api_key")
	cal := rb.do(t, get(owner, "/v1/reports/calendar?establishment="+reportFINESS+"&year=2025"))
	wantStatus(t, cal, http.StatusOK)
	if !strings.Contains(string(cal.body), `"declaration":"yearly"`) || !strings.Contains(string(cal.body), `"status":"submitted"`) {
		t.Fatalf("calendar: %s", cal.body)
	}
	wantProblem(t, rb.do(t, get(owner, "/v1/reports/calendar?establishment="+reportFINESS+"&year=1800")), http.StatusBadRequest, "invalid_year")
	wantProblem(t, rb.do(t, get(rb.a, "/v1/reports/calendar?establishment="+reportFINESS)), http.StatusForbidden, "establishment_not_owned")
	wantProblem(t, rb.do(t, call{method: http.MethodGet, path: "/v1/reports/calendar?establishment=" + reportFINESS, auth: "Bearer rls_not-a-key-of-anyone"}),
		http.StatusUnauthorized, "invalid_api_key")

	// Without the service, every route answers 503.
	for _, c := range []call{
		postReport(bnd.a, q, valid, ct, ""), get(bnd.a, "/v1/reports?establishment="+reportFINESS),
		get(bnd.a, "/v1/reports/calendar?establishment="+reportFINESS), get(bnd.a, v.Href), get(bnd.a, v.Href+"/indicators.csv"),
	} {
		wantProblem(t, bnd.do(t, c), http.StatusServiceUnavailable, "reports_not_configured")
	}
}

func TestReports(t *testing.T) {
	t.Parallel()
	bnd := setup(t)
	bnd.exerciseReports(t)
}
