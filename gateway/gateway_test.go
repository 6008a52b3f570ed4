package gateway_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/coffrefort"
	"github.com/relais-dev/relais/gateway"
	"github.com/relais-dev/relais/gateway/store/storetest"
	"github.com/relais-dev/relais/gateway/vault"
	mockcoffrefort "github.com/relais-dev/relais/mocks/coffrefort"
	"github.com/relais-dev/relais/mocks/platform"
)

// bundle is a gateway wired like the sandbox: the mock safe over real HTTP,
// the gateway's API over real HTTP.
type bundle struct {
	gw   *gateway.Gateway
	mock *mockcoffrefort.Server
	api  *httptest.Server
	key  string
	reg  *prometheus.Registry
}

func setup(t *testing.T, driver string, tweak func(*gateway.Config)) *bundle {
	t.Helper()
	mock := mockcoffrefort.New(mockcoffrefort.Options{})
	safe := httptest.NewServer(mock)
	t.Cleanup(safe.Close)

	cfg := gateway.Config{
		Store:      gateway.StoreConfig{Driver: driver, DSN: connectors.Secret(storetest.DSN(t, driver))},
		Encryption: gateway.EncryptionConfig{Keys: connectors.Secret(vault.GenerateKeySpec("e2e"))},
		Queue:      gateway.QueueConfig{Workers: 20, FetchCooldown: 5 * time.Millisecond, FetchPollInterval: 20 * time.Millisecond},
		Connectors: gateway.ConnectorsConfig{Coffrefort: &coffrefort.Config{
			BaseURL: safe.URL, ClientID: "relais-sandbox", ClientSecret: "relais-sandbox-secret",
			Stack: connectors.StackConfig{RateLimit: connectors.RateLimitConfig{RequestsPerSecond: 10000, Burst: 1000}},
		}},
	}
	if tweak != nil {
		tweak(&cfg)
	}
	reg := prometheus.NewRegistry()
	ctx := context.Background()
	gw := startGateway(t, cfg, gateway.Deps{Registry: reg})
	api := httptest.NewServer(gw.Handler())
	t.Cleanup(api.Close)
	tenant, err := gw.Store().EnsureTenant(ctx, "e2e")
	if err != nil {
		t.Fatalf("creating tenant: %v", err)
	}
	_, key, err := gw.Store().CreateAPIKey(ctx, tenant.ID, "e2e", "")
	if err != nil {
		t.Fatalf("creating key: %v", err)
	}
	return &bundle{gw: gw, mock: mock, api: api, key: key, reg: reg}
}

// startGateway builds and starts a gateway without its own listener (the
// test serves its Handler), stopped at cleanup.
func startGateway(t *testing.T, cfg gateway.Config, deps gateway.Deps) *gateway.Gateway {
	t.Helper()
	ctx := context.Background()
	gw, err := gateway.New(ctx, cfg, deps)
	if err != nil {
		t.Fatalf("building gateway: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := gw.Stop(ctx); err != nil {
			t.Errorf("stopping gateway: %v", err)
		}
	})
	if err := gw.Start(ctx, false); err != nil {
		t.Fatalf("starting gateway: %v", err)
	}
	return gw
}

func content(i int) []byte {
	return fmt.Appendf(nil, "%%PDF-1.4 document %d %s", i, strings.Repeat("x", 1000+i%300))
}

func submissionBody(i int) []byte {
	body, _ := json.Marshal(map[string]any{
		"destinations": []string{"coffrefort"},
		"document_deposit": map[string]any{
			"beneficiary": map[string]any{
				"distant_id": fmt.Sprintf("usager-%03d", i%37), "first_name": "Anaïs", "last_name": "Le Goff-Diallo", "birth_date": "1979-11-05",
			},
			"document": map[string]any{
				"kind": "attestation", "title": fmt.Sprintf("Attestation %d", i), "file_name": "attestation.pdf",
				"media_type": "application/pdf", "visibility": []string{"private", "shared"}[i%2],
			},
			"content": base64.StdEncoding.EncodeToString(content(i)),
		},
	})
	return body
}

