package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/relais-dev/relais/gateway/api"
	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/gateway/store/storetest"
)

type readinessView struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// TestReadiness: /readyz is 200 with a migrated store and running workers,
// 503 naming the failing check otherwise.
func TestReadiness(t *testing.T) {
	t.Parallel()
	readyz := call{method: http.MethodGet, path: "/readyz"}

	t.Run("Ready", func(t *testing.T) {
		t.Parallel()
		bnd := setup(t)
		r := bnd.do(t, readyz)
		wantStatus(t, r, http.StatusOK)
		if v := decode[readinessView](t, r); v.Status != "ready" || v.Checks["store"] != "ok" || v.Checks["workers"] != "ok" {
			t.Fatalf("readiness: %s", r.body)
		}
	})

	t.Run("WorkersStopped", func(t *testing.T) {
		t.Parallel()
		bnd := setup(t)
		bnd.workersUp.Store(false)
		r := bnd.do(t, readyz)
		wantStatus(t, r, http.StatusServiceUnavailable)
		if v := decode[readinessView](t, r); v.Status != "not_ready" || v.Checks["store"] != "ok" || v.Checks["workers"] == "ok" {
			t.Fatalf("readiness: %s", r.body)
		}
		bnd.workersUp.Store(true)
		wantStatus(t, bnd.do(t, readyz), http.StatusOK)
	})

	t.Run("StoreNotMigrated", func(t *testing.T) {
		t.Parallel()
		unmigrated, err := store.Open(context.Background(), store.Options{
			Driver: "sqlite", DSN: storetest.DSN(t, "sqlite"), Keyring: storetest.Keyring(t),
		})
		if err != nil {
			t.Fatalf("opening store: %v", err)
		}
		t.Cleanup(unmigrated.Close)
		bnd := setupWith(t, options{driver: "sqlite", wrap: func(api.Store) api.Store { return unmigrated }})
		r := bnd.do(t, readyz)
		wantStatus(t, r, http.StatusServiceUnavailable)
		if v := decode[readinessView](t, r); v.Status != "not_ready" || !strings.Contains(v.Checks["store"], "pending migrations") || v.Checks["workers"] != "ok" {
			t.Fatalf("readiness: %s", r.body)
		}
	})

	t.Run("StoreFailing", func(t *testing.T) {
		t.Parallel()
		bnd := setupWith(t, options{driver: "sqlite", wrap: func(s api.Store) api.Store { return failingStore{s} }})
		r := bnd.do(t, readyz)
		wantStatus(t, r, http.StatusServiceUnavailable)
		if v := decode[readinessView](t, r); v.Status != "not_ready" || v.Checks["store"] == "ok" {
			t.Fatalf("readiness: %s", r.body)
		}
	})
}

// TestMetrics: requests are counted by route pattern, never by path, and
// the registry passes promlint.
func TestMetrics(t *testing.T) {
	t.Parallel()
	bnd := setup(t)
	sub := bnd.createSubmission(t, bnd.a, "metrics-1", validBody(t))
	wantStatus(t, bnd.do(t, get(bnd.a, sub.Href)), http.StatusOK)
	wantStatus(t, bnd.do(t, get(bnd.a, "/v1/submissions/sub_aaaaaaaaaaaaaaaa")), http.StatusNotFound)
	wantStatus(t, bnd.do(t, call{method: http.MethodGet, path: "/v1/nowhere", docRejects: true}), http.StatusNotFound)
	wantStatus(t, bnd.do(t, call{method: http.MethodGet, path: "/v1/connectors", docRejects: true}), http.StatusUnauthorized)

	families, err := bnd.reg.Gather()
	if err != nil {
		t.Fatalf("gathering: %v", err)
	}
	counts := map[string]float64{}
	for _, m := range family(families, "relais_http_requests_total") {
		counts[label(m, "route")+" "+label(m, "code")] = m.GetCounter().GetValue()
	}
	for k, want := range map[string]float64{
		"POST /v1/submissions 202":     1,
		"GET /v1/submissions/{id} 200": 1,
		"GET /v1/submissions/{id} 404": 1,
		"GET /v1/connectors 401":       1,
		"unmatched 404":                1,
	} {
		if counts[k] != want {
			t.Errorf("relais_http_requests_total{%s} = %v, want %v (all: %v)", k, counts[k], want, counts)
		}
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if strings.Contains(l.GetValue(), "sub_") || strings.Contains(l.GetValue(), "nowhere") {
					t.Errorf("%s has a label from a path: %s=%q", f.GetName(), l.GetName(), l.GetValue())
				}
			}
		}
	}
	if n := len(family(families, "relais_http_request_duration_seconds")); n == 0 {
		t.Error("no relais_http_request_duration_seconds")
	}

	r := bnd.do(t, call{method: http.MethodGet, path: "/metrics"})
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), `relais_http_requests_total{code="202",route="POST /v1/submissions"} 1`) {
		t.Errorf("/metrics lacks the submissions counter:\n%s", r.body)
	}

	problems, err := testutil.CollectAndLint(bnd.reg)
	if err != nil {
		t.Fatalf("linting: %v", err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

func family(families []*dto.MetricFamily, name string) []*dto.Metric {
	for _, f := range families {
		if f.GetName() == name {
			return f.GetMetric()
		}
	}
	return nil
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// TestInternalErrors: a failing or panicking store gives an opaque 500
// problem; the cause goes to the log, under the request id, and nowhere
// else.
func TestInternalErrors(t *testing.T) {
	t.Parallel()
	bnd := setupWith(t, options{driver: "sqlite", wrap: func(s api.Store) api.Store { return failingStore{s} }})
	for _, c := range []call{
		submit(bnd.a, "boom-1", validBody(t)),
		get(bnd.a, "/v1/submissions/sub_aaaaaaaaaaaaaaaa"),
		get(bnd.a, "/v1/deliveries/dlv_aaaaaaaaaaaaaaaa"), // panics
		replay(bnd.a, "dlv_aaaaaaaaaaaaaaaa"),
	} {
		r := bnd.do(t, c)
		p := wantProblem(t, r, http.StatusInternalServerError, "internal_error")
		for _, s := range []string{"disk", "relais.db", "Lefèvre", "nil pointer", "goroutine ", ".go:", "panic"} {
			if strings.Contains(string(r.body), s) {
				t.Errorf("%s %s: the answer quotes %q: %s", c.method, c.path, s, r.body)
			}
		}
		logged := false
		for _, line := range strings.Split(bnd.logs.String(), "\n") {
			if strings.Contains(line, p.RequestID) && strings.Contains(line, `"level":"ERROR"`) &&
				(strings.Contains(line, "disk I/O error") || strings.Contains(line, "nil pointer")) {
				logged = true
			}
		}
		if !logged {
			t.Errorf("%s %s: the cause is not logged at ERROR under %s:\n%s", c.method, c.path, p.RequestID, bnd.logs)
		}
	}
}
