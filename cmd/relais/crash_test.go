package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/gateway/store/storetest"
	"github.com/relais-dev/relais/gateway/vault"
	mockcoffrefort "github.com/relais-dev/relais/mocks/coffrefort"
	"github.com/relais-dev/relais/mocks/platform"
)

// TestMain lets the test binary act as the relais command, so the crash
// test can run `relais serve` as a separate process without a build step.
func TestMain(m *testing.M) {
	if args := os.Getenv("RELAIS_TEST_RUN_MAIN"); args != "" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// relaisProcess runs `relais serve --config cfg` as a child process.
func relaisProcess(t *testing.T, cfgPath string, log io.Writer) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve", "--config", cfgPath)
	cmd.Env = append(os.Environ(), "RELAIS_TEST_RUN_MAIN=1")
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Args = []string{os.Args[0], "serve", "--config", cfgPath}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting relais serve: %v", err)
	}
	return cmd
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitReady(t *testing.T, base string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("relais serve not ready after %v: %v", timeout, err)
		}
		time.Sleep(50 * time.Millisecond) // bounded poll
	}
}

// TestCrashLosesNothing runs `relais serve` as a separate process, sends
// 1,000 submissions, kills it with SIGKILL midway, restarts it, and checks
// that every submission is delivered exactly once.
func TestCrashLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	t.Parallel()
	for _, driver := range storetest.Drivers {
		t.Run(storetest.Name(driver), func(t *testing.T) {
			t.Parallel()
			testCrash(t, driver)
		})
	}
}

