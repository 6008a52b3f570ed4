package loadtest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/coffrefort"
	"github.com/relais-dev/relais/gateway"
	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/gateway/vault"
	"github.com/relais-dev/relais/mocks"
	mockcoffrefort "github.com/relais-dev/relais/mocks/coffrefort"
)

// Options shape one run.
type Options struct {
	// Driver is "sqlite" or "postgres"; DSN is required for postgres and
	// DataDir for sqlite.
	Driver, DSN, DataDir string
	// Submissions is the size of the throughput phase. Default 5000.
	Submissions int
	// Clients is the number of concurrent clients of the throughput phase.
	// Default 32.
	Clients int
	// Rate is the open-loop submission rate of the latency phase, per
	// second. Default 300.
	Rate float64
	// LatencySubmissions is the size of the latency phase. Default 3000.
	LatencySubmissions int
	// Workers is the number of delivery workers. Default 100.
	Workers int
	// DocumentSize is the content size of each submission. Default 4 KiB.
	DocumentSize int
	// Beneficiaries is how many distinct persons the documents are for.
	// Default 200.
	Beneficiaries int
	// Timeout bounds the whole run. Default 10m.
	Timeout time.Duration
	Logger  *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Submissions <= 0 {
		o.Submissions = 5000
	}
	if o.Clients <= 0 {
		o.Clients = 32
	}
	if o.Rate <= 0 {
		o.Rate = 300
	}
	if o.LatencySubmissions <= 0 {
		o.LatencySubmissions = 3000
	}
	if o.Workers <= 0 {
		o.Workers = 100
	}
	if o.DocumentSize <= 0 {
		o.DocumentSize = 4 << 10
	}
	if o.Beneficiaries <= 0 {
		o.Beneficiaries = 200
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Result is what one run measured.
type Result struct {
	Driver string `json:"driver"`
	// Throughput phase.
	Submissions     int     `json:"submissions"`
	AcceptedPerSec  float64 `json:"accepted_per_sec"`
	DeliveredPerSec float64 `json:"delivered_per_sec"`
	// Latency phase, open loop at Rate.
	Rate      float64       `json:"rate"`
	AcceptP50 time.Duration `json:"accept_p50"`
	AcceptP99 time.Duration `json:"accept_p99"`
	AcceptMax time.Duration `json:"accept_max"`
	// Duplicates is the number of documents the mock created more than once
	// for one idempotency key: must be 0.
	Duplicates int `json:"duplicates"`
}

func (r Result) String() string {
	return fmt.Sprintf("%s: %d submissions, accepted %.0f/s, delivered %.0f/s end to end; accept latency at %.0f/s: p50 %v, p99 %v, max %v; duplicates %d",
		r.Driver, r.Submissions, r.AcceptedPerSec, r.DeliveredPerSec, r.Rate,
		r.AcceptP50.Round(10*time.Microsecond), r.AcceptP99.Round(10*time.Microsecond), r.AcceptMax.Round(10*time.Microsecond), r.Duplicates)
}

// Run starts a mock safe and a gateway and measures them.
func Run(ctx context.Context, o Options) (Result, error) {
	o = o.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()

	mock := mockcoffrefort.New(mockcoffrefort.Options{})
	safe, err := mocks.Serve("coffrefort", "127.0.0.1:0", mock)
	if err != nil {
		return Result{}, err
	}
	defer func() { _ = safe.Stop(context.WithoutCancel(ctx)) }()

	dsn, drop, err := benchDatabase(ctx, o.Driver, o.DSN, filepath.Join(o.DataDir, "bench.db"))
	if err != nil {
		return Result{}, err
	}
	defer func() { _ = drop(context.WithoutCancel(ctx)) }()
	cfg := gateway.Config{
		Listen:     "127.0.0.1:0",
		Store:      gateway.StoreConfig{Driver: o.Driver, DSN: connectors.Secret(dsn), MaxConns: 40},
		Encryption: gateway.EncryptionConfig{Keys: connectors.Secret(vault.GenerateKeySpec("bench"))},
		Queue:      gateway.QueueConfig{Workers: o.Workers, FetchCooldown: 5 * time.Millisecond, FetchPollInterval: 50 * time.Millisecond},
		Connectors: gateway.ConnectorsConfig{Coffrefort: &coffrefort.Config{
			BaseURL: safe.URL, ClientID: "relais-sandbox", ClientSecret: "relais-sandbox-secret",
			Stack: connectors.StackConfig{RateLimit: connectors.RateLimitConfig{RequestsPerSecond: 1e6, Burst: 10000}},
		}},
	}
	g, err := gateway.New(ctx, cfg, gateway.Deps{Logger: o.Logger})
	if err != nil {
		return Result{}, err
	}
	defer func() { _ = g.Stop(context.WithoutCancel(ctx)) }()
	if err := g.Start(ctx, true); err != nil {
		return Result{}, err
	}
	tenant, err := g.Store().EnsureTenant(ctx, "bench")
	if err != nil {
		return Result{}, err
	}
	_, secret, err := g.Store().CreateAPIKey(ctx, tenant.ID, "bench", "")
	if err != nil {
		return Result{}, err
	}
	c := &client{
		base: "http://" + g.Addr(), key: secret, content: base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("%PDF"), o.DocumentSize/4)),
		http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.Clients + 64}, Timeout: time.Minute}, beneficiaries: o.Beneficiaries,
	}
	res := Result{Driver: o.Driver, Submissions: o.Submissions, Rate: o.Rate}

	// Throughput phase: closed loop, Clients at a time.
	start := time.Now()
	if err := c.closedLoop(ctx, "t", o.Submissions, o.Clients); err != nil {
		return res, err
	}
	res.AcceptedPerSec = float64(o.Submissions) / time.Since(start).Seconds()
	if err := waitDocuments(ctx, mock, o.Submissions); err != nil {
		return res, err
	}
	res.DeliveredPerSec = float64(o.Submissions) / time.Since(start).Seconds()

	// Latency phase: open loop at Rate, deliveries running alongside.
	lat, err := openLoop(ctx, o.LatencySubmissions, o.Rate, func(ctx context.Context, i int) (time.Duration, error) {
		return c.submit(ctx, "l", i)
	})
	if err != nil {
		return res, err
	}
	res.AcceptP50, res.AcceptP99, res.AcceptMax = quantiles(lat)
	if err := waitDocuments(ctx, mock, o.Submissions+o.LatencySubmissions); err != nil {
		return res, err
	}
	for _, n := range mock.CreatedPerKey() {
		if n > 1 {
			res.Duplicates += n - 1
		}
	}
	return res, nil
}

