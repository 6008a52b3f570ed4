package connectors_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/clock"
	"github.com/relais-dev/relais/contracts/connectortest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// bundle is what setup gives a test.
type bundle struct {
	reg     *prometheus.Registry
	metrics *connectors.Metrics
	logs    *connectortest.LogBuffer
	clock   *clock.Fake
	deps    connectors.Deps
}

func setup(t *testing.T) *bundle {
	t.Helper()
	reg := prometheus.NewRegistry()
	logs := &connectortest.LogBuffer{}
	clock := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	m := connectors.NewMetrics(reg)
	return &bundle{
		reg: reg, metrics: m, logs: logs, clock: clock,
		deps: connectors.Deps{
			Metrics: m,
			Logger:  logs.Logger(),
			Now:     clock.Now,
		},
	}
}

// newServer starts an httptest server closed at the end of the test.
func newServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func newServerB(b *testing.B, h http.Handler) *httptest.Server {
	b.Helper()
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	return srv
}

// newStack builds a stack whose idle connections are closed at the end of
// the test.
func newStack(t *testing.T, name string, cfg connectors.StackConfig, deps connectors.Deps) *connectors.Stack {
	t.Helper()
	s, err := connectors.NewStack(name, cfg, deps)
	if err != nil {
		t.Fatalf("NewStack: %v", err)
	}
	t.Cleanup(s.CloseIdleConnections)
	return s
}

// get sends a GET through the stack and returns the status and body.
func get(t *testing.T, s *connectors.Stack, url string) (int, string, error) {
	t.Helper()
	return send(t, s, http.MethodGet, url, nil)
}

func send(t *testing.T, s *connectors.Stack, method, url string, body []byte) (int, string, error) {
	t.Helper()
	resp, err := s.Do(context.Background(), "testing", func(ctx context.Context) (*http.Request, error) {
		var r io.Reader
		if body != nil {
			r = bytes.NewReader(body)
		}
		return http.NewRequestWithContext(ctx, method, url, r)
	})
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return resp.StatusCode, string(b), nil
}

// eventually polls cond every few milliseconds for at most 5s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
