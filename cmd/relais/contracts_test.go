package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	junit "github.com/joshdk/go-junit"
)

// runningMocks is `relais mocks` run in-process, as an operator would.
type runningMocks struct {
	urls   map[string]string
	output *bytes.Buffer // what it printed until ready
	stop   func() (string, error)
}

var mockLine = regexp.MustCompile(`^  (\S+)\s+(http://\S+)\s+\(pilotage : `)

// startMocksCommand runs `relais mocks args...` until it is ready, and
// returns the URLs it printed.
func startMocksCommand(t *testing.T, args ...string) *runningMocks {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, append([]string{"mocks"}, args...), env{stdout: pw, stderr: io.Discard, getenv: func(string) string { return "" }})
		pw.Close()
		done <- err
	}()
	m := &runningMocks{urls: map[string]string{}, output: &bytes.Buffer{}}
	sc := bufio.NewScanner(pr)
	ready := false
	for !ready && sc.Scan() {
		line := sc.Text()
		m.output.WriteString(line + "\n")
		if sub := mockLine.FindStringSubmatch(line); sub != nil {
			m.urls[sub[1]] = sub[2]
		}
		ready = strings.HasPrefix(line, "Ctrl+C")
	}
	rest := make(chan string, 1)
	go func() { // what it prints on the way out
		b, _ := io.ReadAll(pr)
		rest <- string(b)
	}()
	m.stop = func() (string, error) {
		cancel()
		err := <-done
		return <-rest, err
	}
	if !ready {
		out, err := m.stop()
		t.Fatalf("relais mocks did not get ready: %v\n%s%s", err, m.output, out)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_, _ = m.stop()
		}
	})
	stop := m.stop
	m.stop = func() (string, error) { stopped = true; return stop() }
	return m
}

// putFaults sets the faults of a running mock through its control API.
func putFaults(t *testing.T, base, body string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPut, base+"/_mock/faults", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rsp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("PUT %s/_mock/faults: %v", base, err)
	}
	raw, _ := io.ReadAll(rsp.Body)
	rsp.Body.Close()
	if rsp.StatusCode != http.StatusOK {
		t.Fatalf("PUT %s/_mock/faults: %d %s", base, rsp.StatusCode, raw)
	}
}