func testCrash(t *testing.T, driver string) {
	const n = 1000
	ctx := context.Background()
	mock := mockcoffrefort.New(mockcoffrefort.Options{})
	if err := mock.SetFaults(platform.Faults{Rules: []platform.Rule{{Latency: &platform.Latency{
		Distribution: platform.DistUniform, Min: platform.Duration(10 * time.Millisecond), Max: platform.Duration(30 * time.Millisecond),
	}}}}); err != nil {
		t.Fatalf("setting the mock's faults: %v", err)
	}
	safe := httptest.NewServer(mock)
	defer safe.Close()

	dir := t.TempDir()
	dsn := storetest.DSN(t, driver)
	keySpec := vault.GenerateKeySpec("crash")
	keys, _ := vault.ParseKeys(keySpec, "")
	st, err := store.Open(ctx, store.Options{Driver: driver, DSN: dsn, Keyring: keys})
	if err != nil {
		t.Fatalf("opening store: %v", err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrating: %v", err)
	}
	tenant, _ := st.EnsureTenant(ctx, "crash")
	_, apiKey, err := st.CreateAPIKey(ctx, tenant.ID, "crash", "")
	if err != nil {
		t.Fatalf("creating key: %v", err)
	}
	st.Close()

	addr := freeAddr(t)
	cfgPath := filepath.Join(dir, "relais.yaml")
	cfg := fmt.Sprintf(`listen: %q
store:
  driver: %s
  dsn: %q
encryption:
  keys: %q
queue:
  workers: 20
  job_timeout: 5s
  rescue_after: 8s
  fetch_cooldown: 5ms
  fetch_poll_interval: 50ms
delivery:
  backoff_base: 50ms
  backoff_max: 500ms
connectors:
  coffrefort:
    base_url: %q
    client_id: relais-sandbox
    client_secret: relais-sandbox-secret
    stack:
      rate_limit:
        requests_per_second: 10000
        burst: 1000
log:
  level: warn
`, addr, driver, dsn, keySpec, safe.URL)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatalf("writing config: %v", err)
	}
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

	base := "http://" + addr
	proc := relaisProcess(t, cfgPath, logw)
	waitReady(t, base, time.Minute)

	client := &http.Client{Timeout: 10 * time.Second}
	var accepted atomic.Int64
	confirmed := make([]atomic.Bool, n)
	ids := make([]string, n)
	send := func(i int) error {
		body, _ := json.Marshal(map[string]any{
			"destinations": []string{"coffrefort"},
			"document_deposit": map[string]any{
				"beneficiary": map[string]any{"distant_id": fmt.Sprintf("usager-%d", i%50), "first_name": "Noël", "last_name": "Dupré", "birth_date": "1950-01-01"},
				"document":    map[string]any{"kind": "releve", "title": "Relevé", "file_name": "releve.pdf", "media_type": "application/pdf", "visibility": "private"},
				"content":     base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "document %d", i)),
			},
		})
		req, _ := http.NewRequest(http.MethodPost, base+"/v1/submissions", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+apiKey)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", fmt.Sprintf("crash-%d", i))
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			raw, _ := io.ReadAll(resp.Body)
			return fmt.Errorf("HTTP %d: %s", resp.StatusCode, raw)
		}
		var out struct {
			ID string `json:"id"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.ID == "" {
			return fmt.Errorf("decoding the 202: %v", err)
		}
		if ids[i] != "" && ids[i] != out.ID {
			return fmt.Errorf("submission %d: a retry got id %s, the first %s", i, out.ID, ids[i])
		}
		ids[i] = out.ID
		confirmed[i].Store(true)
		accepted.Add(1)
		return nil
	}

	// Send with 8 clients; kill the process once half is accepted.
	killed := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				_ = send(i) // failures around the kill are retried below
				if accepted.Load() >= n/2 {
					once.Do(func() {
						_ = proc.Process.Signal(syscall.SIGKILL)
						close(killed)
					})
				}
			}
		})
	}
	for i := range n {
		select {
		case <-killed:
		default:
			next <- i
			continue
		}
		break
	}
	close(next)
	wg.Wait()
	_ = proc.Wait()
	deliveredAtKill := mock.Stats().Documents
	t.Logf("killed with %d submissions accepted and %d documents delivered", accepted.Load(), deliveredAtKill)
	if deliveredAtKill >= int64(n) {
		t.Fatal("everything was delivered before the kill: the test proves nothing")
	}

	proc = relaisProcess(t, cfgPath, logw)
	defer func() {
		_ = proc.Process.Signal(syscall.SIGTERM)
		_ = proc.Wait()
	}()
	waitReady(t, base, time.Minute)
	// A client that did not get its answer retries with the same key; a
	// client that did may retry too: both must be harmless.
	for i := range n {
		if err := send(i); err != nil {
			t.Fatalf("resending submission %d: %v", i, err)
		}
	}

	deadline := time.Now().Add(3 * time.Minute)
	for mock.Stats().Documents < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d documents delivered after the restart", mock.Stats().Documents, n)
		}
		time.Sleep(100 * time.Millisecond) // bounded poll
	}
	dup, docs := 0, 0
	for key, c := range mock.CreatedPerKey() {
		if strings.HasSuffix(key, ":beneficiary") {
			continue
		}
		docs++
		if c != 1 {
			dup += c - 1
		}
	}
	if docs != n || dup != 0 || mock.Stats().Documents != n {
		t.Fatalf("after the crash: %d keys, %d documents, %d duplicates; want %d, %d, 0", docs, mock.Stats().Documents, dup, n, n)
	}
	// The gateway's own view: every delivery delivered with its receipt,
	// including those whose job was running when the process died (River
	// rescues them after rescue_after).
	remaining := make(map[int]string, n)
	for i := range n {
		remaining[i] = ids[i]
	}
	for len(remaining) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d submissions still not delivered in the gateway's records", len(remaining))
		}
		for i, id := range remaining {
			if delivered(t, client, base, apiKey, id) {
				delete(remaining, i)
			}
		}
		time.Sleep(200 * time.Millisecond) // bounded poll
	}
	t.Logf("after the crash: %d delivered with receipts, 0 duplicates, 0 lost; the mock deduplicated %d replayed requests", n, mock.Stats().DuplicateRequests)
}

func delivered(t *testing.T, client *http.Client, base, apiKey, id string) bool {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/v1/submissions/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("reading submission %s: %v", id, err)
	}
	defer resp.Body.Close()
	var v struct {
		Deliveries []struct {
			Status  string `json:"status"`
			Receipt *struct {
				RemoteID string `json:"remote_id"`
			} `json:"receipt"`
		} `json:"deliveries"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("decoding submission %s: %v", id, err)
	}
	return len(v.Deliveries) == 1 && v.Deliveries[0].Status == "delivered" && v.Deliveries[0].Receipt != nil && v.Deliveries[0].Receipt.RemoteID != ""
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
