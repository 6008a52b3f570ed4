package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relais-dev/relais/gateway/vault"
)

func tenantConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "relais.yaml")
	body := fmt.Sprintf("store:\n  driver: sqlite\n  dsn: %q\nencryption:\n  keys: %q\n", filepath.Join(dir, "r.db"), vault.GenerateKeySpec("k1"))
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatalf("writing config: %v", err)
	}
	if out, err := runCLI(t, "migrate", "--config", cfg); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	return cfg
}

// TestTenantCommands creates and lists tenants as an operator would.
func TestTenantCommands(t *testing.T) {
	t.Parallel()
	cfg := tenantConfig(t)

	out, err := runCLI(t, "tenant", "create", "--config", cfg, "--siret", "73282932000074", "--finess", "010000024", "ehpad-les-glycines")
	if err != nil || !strings.Contains(out, "tenant id: ten_") {
		t.Fatalf("tenant create: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "tenant", "create", "ccas-de-brest", "--config", cfg); err != nil {
		t.Fatalf("tenant create, NAME first: %v\n%s", err, out)
	}
	out, err = runCLI(t, "tenant", "list", "--config", cfg)
	if err != nil {
		t.Fatalf("tenant list: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") {
		t.Fatalf("tenant list:\n%s", out)
	}
	if f := strings.Fields(lines[1]); len(f) != 5 || f[1] != "ehpad-les-glycines" || f[2] != "73282932000074" || f[3] != "010000024" {
		t.Fatalf("first row %q", lines[1])
	}
	if f := strings.Fields(lines[2]); len(f) != 5 || f[1] != "ccas-de-brest" || f[2] != "-" || f[3] != "-" {
		t.Fatalf("second row %q", lines[2])
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--siret", "73282932000075", "autre"}, "--siret:"},
		{[]string{"--finess", "010000025", "autre"}, "--finess:"},
		{[]string{"Bad Name"}, "NAME:"},
		{nil, "NAME is required"},
		{[]string{"ehpad-les-glycines"}, "NAME: another tenant"},
		{[]string{"--siret", "73282932000074", "autre"}, "--siret: another tenant"},
		{[]string{"a", "b"}, `unexpected argument "b"`},
	} {
		args := append([]string{"tenant", "create", "--config", cfg}, tc.args...)
		if out, err := runCLI(t, args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("tenant create %q: %v, want an error with %q\n%s", tc.args, err, tc.want, out)
		}
	}
	if _, err := runCLI(t, "tenant", "delete", "--config", cfg); err == nil {
		t.Error("tenant delete: no error")
	}
}

// TestAdminKeyCommands creates, lists and revokes admin keys.
func TestAdminKeyCommands(t *testing.T) {
	t.Parallel()
	cfg := tenantConfig(t)

	out, err := runCLI(t, "apikey", "create", "--admin", "--config", cfg, "--name", "ops-alice")
	if err != nil || !strings.Contains(out, "secret:       rla_") {
		t.Fatalf("apikey create --admin: %v\n%s", err, out)
	}
	id := strings.Fields(strings.SplitN(out, "\n", 2)[0])[3]
	if !strings.HasPrefix(id, "adm_") {
		t.Fatalf("admin key id %q", id)
	}
	out, err = runCLI(t, "apikey", "list", "--admin", "--config", cfg)
	if err != nil || !strings.Contains(out, id) || !strings.Contains(out, "ops-alice") || strings.Contains(out, "rla_") {
		t.Fatalf("apikey list --admin: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "apikey", "revoke", "--admin", "--config", cfg, "--id", id); err != nil || !strings.Contains(out, "revoked admin key "+id) {
		t.Fatalf("apikey revoke --admin: %v\n%s", err, out)
	}
	out, err = runCLI(t, "apikey", "list", "--admin", "--config", cfg)
	if err != nil || strings.Contains(out, " -\n") {
		t.Fatalf("the revoked key is listed as live: %v\n%s", err, out)
	}
	if _, err := runCLI(t, "apikey", "revoke", "--admin", "--config", cfg, "--id", "adm_aaaaaaaaaaaaaaaa"); err == nil {
		t.Error("revoking an unknown admin key: no error")
	}
	if _, err := runCLI(t, "apikey", "create", "--admin", "--tenant", "x", "--config", cfg); err == nil || !strings.Contains(err.Error(), "--admin and --tenant") {
		t.Errorf("--admin with --tenant: %v", err)
	}
	// Tenant keys are untouched by the admin ones.
	if out, err := runCLI(t, "apikey", "list", "--config", cfg); err == nil {
		t.Errorf("apikey list without --tenant or --admin: no error\n%s", out)
	}
}
