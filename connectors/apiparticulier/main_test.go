package apiparticulier_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/apiparticulier"
	"github.com/relais-dev/relais/connectors/clock"
	"github.com/relais-dev/relais/contracts/connectortest"
	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/engine"
	"github.com/relais-dev/relais/mapping/specs"
	mockapi "github.com/relais-dev/relais/mocks/apiparticulier"
	"github.com/relais-dev/relais/mocks/platform"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// recipient is the SIRET the tests send: the one the platform's
// documentation uses.
const recipient = "13002526500013"

// sandboxNow is a day the sandbox's data is current: its quotients
// familiaux of 2023 are within the two years the platform looks back.
var sandboxNow = time.Date(2024, 12, 16, 10, 0, 0, 0, time.UTC)

// bundle is what setup gives a test.
type bundle struct {
	clock  *clock.Fake
	mock   *mockapi.Server
	srv    *httptest.Server
	client *apiparticulier.Client
	reg    *prometheus.Registry
	logs   *connectortest.LogBuffer
}

// setup starts the mock platform (opts, on the bundle's clock unless
// opts.Now is set) and a connector to it with the sandbox token, fast retries and the platform's
// rate limit; tune adjusts the connector's configuration.
func setup(t testing.TB, opts mockapi.Options, tune func(*apiparticulier.Config)) *bundle {
	t.Helper()
	b := &bundle{clock: clock.NewFake(sandboxNow), reg: prometheus.NewRegistry(), logs: &connectortest.LogBuffer{}}
	if opts.Now == nil {
		opts.Now = b.clock.Now
	}
	b.mock = mockapi.New(opts)
	b.srv = httptest.NewServer(b.mock)
	t.Cleanup(b.srv.Close)
	b.client = b.newClient(t, tune, connectors.Deps{})
	return b
}

// newClient builds one more connector to the bundle's mock; deps' nil
// fields get the bundle's metrics, logger and clock.
func (b *bundle) newClient(t testing.TB, tune func(*apiparticulier.Config), deps connectors.Deps) *apiparticulier.Client {
	t.Helper()
	cfg := apiparticulier.Config{
		BaseURL: b.srv.URL + "/",
		Token:   mockapi.DefaultToken,
		Stack: connectors.StackConfig{
			Timeout: 5 * time.Second,
			Retry:   connectors.RetryConfig{Max: 1, WaitMin: time.Millisecond, WaitMax: 2 * time.Millisecond, MaxRetryAfter: 100 * time.Millisecond},
		},
	}
	if tune != nil {
		tune(&cfg)
	}
	if deps.Metrics == nil {
		deps.Metrics = connectors.NewMetrics(b.reg)
	}
	if deps.Logger == nil {
		deps.Logger = b.logs.Logger()
	}
	if deps.Now == nil {
		deps.Now = b.clock.Now
	}
	c, err := apiparticulier.New("apiparticulier", cfg, deps, apiparticulier.WithCatalog(catalog(t)))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// compiledCatalog is the specs, compiled once for every test.
var compiledCatalog = sync.OnceValues(func() (*engine.Catalog, error) { return specs.Compile("apiparticulier") })

func catalog(t testing.TB) *engine.Catalog {
	t.Helper()
	cat, err := compiledCatalog()
	if err != nil {
		t.Fatalf("compiling the specs: %v", err)
	}
	return cat
}

// setFaults replaces the mock's faults with rules.
func (b *bundle) setFaults(t testing.TB, rules ...platform.Rule) {
	t.Helper()
	if err := b.mock.SetFaults(platform.Faults{Rules: rules}); err != nil {
		t.Fatalf("setting the mock's faults: %v", err)
	}
}

// The sandbox's people, as the ESMS knows them.

// dupontSophie has a file at the CAF with every right the sandbox knows of
// (quotient familial, crèche figures, RSA, prime d'activité, ASF, AEEH,
// C2S) and four children.
func dupontSophie() mapping.Person {
	return mapping.Person{
		BirthFamilyName: "DUPONT", GivenNames: []string{"Sophie"}, Sex: mapping.SexFemale,
		BirthDate: "1982-09-03", BirthPlaceCOG: "13001", BirthCountryCOG: mapping.CountryFrance,
	}
}

// withFranceTravail adds a France Travail identifier to p.
func withFranceTravail(p mapping.Person, id string) mapping.Person {
	p.Identifiers = append(p.Identifiers, mapping.Identifier{System: apiparticulier.FranceTravailIDSystem, Value: id})
	return p
}

// nobody is a person no fund and no France Travail knows.
func nobody() mapping.Person {
	return withFranceTravail(mapping.Person{
		BirthFamilyName: "INCONNU", GivenNames: []string{"Personne"}, Sex: mapping.SexMale,
		BirthDate: "1970-01-01", BirthPlaceCOG: "75056", BirthCountryCOG: mapping.CountryFrance,
	}, "inconnu")
}

// query asks about p for the sandbox's recipient.
func query(p mapping.Person, ops ...string) *connectors.PullQuery {
	return &connectors.PullQuery{Person: p, Recipient: recipient, Operations: ops}
}

// countingHandler counts the requests that reach next.
type countingHandler struct {
	next http.Handler
	mu   sync.Mutex
	n    int
	last http.Header
}

func (h *countingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.n++
	h.last = r.Header.Clone()
	h.mu.Unlock()
	h.next.ServeHTTP(w, r)
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
