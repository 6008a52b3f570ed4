package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/gateway"
	"github.com/relais-dev/relais/gateway/mandate"
	"github.com/relais-dev/relais/gateway/profile"
	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/gateway/vault"
	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mocks"
)

// LookupOptions shape one run of RunLookup.
type LookupOptions struct {
	// Driver is "sqlite" or "postgres"; DSN is required for postgres and
	// DataDir for sqlite.
	Driver, DSN, DataDir string
	// Rate is the open-loop lookup rate, per second. Default 200.
	Rate float64
	// Lookups is the number of lookups measured. Default 2000.
	Lookups int
	// Latencies are the sources' fixed latencies, one source each.
	// Default 20ms, 30ms, 50ms.
	Latencies []time.Duration
	// Timeout bounds the whole run. Default 5m.
	Timeout time.Duration
	Logger  *slog.Logger
}

func (o LookupOptions) withDefaults() LookupOptions {
	if o.Rate <= 0 {
		o.Rate = 200
	}
	if o.Lookups <= 0 {
		o.Lookups = 2000
	}
	if len(o.Latencies) == 0 {
		o.Latencies = []time.Duration{20 * time.Millisecond, 30 * time.Millisecond, 50 * time.Millisecond}
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// LookupResult is what one run of RunLookup measured.
type LookupResult struct {
	Driver  string  `json:"driver"`
	Lookups int     `json:"lookups"`
	Rate    float64 `json:"rate"`
	// Achieved is the rate the lookups were sent at.
	Achieved float64 `json:"achieved_rate"`
	// Latencies are the sources' fixed latencies; Slowest the largest.
	Latencies []time.Duration `json:"source_latencies"`
	Slowest   time.Duration   `json:"slowest_source"`
	// P50, P99 and Max are the lookups' latencies as the client saw them.
	P50 time.Duration `json:"p50"`
	P99 time.Duration `json:"p99"`
	Max time.Duration `json:"max"`
	// OverheadP50 and OverheadP99 are Relais's share: a lookup's latency
	// less the slowest source's.
	OverheadP50 time.Duration `json:"overhead_p50"`
	OverheadP99 time.Duration `json:"overhead_p99"`
	// Incomplete counts the lookups that did not get every source's data:
	// must be 0.
	Incomplete int `json:"incomplete"`
}

func (r LookupResult) String() string {
	lat := make([]string, len(r.Latencies))
	for i, d := range r.Latencies {
		lat[i] = d.String()
	}
	round := func(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }
	return fmt.Sprintf("%s: %d lookups at %.0f/s (sent at %.0f/s), %d sources (%s): latency p50 %v, p99 %v, max %v; "+
		"overhead over the slowest source p50 %v, p99 %v; incomplete %d",
		r.Driver, r.Lookups, r.Rate, r.Achieved, len(r.Latencies), strings.Join(lat, ", "),
		round(r.P50), round(r.P99), round(r.Max), round(r.OverheadP50), round(r.OverheadP99), r.Incomplete)
}

// benchSIRET is the bench tenant's SIRET, sent to the sources as the
// recipient.
const benchSIRET = "13002526500013"

// RunLookup measures profile lookups end to end on the gateway `relais
// serve` runs, built by gateway.New: the HTTP API, the mandate check, the
// sources called in parallel through the connectors' transport stack
// (with the store's shared rate limiter on PostgreSQL, set out of reach),
// the prefill sealed and stored, the accesses journaled. The sources are
// mock platforms on loopback that answer after a fixed latency each,
// injected in place of the configured ones (gateway.Deps.Pullers): API
// Particulier's own limit, 20 requests a second per token, would
// otherwise be all a run measured. Lookups go out open loop at Rate, so a
// slow answer does not slow the load down.
func RunLookup(ctx context.Context, o LookupOptions) (LookupResult, error) {
	o = o.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	res := LookupResult{Driver: o.Driver, Lookups: o.Lookups, Rate: o.Rate, Latencies: o.Latencies, Slowest: slices.Max(o.Latencies)}

	sources := newBenchSources(o.Latencies)
	platforms, err := mocks.Serve("sources", "127.0.0.1:0", sources)
	if err != nil {
		return res, err
	}
	defer func() { _ = platforms.Stop(context.WithoutCancel(ctx)) }()

	dsn, drop, err := benchDatabase(ctx, o.Driver, o.DSN, filepath.Join(o.DataDir, "lookup.db"))
	if err != nil {
		return res, err
	}
	defer func() { _ = drop(context.WithoutCancel(ctx)) }()
	closePullers := func() {}
	defer func() { closePullers() }()
	gw, err := gateway.New(ctx, gateway.Config{
		Listen:     "127.0.0.1:0",
		Store:      gateway.StoreConfig{Driver: o.Driver, DSN: connectors.Secret(dsn), MaxConns: 40},
		Encryption: gateway.EncryptionConfig{Keys: connectors.Secret(vault.GenerateKeySpec("bench"))},
		Mandates:   gateway.MandatesConfig{PersonKey: "relais-bench-person-key-0123456789abcdef"},
	}, gateway.Deps{
		Registry: prometheus.NewRegistry(), Logger: o.Logger,
		Pullers: func(d connectors.Deps) ([]connectors.Puller, error) {
			pullers, closeAll, err := sources.pullers(platforms.URL, d)
			if err == nil {
				closePullers = closeAll
			}
			return pullers, err
		},
	})
	if err != nil {
		return res, fmt.Errorf("building the gateway: %w", err)
	}
	defer func() { _ = gw.Stop(context.WithoutCancel(ctx)) }()
	if err := gw.Start(ctx, true); err != nil {
		return res, fmt.Errorf("starting the gateway: %w", err)
	}
	st := gw.Store()

	tenant, err := st.CreateTenant(ctx, store.NewTenant{Name: "bench", SIRET: benchSIRET}, "bench")
	if err != nil {
		return res, err
	}
	_, secret, err := st.CreateTenantKey(ctx, tenant.ID, "bench", "bench")
	if err != nil {
		return res, err
	}
	transport := &http.Transport{MaxIdleConnsPerHost: 256}
	defer transport.CloseIdleConnections()
	c := &lookupClient{base: "http://" + gw.Addr(), key: secret, http: &http.Client{Transport: transport, Timeout: time.Minute}}
	if c.body, err = c.lookupBody(ctx, sources); err != nil {
		return res, err
	}

	// Warm up: connections, caches, the first rows of each table.
	for i := range 20 {
		if _, complete, err := c.lookup(ctx); err != nil || !complete {
			return res, fmt.Errorf("warm-up lookup %d: complete %v: %w", i, complete, err)
		}
	}

	incomplete := make([]bool, o.Lookups)
	start := time.Now()
	lat, err := openLoop(ctx, o.Lookups, o.Rate, func(ctx context.Context, i int) (time.Duration, error) {
		took, complete, err := c.lookup(ctx)
		incomplete[i] = !complete
		return took, err
	})
	if err != nil {
		return res, err
	}
	res.Achieved = float64(o.Lookups) / time.Since(start).Seconds()
	for _, no := range incomplete {
		if no {
			res.Incomplete++
		}
	}
	res.P50, res.P99, res.Max = quantiles(lat)
	res.OverheadP50, res.OverheadP99 = res.P50-res.Slowest, res.P99-res.Slowest
	return res, nil
}

// benchSource is one mock platform of a lookup run: one operation,
// answered after a fixed latency with the same data every time.
type benchSource struct {
	name    string
	op      connectors.PullOperation
	latency time.Duration
	answer  []byte
}

// benchSources are the mock platforms of a run, served on one port under
// /{name}/{operation}.
type benchSources []benchSource

// benchPerson is the person looked up. Her data comes from three
// platforms: the CAF (her household and family quotient), the MSA (a
// benefit) and France Travail (her registration).
var benchPerson = mapping.Person{
	BirthFamilyName: "LEFEVRE-QUINTAVAL", GivenNames: []string{"ZOELIE", "MARIE-HELENE"}, Sex: mapping.SexFemale,
	BirthDate: "1948-03-14", BirthCountryCOG: "99134",
}

// newBenchSources gives each latency a source, the kinds of data taking
// turns: CAF, MSA, France Travail, then again with a number.
func newBenchSources(latencies []time.Duration) benchSources {
	period := mapping.BenefitPeriod{Year: 2026, Month: 3}
	kinds := []struct {
		name string
		op   connectors.PullOperation
		data any
	}{
		{"caf", connectors.PullOperation{Name: "quotient_familial", Demarche: mapping.DemarcheFamille, Category: mapping.DataHousehold},
			benchAnswer{Identity: &benchPerson, Provider: mapping.ProviderCNAF,
				Household: &mapping.Household{Allocataires: []mapping.Person{benchPerson}, Address: &mapping.Address{PostalCodeCity: "75002 PARIS"}},
				Benefits:  []mapping.Benefit{mapping.NewQuotientFamilial(mapping.ProviderCNAF, 987.65, period)}}},
		{"msa", connectors.PullOperation{Name: "prime_activite", Demarche: mapping.DemarcheSocial, Category: mapping.DataBenefit},
			benchAnswer{Identity: &benchPerson, Provider: mapping.ProviderMSA,
				Benefits: []mapping.Benefit{{Kind: mapping.KindPrimeActivite, Provider: mapping.ProviderMSA, Status: mapping.StatusNotBeneficiary, Period: period}}}},
		{"francetravail", connectors.PullOperation{Name: "france_travail_statut", Demarche: mapping.DemarcheTravail, Category: mapping.DataEmployment},
			benchAnswer{Provider: mapping.ProviderFranceTravail, Employment: &mapping.EmploymentRegistration{Identifier: "4412345A", StartDate: "2025-11-03"}}},
	}
	out := make(benchSources, len(latencies))
	for i, d := range latencies {
		k := kinds[i%len(kinds)]
		name := k.name
		if i >= len(kinds) {
			name = fmt.Sprintf("%s%d", k.name, i/len(kinds)+1)
		}
		body, _ := json.Marshal(k.data) // plain data: cannot fail
		out[i] = benchSource{name: name, op: k.op, latency: d, answer: body}
	}
	return out
}

// benchAnswer is a mock platform's answer: the canonical data itself.
type benchAnswer struct {
	Identity   *mapping.Person                 `json:"identity,omitempty"`
	Household  *mapping.Household              `json:"household,omitempty"`
	Benefits   []mapping.Benefit               `json:"benefits,omitempty"`
	Employment *mapping.EmploymentRegistration `json:"employment,omitempty"`
	Provider   mapping.Provider                `json:"provider"`
}

// ServeHTTP answers POST /{name}/{operation} after the source's latency.
func (s benchSources) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, op, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	i := slices.IndexFunc(s, func(src benchSource) bool { return src.name == name && src.op.Name == op })
	if i < 0 || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	_, _ = io.Copy(io.Discard, r.Body)
	t := time.NewTimer(s[i].latency)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(s[i].answer)
}

// pullers are the sources' pullers, each on its own transport stack, and
// a function that closes their idle connections.
func (s benchSources) pullers(baseURL string, deps connectors.Deps) ([]connectors.Puller, func(), error) {
	out := make([]connectors.Puller, len(s))
	stacks := make([]*connectors.Stack, 0, len(s))
	closeAll := func() {
		for _, st := range stacks {
			st.CloseIdleConnections()
		}
	}
	for i, src := range s {
		st, err := connectors.NewStack(src.name, connectors.StackConfig{
			Timeout: 10 * time.Second,
			// The limit is not what a run measures.
			RateLimit: connectors.RateLimitConfig{RequestsPerSecond: 1e6, Burst: 1e6},
		}.WithDefaults(), deps)
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("building the stack of source %s: %w", src.name, err)
		}
		stacks = append(stacks, st)
		out[i] = &benchPuller{src: src, url: baseURL + "/" + src.name + "/" + src.op.Name, stack: st}
	}
	return out, closeAll, nil
}

