package francetravail_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/clock"
	"github.com/relais-dev/relais/connectors/francetravail"
	"github.com/relais-dev/relais/contracts/connectortest"
	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/engine"
	"github.com/relais-dev/relais/mapping/specs"
	mockft "github.com/relais-dev/relais/mocks/francetravail"
	"github.com/relais-dev/relais/mocks/platform"
)

// testCatalog compiles the specs once for every test of the package; a
// catalog is safe for concurrent use.
var testCatalog = sync.OnceValues(func() (*engine.Catalog, error) { return specs.Compile("francetravail") })

// catalog returns the shared compiled specs.
func catalog(t testing.TB) francetravail.Option {
	t.Helper()
	cat, err := testCatalog()
	if err != nil {
		t.Fatalf("compiling the specs: %v", err)
	}
	return francetravail.WithCatalog(cat)
}

// sandboxPaymentMonths reaches back to the sandbox payments (2024 and
// 2025) from the tests' clock (March 2026).
const sandboxPaymentMonths = 36

// courtet is the sandbox person Martine Courtet (123456A), with payments.
func courtet() mapping.Person {
	return mapping.Person{
		BirthFamilyName: "Courtet", GivenNames: []string{"Martine"}, Sex: mapping.SexFemale, BirthDate: "1990-01-06",
		BirthPlaceCOG: "31555", INS: &mapping.INS{Value: "290013155501226", System: mapping.INSSystemNIR},
	}
}

// fornaro has two files at France Travail (123462A and 123463A).
func fornaro() mapping.Person {
	return mapping.Person{
		BirthFamilyName: "Fornaro", GivenNames: []string{"Yoann"}, Sex: mapping.SexMale, BirthDate: "1992-08-15",
		BirthPlaceCOG: "31555", INS: &mapping.INS{Value: "192083155508913", System: mapping.INSSystemNIR},
	}
}

// unknown has a valid NIR nobody has.
func unknown() mapping.Person {
	return mapping.Person{
		BirthFamilyName: "Inconnu", GivenNames: []string{"Personne"}, Sex: mapping.SexMale, BirthDate: "1985-05-12",
		BirthPlaceCOG: "78006", INS: &mapping.INS{Value: "185057800608491", System: mapping.INSSystemNIR},
	}
}

func query(p mapping.Person, ops ...string) *connectors.PullQuery {
	return &connectors.PullQuery{Person: p, Operations: ops}
}

// bundle is what setup gives a test.
type bundle struct {
	clock  *clock.Fake
	mock   *mockft.Server
	srv    *httptest.Server
	source *francetravail.Client
	log    *connectortest.LogBuffer
	// requests are the requests the mock received.
	requests *requestLog
}

// setup starts the mock (its rate limit off unless tune sets one) and a
// source to it with fast retries, logging at debug level into a buffer.
func setup(t testing.TB, mockOpts mockft.Options, tune func(*francetravail.Config)) *bundle {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	if mockOpts.Now == nil {
		mockOpts.Now = clk.Now
	}
	if mockOpts.RateLimit == (platform.RateLimit{}) {
		mockOpts.RateLimit = platform.RateLimit{Limit: -1}
	}
	mock := mockft.New(mockOpts)
	reqs := &requestLog{}
	srv := httptest.NewServer(reqs.wrap(mock))
	t.Cleanup(srv.Close)
	b := &bundle{clock: clk, mock: mock, srv: srv, log: &connectortest.LogBuffer{}, requests: reqs}
	cfg := francetravail.Config{
		BaseURL:       srv.URL + "/",
		ClientID:      mockft.DefaultClientID,
		ClientSecret:  mockft.DefaultClientSecret,
		PaymentMonths: sandboxPaymentMonths,
		Stack: connectors.StackConfig{
			RateLimit: connectors.RateLimitConfig{RequestsPerSecond: 1e6, Burst: 1000},
			Retry:     connectors.RetryConfig{Max: 1, WaitMin: time.Millisecond, WaitMax: 2 * time.Millisecond},
		},
	}
	if tune != nil {
		tune(&cfg)
	}
	src, err := francetravail.New("francetravail", cfg, connectors.Deps{
		Metrics: connectors.NewMetrics(prometheus.NewRegistry()),
		Logger:  b.log.Logger(),
		Now:     clk.Now,
	}, catalog(t))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(src.CloseIdleConnections)
	b.source = src
	return b
}

func (b *bundle) setFaults(t testing.TB, rules ...platform.Rule) {
	t.Helper()
	if err := b.mock.Platform().SetFaults(platform.Faults{Rules: rules}); err != nil {
		t.Fatalf("setting the mock's faults: %v", err)
	}
}

// recorded is one request as the mock received it.
type recorded struct {
	method, uri string
	header      http.Header
}

// requestLog records every request the mock receives.
type requestLog struct {
	mu   sync.Mutex
	reqs []recorded
}

func (l *requestLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.reqs = append(l.reqs, recorded{method: r.Method, uri: r.URL.RequestURI(), header: r.Header.Clone()})
		l.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (l *requestLog) all() []recorded {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]recorded(nil), l.reqs...)
}

// contains reports whether s holds any of subs.
func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if sub != "" && strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