// benchDatabase is the store of a run: the SQLite file sqlitePath, or a
// fresh PostgreSQL database on the server of dsn, so that nothing left from
// a previous run skews it. drop removes the PostgreSQL one.
func benchDatabase(ctx context.Context, driver, dsn, sqlitePath string) (string, func(context.Context) error, error) {
	if driver != "postgres" {
		return sqlitePath, func(context.Context) error { return nil }, nil
	}
	return store.CreateTempDatabase(ctx, dsn, "relais_bench")
}

// quantiles sorts lat and returns its median, 99th percentile and maximum.
func quantiles(lat []time.Duration) (p50, p99, maxLat time.Duration) {
	slices.Sort(lat)
	return lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]
}

func waitDocuments(ctx context.Context, mock *mockcoffrefort.Server, want int) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if got := int(mock.Stats().Documents); got >= want {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d documents at the mock (got %d): %w", want, mock.Stats().Documents, ctx.Err())
		case <-tick.C:
		}
	}
}

type client struct {
	base, key, content string
	http               *http.Client
	beneficiaries      int
}

// Submit posts submission number i and returns how long the accept took.
func (c *client) submit(ctx context.Context, prefix string, i int) (time.Duration, error) {
	body, _ := json.Marshal(map[string]any{
		"destinations": []string{"coffrefort"},
		"document_deposit": map[string]any{
			"beneficiary": map[string]any{
				"distant_id": fmt.Sprintf("usager-%05d", i%c.beneficiaries), "first_name": "Zoé", "last_name": "Lefèvre-Nguyen", "birth_date": "1990-02-28",
			},
			"document": map[string]any{"kind": "attestation", "title": "Attestation", "file_name": "a.pdf", "media_type": "application/pdf", "visibility": "private"},
			"content":  c.content,
		},
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/v1/submissions", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", fmt.Sprintf("bench-%s-%d", prefix, i))
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("posting submission: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	took := time.Since(start)
	if resp.StatusCode != http.StatusAccepted {
		return took, fmt.Errorf("submission %d: HTTP %d", i, resp.StatusCode)
	}
	return took, nil
}

func (c *client) closedLoop(ctx context.Context, prefix string, n, clients int) error {
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		errs = make(chan error, clients)
	)
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				if _, err := c.submit(ctx, prefix, i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return errors.Join(<-errs, ctx.Err())
}

// openLoop calls do n times at rate per second, each call in its own
// goroutine, whatever the earlier ones take, and returns how long each
// took, by index, and the first error.
func openLoop(ctx context.Context, n int, rate float64, do func(ctx context.Context, i int) (time.Duration, error)) ([]time.Duration, error) {
	lat := make([]time.Duration, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	for i := range n {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			select {
			case <-ctx.Done():
				wg.Wait()
				return nil, ctx.Err()
			case <-time.After(d):
			}
		}
		wg.Go(func() {
			took, err := do(ctx, i)
			lat[i] = took
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	return lat, <-errs
}