// benchPuller pulls a benchSource's one operation.
type benchPuller struct {
	src   benchSource
	url   string
	stack *connectors.Stack
}

var _ connectors.Puller = (*benchPuller)(nil)

func (p *benchPuller) Name() string { return p.src.name }
func (p *benchPuller) Operations() []connectors.PullOperation {
	return []connectors.PullOperation{p.src.op}
}
func (p *benchPuller) Status() connectors.Status { return p.stack.Status() }

// Pull sends the person in the body and reads the canonical data back.
func (p *benchPuller) Pull(ctx context.Context, q *connectors.PullQuery) ([]connectors.PullItem, error) {
	body, err := json.Marshal(q.Person)
	if err != nil {
		return nil, fmt.Errorf("encoding person: %w", errors.Join(connectors.ErrInvalidQuery, err))
	}
	item := connectors.PullItem{Operation: p.src.op.Name}
	resp, err := p.stack.Do(ctx, p.src.op.Name, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return req, err
	})
	if err != nil {
		item.Err = err
		return []connectors.PullItem{item}, nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		item.Err = connectors.Classify(resp, p.src.op.Name, time.Now())
		return []connectors.PullItem{item}, nil
	}
	var a benchAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		item.Err = &connectors.Error{Class: connectors.Permanent, Op: p.src.op.Name, Status: resp.StatusCode, Err: err}
		return []connectors.PullItem{item}, nil
	}
	item.Identity, item.Household, item.Benefits, item.Employment, item.Provider = a.Identity, a.Household, a.Benefits, a.Employment, a.Provider
	item.FetchedAt = time.Now()
	return []connectors.PullItem{item}, nil
}

