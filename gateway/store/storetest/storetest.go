// Package storetest opens throw-away stores for tests: an SQLite file in a
// temporary directory, or a fresh PostgreSQL database created on the server
// named by RELAIS_TEST_DATABASE_URL and dropped afterwards.
package storetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/gateway/vault"
)

// EnvDatabaseURL names the PostgreSQL server tests may use.
const EnvDatabaseURL = "RELAIS_TEST_DATABASE_URL"

// Drivers lists the store drivers every conformance test runs against.
var Drivers = []string{"sqlite", "postgres"}

// Keyring returns a fresh keyring.
func Keyring(t testing.TB) *vault.Keyring {
	t.Helper()
	k, err := vault.ParseKeys(vault.GenerateKeySpec("test1"), "")
	if err != nil {
		t.Fatalf("building keyring: %v", err)
	}
	return k
}

// DSN returns a DSN for a fresh, empty database of driver. PostgreSQL tests
// are skipped, loudly, when RELAIS_TEST_DATABASE_URL is unset.
func DSN(t testing.TB, driver string) string {
	t.Helper()
	switch driver {
	case "sqlite":
		return filepath.Join(t.TempDir(), "relais.db")
	case "postgres":
		base := os.Getenv(EnvDatabaseURL)
		if base == "" {
			t.Skipf("SKIPPING PostgreSQL test: set %s (e.g. postgres://127.0.0.1:5432/test) to run it", EnvDatabaseURL)
		}
		return freshPostgres(t, base)
	default:
		t.Fatalf("unknown driver %q", driver)
		return ""
	}
}

func freshPostgres(t testing.TB, base string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dsn, drop, err := store.CreateTempDatabase(ctx, base, "relais_test")
	if err != nil {
		t.Fatalf("%s: %v", EnvDatabaseURL, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := drop(ctx); err != nil {
			t.Logf("dropping test database: %v", err)
		}
	})
	return dsn
}

// Open opens and migrates a fresh store of driver, closed at cleanup.
func Open(t testing.TB, driver string, keys *vault.Keyring) *store.Store {
	t.Helper()
	if keys == nil {
		keys = Keyring(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := store.Open(ctx, store.Options{Driver: driver, DSN: DSN(t, driver), Keyring: keys})
	if err != nil {
		t.Fatalf("opening %s store: %v", driver, err)
	}
	t.Cleanup(s.Close)
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrating %s store: %v", driver, err)
	}
	return s
}

// Name is a readable subtest name for driver.
func Name(driver string) string { return fmt.Sprintf("driver=%s", driver) }