// submit posts submission i and returns its id.
func (b *bundle) submit(t *testing.T, i int) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.api.URL+"/v1/submissions", bytes.NewReader(submissionBody(i)))
	req.Header.Set("Authorization", "Bearer "+b.key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", fmt.Sprintf("e2e-%d", i))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("posting submission %d: %v", i, err)
		return ""
	}
	defer resp.Body.Close()
	var out struct {
		ID         string `json:"id"`
		Deliveries []struct{ ID string }
	}
	if resp.StatusCode != http.StatusAccepted {
		raw, _ := io.ReadAll(resp.Body)
		t.Errorf("submission %d: HTTP %d: %s", i, resp.StatusCode, raw)
		return ""
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.ID == "" || len(out.Deliveries) != 1 {
		t.Errorf("submission %d: bad 202 body: %+v, %v", i, out, err)
	}
	return out.ID
}

func (b *bundle) submitMany(t *testing.T, from, n, clients int) []string {
	t.Helper()
	ids := make([]string, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range clients {
		wg.Go(func() {
			for i := range next {
				ids[i-from] = b.submit(t, i)
			}
		})
	}
	for i := from; i < from+n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return ids
}

type submissionView struct {
	ID         string `json:"id"`
	Deliveries []struct {
		ID        string          `json:"id"`
		Status    string          `json:"status"`
		Attempts  int             `json:"attempts"`
		LastError json.RawMessage `json:"last_error"`
		Receipt   *struct {
			RemoteID string    `json:"remote_id"`
			At       time.Time `json:"at"`
		} `json:"receipt"`
	} `json:"deliveries"`
}

func (b *bundle) get(t *testing.T, path string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.api.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+b.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("GET %s: decoding: %v", path, err)
		}
	}
	return resp.StatusCode
}

// waitStatus polls the submission until its delivery reaches one of the
// statuses, within timeout.
func (b *bundle) waitStatus(t *testing.T, id string, timeout time.Duration, statuses ...string) submissionView {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var v submissionView
		b.get(t, "/v1/submissions/"+id, &v)
		for _, s := range statuses {
			if len(v.Deliveries) == 1 && v.Deliveries[0].Status == s {
				return v
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("submission %s: delivery still %+v after %v, want %v", id, v.Deliveries, timeout, statuses)
		}
		time.Sleep(20 * time.Millisecond) // bounded poll
	}
}

// waitDocuments polls the mock until it holds n documents.
func waitDocuments(t *testing.T, mock *mockcoffrefort.Server, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for mock.Stats().Documents < int64(n) {
		if time.Now().After(deadline) {
			t.Fatalf("the mock holds %d documents after %v, want %d", mock.Stats().Documents, timeout, n)
		}
		time.Sleep(20 * time.Millisecond) // bounded poll
	}
}

// setFaults replaces the mock's faults with rules.
func setFaults(t *testing.T, mock *mockcoffrefort.Server, rules ...platform.Rule) {
	t.Helper()
	if err := mock.SetFaults(platform.Faults{Rules: rules}); err != nil {
		t.Fatalf("setting the mock's faults: %v", err)
	}
}

func assertExactlyOnce(t *testing.T, mock *mockcoffrefort.Server, n int) {
	t.Helper()
	created := mock.CreatedPerKey()
	docs := 0
	for key, c := range created {
		if strings.HasSuffix(key, ":beneficiary") {
			continue
		}
		docs++
		if c != 1 {
			t.Errorf("idempotency key %s: %d documents created, want 1", key, c)
		}
	}
	if docs != n || mock.Stats().Documents != int64(n) {
		t.Fatalf("mock created %d documents under %d keys, want %d", mock.Stats().Documents, docs, n)
	}
}