// lookupClient sends lookups to the API.
type lookupClient struct {
	base, key string
	http      *http.Client
	body      []byte
}

// lookupBody records a mandate covering every source's démarche and
// returns the body of a lookup of every source under it.
func (c *lookupClient) lookupBody(ctx context.Context, sources benchSources) ([]byte, error) {
	var demarches []mapping.Demarche
	var asked []profile.SourceRequest
	for _, s := range sources {
		if !slices.Contains(demarches, s.op.Demarche) {
			demarches = append(demarches, s.op.Demarche)
		}
		asked = append(asked, profile.SourceRequest{Name: s.name})
	}
	person, ok := profile.BasisPerson(benchPerson)
	if !ok {
		return nil, errors.New("the bench person cannot hold a mandate")
	}
	raw, _ := json.Marshal(map[string]any{
		"professional": mandate.Professional{ID: "bench", Name: "Camille Martin"}, "person": person,
		"demarches": demarches, "duration_days": 31, "consent_method": "in_person", "attestation_sha256": strings.Repeat("ab", 32),
	})
	var m struct {
		ID string `json:"id"`
	}
	status, answer, err := c.post(ctx, "/v1/mandates", raw)
	if err != nil {
		return nil, err
	}
	if status != http.StatusCreated || json.Unmarshal(answer, &m) != nil || m.ID == "" {
		return nil, fmt.Errorf("creating the bench mandate: HTTP %d: %s", status, answer)
	}
	return json.Marshal(profile.Request{Identity: benchPerson, MandateID: m.ID, Sources: asked})
}

// lookup runs one lookup and returns how long it took and whether every
// source answered ok.
func (c *lookupClient) lookup(ctx context.Context) (time.Duration, bool, error) {
	start := time.Now()
	status, answer, err := c.post(ctx, "/v1/profiles:lookup", c.body)
	took := time.Since(start)
	if err != nil {
		return took, false, err
	}
	if status != http.StatusCreated && status != http.StatusOK {
		return took, false, fmt.Errorf("lookup: HTTP %d: %s", status, answer)
	}
	var p struct {
		Complete bool `json:"complete"`
	}
	if err := json.Unmarshal(answer, &p); err != nil {
		return took, false, fmt.Errorf("decoding the lookup's answer: %w", err)
	}
	return took, p.Complete, nil
}

func (c *lookupClient) post(ctx context.Context, path string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("posting %s: %w", path, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("reading the answer to %s: %w", path, err)
	}
	return resp.StatusCode, answer, nil
}
