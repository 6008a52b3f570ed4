package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relais-dev/relais/gateway/vault"
)

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, env{stdout: &out, stderr: &errOut, getenv: func(string) string { return "" }})
	return out.String() + errOut.String(), err
}

// TestCommands drives migrate, apikey and journal verify on one SQLite
// configuration, as an operator would.
func TestCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "relais.yaml")
	body := fmt.Sprintf("store:\n  driver: sqlite\n  dsn: %q\nencryption:\n  keys: %q\n", filepath.Join(dir, "r.db"), vault.GenerateKeySpec("k1"))
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatalf("writing config: %v", err)
	}
	if out, err := runCLI(t, "migrate", "--config", cfg); err != nil || !strings.Contains(out, "migrations applied") {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	out, err := runCLI(t, "apikey", "create", "--config", cfg, "--tenant", "ccas-lyon", "--name", "dui")
	if err != nil || !strings.Contains(out, "secret:  rls_") {
		t.Fatalf("apikey create: %v\n%s", err, out)
	}
	keyID := strings.Fields(strings.SplitN(out, "\n", 2)[0])[2]
	if out, err := runCLI(t, "apikey", "list", "--config", cfg, "--tenant", "ccas-lyon"); err != nil || !strings.Contains(out, keyID) || strings.Contains(out, "rls_") {
		t.Fatalf("apikey list (must show the id, never the secret): %v\n%s", err, out)
	}
	if out, err := runCLI(t, "apikey", "revoke", "--config", cfg, "--tenant", "ccas-lyon", "--id", keyID); err != nil || !strings.Contains(out, "revoked") {
		t.Fatalf("apikey revoke: %v\n%s", err, out)
	}
	if _, err := runCLI(t, "apikey", "revoke", "--config", cfg, "--tenant", "other", "--id", keyID); err == nil {
		t.Fatal("revoking through an unknown tenant succeeded")
	}
	if out, err := runCLI(t, "journal", "verify", "--config", cfg); err != nil || !strings.Contains(out, "journal intact: 2 entries") {
		t.Fatalf("journal verify: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "version"); err != nil || !strings.HasPrefix(out, "relais ") {
		t.Fatalf("version: %v\n%s", err, out)
	}
	if _, err := runCLI(t, "serve"); err == nil || !strings.Contains(err.Error(), "--config") {
		t.Fatalf("serve without --config: %v", err)
	}
	if _, err := runCLI(t, "nope"); err == nil {
		t.Fatal("an unknown command succeeded")
	}
}

// TestConfigErrorsNameTheField checks that a bad configuration names its
// faulty field and never prints a secret.
func TestConfigErrorsNameTheField(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, tc := range map[string]struct{ body, want string }{
		"unknown key": {"listen: 127.0.0.1:0\nlisten_port: 8080\n", "listen_port"},
		"bad driver":  {"store:\n  driver: mysql\nencryption:\n  keys: k:AAAA\n", "store.driver"},
		"no keys":     {"store:\n  driver: sqlite\n", "encryption.keys"},
		"bad breaker": {"encryption:\n  keys: k:AAAA\nconnectors:\n  coffrefort:\n    base_url: http://x\n    client_id: a\n    client_secret: s3cr3t-value\n    stack:\n      breaker:\n        failure_ratio: 7\n", "connectors.coffrefort"},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".yaml")
		if err := os.WriteFile(path, []byte(tc.body), 0o600); err != nil {
			t.Fatalf("writing config: %v", err)
		}
		_, err := runCLI(t, "serve", "--config", path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to name %q", name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cr3t-value") {
			t.Errorf("%s: the error prints a secret: %v", name, err)
		}
	}
}

// TestHelpRunsNothing: --help prints a command's flags and stops, with
// success, instead of running the command with its defaults.
func TestHelpRunsNothing(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"bench", "lookup", "--help"}, {"bench", "deliver", "-h"}, {"serve", "--help"}, {"sandbox", "--help"}} {
		out, err := runCLI(t, args...)
		if err != nil || !strings.Contains(out, "Usage of relais") || strings.Contains(out, "lookups at") || strings.Contains(out, "started") {
			t.Errorf("relais %s = %v:\n%s\nwant the usage only", strings.Join(args, " "), err, out)
		}
	}
}