func TestEndToEnd(t *testing.T) {
	t.Parallel()
	for _, driver := range storetest.Drivers {
		t.Run(storetest.Name(driver), func(t *testing.T) {
			t.Parallel()
			b := setup(t, driver, nil)
			const n = 200
			ids := b.submitMany(t, 0, n, 8)
			waitDocuments(t, b.mock, n, time.Minute)
			assertExactlyOnce(t, b.mock, n)

			byHash := map[string]bool{}
			for _, d := range b.mock.Documents() {
				byHash[d.SHA256] = true
			}
			for i, id := range ids {
				v := b.waitStatus(t, id, 10*time.Second, "delivered")
				d := v.Deliveries[0]
				if d.Attempts != 1 || d.Receipt == nil || d.Receipt.RemoteID == "" || d.Receipt.At.IsZero() {
					t.Fatalf("submission %d: delivered without a receipt: %+v", i, d)
				}
				sum := sha256.Sum256(content(i))
				if !byHash[hex.EncodeToString(sum[:])] {
					t.Fatalf("submission %d: the mock holds no document with its SHA-256", i)
				}
			}
			if got := counterValue(t, b.reg, "relais_delivery_outcomes_total", "outcome", "delivered"); got != n {
				t.Errorf("relais_delivery_outcomes_total{outcome=delivered} = %v, want %d", got, n)
			}
			entries, err := b.gw.Store().Journal(context.Background(), "", 0, 10*n)
			if err != nil {
				t.Fatalf("reading journal: %v", err)
			}
			ops := map[string]int{}
			for _, e := range entries {
				ops[e.Operation+"/"+e.Outcome]++
				if raw, _ := json.Marshal(e); strings.Contains(string(raw), "Anaïs") || strings.Contains(string(raw), "Goff") {
					t.Fatalf("journal entry %d holds personal data: %s", e.Seq, raw)
				}
			}
			if ops["submission.accept/accepted"] != n || ops["delivery.attempt/delivered"] != n {
				t.Errorf("journal: %v", ops)
			}
			problems, err := testutil.GatherAndLint(b.reg)
			if err != nil || len(problems) > 0 {
				t.Errorf("metrics lint: %v %+v", err, problems)
			}
		})
	}
}

// counterValue sums the samples of counter family name whose label has
// value.
func counterValue(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gathering metrics: %v", err)
	}
	total := 0.0
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					total += m.GetCounter().GetValue()
				}
			}
		}
	}
	return total
}

func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	b := setup(t, "sqlite", func(c *gateway.Config) {
		c.Delivery.BackoffBase, c.Delivery.BackoffMax, c.Delivery.MaxAttempts = 20*time.Millisecond, 200*time.Millisecond, 50
		c.Connectors.Coffrefort.Stack.Breaker = connectors.BreakerConfig{ConsecutiveFailures: 1000, MinRequests: 100000, OpenTimeout: time.Second}
	})
	setFaults(t, b.mock, platform.Rule{ErrorRate: 0.3, Statuses: []int{503, 429}, RetryAfter: "2"})
	const n = 40
	b.submitMany(t, 0, n, 4)
	waitDocuments(t, b.mock, n, 90*time.Second)
	assertExactlyOnce(t, b.mock, n)

	byKey := map[string][]mockcoffrefort.LogEntry{}
	injected := 0
	for _, e := range b.mock.Log() {
		if e.Injected() {
			injected++
		}
		if e.IdempotencyKey != "" {
			byKey[e.IdempotencyKey] = append(byKey[e.IdempotencyKey], e)
		}
	}
	if injected == 0 {
		t.Fatal("no fault was injected: the test proves nothing")
	}
	retried := 0
	for key, entries := range byKey {
		sort.Slice(entries, func(i, j int) bool { return entries[i].At.Before(entries[j].At) })
		for i := 1; i < len(entries); i++ {
			prev, cur := entries[i-1], entries[i]
			if prev.RetryAfter != "2" {
				continue
			}
			retried++
			if gap := cur.At.Sub(prev.At); gap < 2*time.Second {
				t.Errorf("key %s: attempt %v after a Retry-After: 2 answer, want at least 2s", key, gap)
			}
		}
	}
	if retried == 0 {
		t.Fatal("no keyed call was retried after a Retry-After answer")
	}
	t.Logf("%d faults injected, %d keyed retries after Retry-After: 2", injected, retried)
}