// TestMocksThenVerifyThenDrift is the acceptance: `relais mocks`,
// then `relais contracts verify --target` passes with a JUnit report; a
// mock switched to schema drift makes verify and diff fail with the exact
// JSON paths of the changes.
func TestMocksThenVerifyThenDrift(t *testing.T) {
	t.Parallel()
	m := startMocksCommand(t)
	for _, e := range catalog() {
		if m.urls[e.name] == "" {
			t.Fatalf("relais mocks printed no URL for %s:\n%s", e.name, m.output)
		}
	}
	if !strings.Contains(m.output.String(), "Relais : plateformes simulées prêtes.") {
		t.Errorf("welcome:\n%s", m.output)
	}
	safe, tddui := m.urls["coffrefort"], m.urls["tddui"]
	targets := []string{"--target", "coffrefort=" + safe, "--target", "tddui=" + tddui}

	report := filepath.Join(t.TempDir(), "contracts.xml")
	out, err := runCLI(t, append([]string{"contracts", "verify", "--junit", report}, targets...)...)
	if err != nil {
		t.Fatalf("verify against relais mocks: %v\n%s", err, out)
	}
	if !strings.Contains(out, "PASS: 2 platforms") || strings.Contains(out, "skipped:") {
		t.Errorf("verify output (our mocks are recognised, so mock-only cases run):\n%s", out)
	}
	suites, err := junit.IngestFile(report)
	if err != nil || len(suites) != 2 {
		t.Fatalf("parsing the JUnit report: %d suites, %v", len(suites), err)
	}
	for _, s := range suites {
		if s.Totals.Tests == 0 || s.Totals.Failed != 0 || s.Totals.Skipped != 0 {
			t.Errorf("suite %s: %+v", s.Name, s.Totals)
		}
	}

	// The safe changes overnight: a document's size becomes a string, and
	// a beneficiary's links name their distant id differently.
	putFaults(t, safe, `{"rules":[
		{"operations":["documents.get"],"drift":[{"kind":"retype","path":"/size","to":"string"}]},
		{"operations":["beneficiaries.search"],"drift":[{"kind":"rename","path":"/*/external_links/*/distant_id","to":"distantId"}]}]}`)

	out, err = runCLI(t, append([]string{"contracts", "verify", "--junit", report}, targets...)...)
	if err == nil || !strings.Contains(err.Error(), "violations on coffrefort") {
		t.Fatalf("verify after drift: %v\n%s", err, out)
	}
	for _, want := range []string{
		"retyped      $.size  want integer, got string",
		"removed      $[0].external_links[0].distant_id  want string, got absent",
		"added        $[0].external_links[0].distantId  want absent, got string",
		"tddui: ", "0 failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("verify output lacks %q:\n%s", want, out)
		}
	}
	suites, err = junit.IngestFile(report)
	if err != nil {
		t.Fatalf("parsing the JUnit report: %v", err)
	}
	var messages []string
	for _, test := range suites[1].Tests { // coffrefort comes after tddui in the catalog
		if test.Status == junit.StatusFailed {
			if e, ok := test.Error.(junit.Error); ok {
				messages = append(messages, e.Body)
			}
		}
	}
	if got := strings.Join(messages, "\n"); !strings.Contains(got, "retyped $.size: want integer, got string") || !strings.Contains(got, "$[0].external_links[0].distantId") {
		t.Errorf("JUnit failures of %s:\n%s", suites[1].Name, got)
	}

	out, err = runCLI(t, "contracts", "diff", "--target", "coffrefort="+safe)
	if err == nil || !strings.Contains(err.Error(), "structural changes") {
		t.Fatalf("diff after drift: %v\n%s", err, out)
	}
	for _, want := range []string{
		"retyped  $.size  (coffrefort.documents.get, documents.get) integer→string",
		"removed  $[0].external_links[0].distant_id  (coffrefort.beneficiaries.search, beneficiaries.search) string→absent",
		"added    $[0].external_links[0].distantId  (coffrefort.beneficiaries.search, beneficiaries.search) absent→string",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff output lacks %q:\n%s", want, out)
		}
	}
	if out, err := runCLI(t, "contracts", "diff", "--target", "tddui="+tddui); err != nil || !strings.Contains(out, "no structural change on 1 platforms") {
		t.Errorf("diff of an unchanged mock: %v\n%s", err, out)
	}

	bye, err := m.stop()
	if err != nil || !strings.Contains(bye, "Arrêt des plateformes simulées") {
		t.Fatalf("stopping relais mocks: %v\n%s", err, bye)
	}
}

// TestContractsVerifyEveryMock checks every platform of the catalog
// against a fresh mock of its own: the contracts, their cases and the
// mocks agree.
func TestContractsVerifyEveryMock(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("calls every mock, API Particulier's at its real rate limit")
	}
	out, err := runCLI(t, "contracts", "verify")
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	if want := "PASS: " + strconv.Itoa(len(catalog())) + " platforms"; !strings.Contains(out, want) {
		t.Fatalf("output lacks %q:\n%s", want, out)
	}
}

func TestContractsFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"contracts", "verify", "--platform", "nope"}, "--platform nope: unknown platform (known: apiparticulier, "},
		{[]string{"contracts", "verify", "--target", "coffrefort"}, `--target "coffrefort": want NAME=URL`},
		{[]string{"contracts", "verify", "--target", "coffrefort=ftp://x"}, `"ftp://x" is not an http(s) URL`},
		{[]string{"contracts", "verify", "--target", "nope=http://x"}, "--target nope: unknown platform"},
		{[]string{"contracts", "verify", "--target", "dmp=http://a", "--target", "dmp=http://b"}, "--target dmp: given twice"},
		{[]string{"contracts", "lint"}, `unknown sub-command "lint"`},
		{[]string{"contracts", "diff", "extra"}, `unexpected argument "extra"`},
	} {
		if _, err := runCLI(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}

	out, err := runCLI(t, "contracts", "verify", "--help")
	if err != nil {
		t.Fatalf("--help: %v", err)
	}
	for _, want := range []string{"-target", "-junit", "RELAIS_CONTRACT_COFFREFORT_CLIENT_SECRET  (secret)", "RELAIS_CONTRACT_APIPARTICULIER_TOKEN", "GET /_mock/stats"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %q:\n%s", want, out)
		}
	}
}

// TestContractsVerifyFailsOnATargetThatIsDown checks a dead target: a
// transport violation, a failed exit, the other platforms unaffected.
func TestContractsVerifyFailsOnATargetThatIsDown(t *testing.T) {
	t.Parallel()
	out, err := runCLI(t, "contracts", "verify", "--target", "franceconnect=http://127.0.0.1:1", "--platform", "proconnect", "--timeout", "2s")
	if err == nil || !strings.Contains(err.Error(), "violations on franceconnect") {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	if !strings.Contains(out, "transport") || !strings.Contains(out, "proconnect: 4 checks, 4 passed") {
		t.Errorf("output:\n%s", out)
	}
}

func TestMocksFaultsFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	unknown := filepath.Join(dir, "unknown.yaml")
	if err := os.WriteFile(unknown, []byte("caf:\n  rules:\n    - error_rate: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := runCLI(t, "mocks", "--faults", unknown); err == nil || !strings.Contains(err.Error(), `unknown platform "caf"`) {
		t.Fatalf("unknown platform: %v", err)
	}
	badOp := filepath.Join(dir, "badop.yaml")
	if err := os.WriteFile(badOp, []byte("coffrefort:\n  rules:\n    - operations: [nope]\n      status: 503\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := runCLI(t, "mocks", "--faults", badOp); err == nil || !strings.Contains(err.Error(), "faults of coffrefort") {
		t.Fatalf("unknown operation: %v", err)
	}
	if _, err := runCLI(t, "mocks", "--faults", filepath.Join(dir, "missing.yaml")); err == nil {
		t.Fatal("a missing faults file was accepted")
	}

	good := filepath.Join(dir, "faults.yaml")
	if err := os.WriteFile(good, []byte("coffrefort:\n  rules:\n    - operations: [documents.get]\n      status: 503\n      retry_after: \"7\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := startMocksCommand(t, "--faults", good)
	if !strings.Contains(m.output.String(), "Pannes lues dans "+good) {
		t.Errorf("welcome:\n%s", m.output)
	}
	rsp, err := http.Get(m.urls["coffrefort"] + "/_mock/faults") //nolint:noctx // a test on loopback
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Rules []struct {
			Operations []string `json:"operations"`
			Status     int      `json:"status"`
		} `json:"rules"`
	}
	_ = json.NewDecoder(rsp.Body).Decode(&f)
	rsp.Body.Close()
	if len(f.Rules) != 1 || f.Rules[0].Status != 503 || f.Rules[0].Operations[0] != "documents.get" {
		t.Fatalf("faults of the running coffrefort: %+v", f)
	}
	out, err := runCLI(t, "contracts", "verify", "--target", "coffrefort="+m.urls["coffrefort"], "--timeout", "5s")
	if err == nil || !strings.Contains(out, "answered 503, want 200") {
		t.Errorf("verify of a failing mock: %v\n%s", err, out)
	}
	if _, err := m.stop(); err != nil {
		t.Fatal(err)
	}
}

func TestListenAddr(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"127.0.0.1": "127.0.0.1:0", "::1": "[::1]:0", "[::1]": "[::1]:0", "localhost:9000": "localhost:9000"} {
		if got := listenAddr(in); got != want {
			t.Errorf("listenAddr(%q) = %q, want %q", in, got, want)
		}
	}
}
