package connectors_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/relais-dev/relais/connectors"
)

func TestMetricsLintClean(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := &tokenPlatform{expiresIn: 3600}
	srv := newServer(t, p)
	cfg := oauthConfig(connectors.AuthOAuth2ClientCredentialsJSON, srv.URL+"/token")
	cfg.RateLimit = connectors.RateLimitConfig{RequestsPerSecond: 1000, Burst: 1}
	cfg.Retry = connectors.RetryConfig{Max: 1, WaitMin: 1, WaitMax: 1}
	s := newStack(t, "safe", cfg, b.deps)
	for range 3 {
		if _, _, err := get(t, s, srv.URL+"/api"); err != nil {
			t.Fatal(err)
		}
	}
	_, _, _ = get(t, s, srv.URL+"/missing") // a 404
	problems, err := testutil.CollectAndLint(b.metrics)
	if err != nil {
		t.Fatalf("linting: %v", err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	if n := testutil.CollectAndCount(b.metrics); n < 7 {
		t.Errorf("collected %d series, want every family present", n)
	}
	if got := counterValue(t, b, "relais_connector_requests_total", map[string]string{"destination": "safe", "method": "GET", "code": "200"}); got != 3 {
		t.Errorf("requests_total{code=200} = %v, want 3", got)
	}
	if got := counterValue(t, b, "relais_connector_requests_total", map[string]string{"destination": "safe", "method": "POST", "code": "200"}); got != 1 {
		t.Errorf("token requests = %v, want 1", got)
	}
}

func TestNewMetricsTwiceOnOneRegistry(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	if a, b := connectors.NewMetrics(reg), connectors.NewMetrics(reg); a != b {
		t.Error("a second NewMetrics on the same registry built new metrics")
	}
}
