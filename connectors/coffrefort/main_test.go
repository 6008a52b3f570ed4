package coffrefort_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/clock"
	"github.com/relais-dev/relais/connectors/coffrefort"
	"github.com/relais-dev/relais/mapping"
	mockcoffrefort "github.com/relais-dev/relais/mocks/coffrefort"
	"github.com/relais-dev/relais/mocks/platform"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// bundle is what setup gives a test.
type bundle struct {
	clock  *clock.Fake
	mock   *mockcoffrefort.Server
	srv    *httptest.Server
	client *coffrefort.Client
	reg    *prometheus.Registry
}

// setup starts the mock safe (behind wrap, when given) and a connector to
// it with fast retries and a permissive rate limit.
func setup(t testing.TB, tune func(*coffrefort.Config), wrap func(http.Handler) http.Handler) *bundle {
	t.Helper()
	clock := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	mock := mockcoffrefort.New(mockcoffrefort.Options{Now: clock.Now, LogLimit: 10_000})
	var h http.Handler = mock
	if wrap != nil {
		h = wrap(mock)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	b := &bundle{clock: clock, mock: mock, srv: srv, reg: prometheus.NewRegistry()}
	b.client = newClient(t, b, tune)
	return b
}

// setFaults replaces the mock's faults with rules.
func (b *bundle) setFaults(t testing.TB, rules ...platform.Rule) {
	t.Helper()
	if err := b.mock.SetFaults(platform.Faults{Rules: rules}); err != nil {
		t.Fatalf("setting the mock's faults: %v", err)
	}
}

// newClient builds one more connector to the bundle's mock.
func newClient(t testing.TB, b *bundle, tune func(*coffrefort.Config)) *coffrefort.Client {
	t.Helper()
	cfg := coffrefort.Config{
		BaseURL:      b.srv.URL + "/",
		ClientID:     mockcoffrefort.DefaultClientID,
		ClientSecret: mockcoffrefort.DefaultClientSecret,
		Stack: connectors.StackConfig{
			RateLimit: connectors.RateLimitConfig{RequestsPerSecond: 1e6, Burst: 1000},
			Retry:     connectors.RetryConfig{Max: 2, WaitMin: time.Millisecond, WaitMax: 2 * time.Millisecond},
		},
	}
	if tune != nil {
		tune(&cfg)
	}
	c, err := coffrefort.New("coffrefort", cfg, connectors.Deps{
		Metrics: connectors.NewMetrics(b.reg),
		Logger:  slog.New(slog.DiscardHandler),
		Now:     b.clock.Now,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// delivery is a document deposit for the beneficiary distantID.
func delivery(key, distantID string, content []byte, vis mapping.Visibility) *connectors.Delivery {
	sum := sha256.Sum256(content)
	return &connectors.Delivery{
		ID:             "dlv-" + key,
		IdempotencyKey: key,
		Attempt:        1,
		Document: &connectors.DocumentDelivery{
			DocumentDeposit: mapping.DocumentDeposit{
				Beneficiary: mapping.Beneficiary{
					DistantID: distantID, FirstName: "Zoé", LastName: "N'Guessan-Lefèvre",
					BirthDate: "1987-11-23", Email: "zoe@example.org", Phone: "+33612345678",
				},
				Document: mapping.Document{
					Kind: "attestation", Title: "Attestation de domiciliation", FileName: "attestation.pdf",
					MediaType: "application/pdf", Size: int64(len(content)), SHA256: hex.EncodeToString(sum[:]),
					IssueDate: "2026-02-27", Visibility: vis,
				},
			},
			Open: func(context.Context) (io.ReadCloser, error) {
				return io.NopCloser(bytes.NewReader(content)), nil
			},
		},
	}
}

func pdf(n int) []byte {
	b := bytes.Repeat([]byte("%PDF-1.7 relais "), n/16+1)
	return b[:n]
}
