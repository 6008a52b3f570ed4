package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/gateway/store/storetest"
	"github.com/relais-dev/relais/gateway/vault"
	mockapiparticulier "github.com/relais-dev/relais/mocks/apiparticulier"
)

// The shared-limit acceptance's load: lookupRate lookups a second, over
// both processes, for loadFor; each lookup makes one request to API
// Particulier, whose limit is platformLimit requests a second per token.
// Each process keeps to relaisRate a second on the token, a margin under
// the limit for the time a request takes from its slot to the platform:
// on a loaded two-core test machine, scheduling alone delays some by
// 100 ms or more (the connector's default, 18 a second, leaves 110 ms).
// Without the shared limit, the two processes would send twice relaisRate.
const (
	lookupRate       = 60
	loadFor          = 5 * time.Second
	platformLimit    = mockapiparticulier.DefaultRateLimit
	relaisRate       = 15
	lookupsSent      = int(lookupRate * loadFor / time.Second)
	sharedLimitSIRET = "13002526500013"
)

// TestSharedRateLimit is issue 6's shared-limit acceptance: two `relais
// serve` processes on one PostgreSQL database, together sending 60 lookups
// a second to the API Particulier mock with one token, never make more
// than the platform's 20 requests a second on it (the mock counts every
// sliding second, and would answer 429 past its own fixed windows), and no
// lookup fails for rate reasons: the lookups queue for their slot, booked
// in the database, instead of being refused.
func TestSharedRateLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("shared-limit acceptance skipped in -short mode")
	}
	t.Parallel()
	dsn := storetest.DSN(t, "postgres") // skips loudly without RELAIS_TEST_DATABASE_URL
	ctx := t.Context()

	mock := mockapiparticulier.New(mockapiparticulier.Options{})
	platform := httptest.NewServer(mock)
	defer platform.Close()

	keySpec := vault.GenerateKeySpec("shared")
	keys, err := vault.ParseKeys(keySpec, "")
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, store.Options{Driver: "postgres", DSN: dsn, Keyring: keys})
	if err != nil {
		t.Fatalf("opening store: %v", err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrating: %v", err)
	}
	tenant, err := st.CreateTenant(ctx, store.NewTenant{Name: "esms", SIRET: sharedLimitSIRET}, "test")
	if err != nil {
		t.Fatalf("creating tenant: %v", err)
	}
	_, apiKey, err := st.CreateTenantKey(ctx, tenant.ID, "test", "test")
	if err != nil {
		t.Fatalf("creating key: %v", err)
	}
	st.Close()

	// Two processes, one database, one platform token.
	dir := t.TempDir()
	var logs bytes.Buffer
	var logMu sync.Mutex
	logw := writerFunc(func(p []byte) (int, error) { logMu.Lock(); defer logMu.Unlock(); return logs.Write(p) })
	defer func() {
		if t.Failed() {
			logMu.Lock()
			t.Logf("relais serve output:\n%s", logs.String())
			logMu.Unlock()
		}
	}()
	bases := make([]string, 2)
	for i := range bases {
		addr := freeAddr(t)
		cfgPath := filepath.Join(dir, fmt.Sprintf("relais-%d.yaml", i))
		cfg := fmt.Sprintf(`listen: %q
store:
  driver: postgres
  dsn: %q
  max_conns: 10
encryption:
  keys: %q
mandates:
  person_key: shared-limit-person-key-0123456789abcdef
profiles:
  lookup:
    deadline: 1m
  apiparticulier:
    base_url: %q
    token: %q
    operations: [quotient_familial]
    stack:
      rate_limit:
        requests_per_second: %d
log:
  level: warn
`, addr, dsn, keySpec, platform.URL, mockapiparticulier.DefaultToken, relaisRate)
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
			t.Fatalf("writing config: %v", err)
		}
		proc := relaisProcess(t, cfgPath, logw)
		t.Cleanup(func() {
			_ = proc.Process.Kill()
			_ = proc.Wait()
		})
		bases[i] = "http://" + addr
	}
	for _, base := range bases {
		waitReady(t, base, time.Minute)
	}

	client := &http.Client{Timeout: 2 * time.Minute}
	post := func(base, path string, body any, into any) error {
		raw, _ := json.Marshal(body)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(raw))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+apiKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		got, _ := io.ReadAll(resp.Body)
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("POST %s: HTTP %d: %s", path, resp.StatusCode, got)
		}
		return json.Unmarshal(got, into)
	}

	// A sandbox allocataire (household dupont-sophie-1982), under an
	// in-person mandate recorded on the first process.
	var m struct {
		ID string `json:"id"`
	}
	if err := post(bases[0], "/v1/mandates", map[string]any{
		"professional": map[string]any{"id": "pro-1", "name": "Camille Martin"},
		"person": map[string]any{
			"family_name": "DUPONT", "given_names": "SOPHIE", "birth_date": "1982-09-03", "sex": "female",
			"birth_country": "99100", "birth_place": "13001",
		},
		"demarches": []string{"famille"}, "duration_days": 31, "consent_method": "in_person",
		"attestation_sha256": strings.Repeat("ab", 32),
	}, &m); err != nil {
		t.Fatalf("creating the mandate: %v", err)
	}
	lookup := map[string]any{
		"identity": map[string]any{
			"birth_family_name": "DUPONT", "given_names": []string{"SOPHIE"}, "sex": "F", "birth_date": "1982-09-03",
			"birth_place_cog": "13001", "birth_country_cog": "99100",
		},
		"mandate_id": m.ID,
		"sources":    []any{map[string]any{"name": "apiparticulier", "operations": []string{"quotient_familial"}}},
		// Past the platform's cache: every lookup is a request that counts.
		"fresh": true,
	}
	type sourceResult struct {
		Name       string `json:"name"`
		Status     string `json:"status"`
		Operations []struct {
			Name   string `json:"name"`
			Status string `json:"status"`
			Reason string `json:"reason"`
		} `json:"operations"`
	}
	type answer struct {
		Complete bool           `json:"complete"`
		Sources  []sourceResult `json:"sources"`
	}

	// Open loop: lookups go out at lookupRate whatever the answers take,
	// alternately to each process.
	var (
		wg      sync.WaitGroup
		answers = make([]answer, lookupsSent)
		errs    = make([]error, lookupsSent)
		took    = make([]time.Duration, lookupsSent)
	)
	interval := time.Second / lookupRate
	tick := time.NewTicker(interval)
	defer tick.Stop()
	start := time.Now()
	for i := range lookupsSent {
		if i > 0 {
			<-tick.C
		}
		wg.Go(func() {
			t0 := time.Now()
			errs[i] = post(bases[i%len(bases)], "/v1/profiles:lookup", lookup, &answers[i])
			took[i] = time.Since(t0)
		})
	}
	sent := time.Since(start)
	wg.Wait()
	drained := time.Since(start)

	seen := mock.Stats()
	var slowest time.Duration
	failures := 0
	for i := range lookupsSent {
		slowest = max(slowest, took[i])
		switch {
		case errs[i] != nil:
			failures++
			t.Errorf("lookup %d: %v", i, errs[i])
		case !answers[i].Complete || len(answers[i].Sources) != 1 || answers[i].Sources[0].Status != "ok":
			failures++
			t.Errorf("lookup %d: %+v", i, answers[i])
		}
		if failures > 10 {
			t.Fatal("more than 10 lookups failed")
		}
	}
	t.Logf("%d lookups sent in %s, answered in %s (slowest %s); the platform saw %d requests, at most %d in one second, %d refused for rate",
		lookupsSent, sent.Round(time.Millisecond), drained.Round(time.Millisecond), slowest.Round(time.Millisecond),
		seen.Requests, seen.PeakPerSecond, seen.RateLimited)
	if seen.PeakPerSecond > platformLimit || seen.RateLimited != 0 {
		t.Errorf("the platform saw %d requests in one second and refused %d, want at most %d and none", seen.PeakPerSecond, seen.RateLimited, platformLimit)
	}
	if seen.Requests != int64(lookupsSent) {
		t.Errorf("the platform saw %d requests for %d lookups, want one each", seen.Requests, lookupsSent)
	}
	// The limit was the bottleneck, shared: the requests went out at the
	// rate of one process, not two, nor as the lookups came.
	if minimum := time.Duration(lookupsSent-1) * time.Second / relaisRate; drained < minimum {
		t.Errorf("%d requests answered in %s, faster than %d a second allows", lookupsSent, drained, relaisRate)
	}
}