func TestOutageOpensBreaker(t *testing.T) {
	t.Parallel()
	const (
		workers        = 4
		consecutive    = 3
		openTimeout    = 2 * time.Second
		outage         = 20 * time.Second
		halfOpenProbes = 1
	)
	b := setup(t, "sqlite", func(c *gateway.Config) {
		c.Queue.Workers = workers
		c.Delivery.BackoffBase, c.Delivery.BackoffMax, c.Delivery.MaxAttempts = 50*time.Millisecond, 200*time.Millisecond, 100
		c.Connectors.Coffrefort.Stack.Breaker = connectors.BreakerConfig{
			ConsecutiveFailures: consecutive, MinRequests: 100000, OpenTimeout: openTimeout, HalfOpenProbes: halfOpenProbes,
		}
		c.Connectors.Coffrefort.Stack.Retry = connectors.RetryConfig{Max: 1, WaitMin: 10 * time.Millisecond, WaitMax: 50 * time.Millisecond}
	})
	// Warm up: a token and a first delivery before the outage.
	b.waitStatus(t, b.submit(t, 0), 10*time.Second, "delivered")

	start := time.Now()
	end := start.Add(outage)
	setFaults(t, b.mock, platform.Rule{Outage: &platform.Window{Start: start, End: end}})
	const n = 20
	b.submitMany(t, 1, n, 4)
	waitDocuments(t, b.mock, n+1, outage+60*time.Second)
	assertExactlyOnce(t, b.mock, n+1)

	during := 0
	for _, e := range b.mock.Log() {
		if !e.At.Before(start) && e.At.Before(end) {
			during++
		}
	}
	// Before the breaker opens: at most `consecutive` failures plus what
	// the other workers had in flight. Once open: one probe per half-open
	// window.
	limit := consecutive + workers + (int(outage/openTimeout)+1)*halfOpenProbes
	if during > limit {
		t.Errorf("%d requests reached the mock during the %v outage, want at most %d", during, outage, limit)
	}
	opened := counterValue(t, b.reg, "relais_connector_breaker_transitions_total", "to", "open")
	if opened < 1 {
		t.Errorf("the breaker never opened")
	}
	t.Logf("%d requests reached the mock during the outage (limit %d); breaker opened %v times", during, limit, opened)
}

func TestReplayAfterFailureDeliversOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, "sqlite", func(c *gateway.Config) {
		c.Delivery.BackoffBase, c.Delivery.BackoffMax, c.Delivery.MaxAttempts = 10*time.Millisecond, 20*time.Millisecond, 2
		c.Connectors.Coffrefort.Stack.Breaker = connectors.BreakerConfig{ConsecutiveFailures: 1000, MinRequests: 100000}
	})
	// Permanent: the platform rejects the upload.
	setFaults(t, b.mock, platform.Rule{Operations: []string{"documents.create"}, Status: 422})
	failedID := b.submit(t, 1)
	v := b.waitStatus(t, failedID, 10*time.Second, "failed")
	if !bytes.Contains(v.Deliveries[0].LastError, []byte(`"code":"upstream_rejected"`)) || !bytes.Contains(v.Deliveries[0].LastError, []byte(`"upstream"`)) {
		t.Fatalf("failed delivery's last error lacks the translated platform error: %s", v.Deliveries[0].LastError)
	}
	// Retryable until the budget is spent: dead.
	setFaults(t, b.mock, platform.Rule{Operations: []string{"documents.create"}, Status: 503})
	deadID := b.submit(t, 2)
	dv := b.waitStatus(t, deadID, 10*time.Second, "dead")
	if dv.Deliveries[0].Attempts != 2 {
		t.Fatalf("dead after %d attempts, want 2", dv.Deliveries[0].Attempts)
	}

	setFaults(t, b.mock)
	for _, sv := range []submissionView{v, dv} {
		req, _ := http.NewRequest(http.MethodPost, b.api.URL+"/v1/deliveries/"+sv.Deliveries[0].ID+"/replay", nil)
		req.Header.Set("Authorization", "Bearer "+b.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusAccepted {
			t.Fatalf("replaying: %v, %v", err, resp)
		}
		resp.Body.Close()
	}
	b.waitStatus(t, failedID, 10*time.Second, "delivered")
	b.waitStatus(t, deadID, 10*time.Second, "delivered")
	assertExactlyOnce(t, b.mock, 2)

	// Replaying a delivered delivery is refused.
	req, _ := http.NewRequest(http.MethodPost, b.api.URL+"/v1/deliveries/"+v.Deliveries[0].ID+"/replay", nil)
	req.Header.Set("Authorization", "Bearer "+b.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusConflict {
		t.Fatalf("replaying a delivered delivery: %v, %v", err, resp)
	}
	resp.Body.Close()
}
