package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/relais-dev/relais/gateway/vault"
)

// openTestStore opens and migrates a store on a fresh SQLite file with a
// fresh keyring, closed at cleanup: storetest.Open for this package's own
// tests, which cannot import it. now, when not nil, is the store's clock.
func openTestStore(tb testing.TB, now func() time.Time) *Store {
	tb.Helper()
	ctx := context.Background()
	keys, err := vault.ParseKeys(vault.GenerateKeySpec("k"), "")
	if err != nil {
		tb.Fatalf("building keyring: %v", err)
	}
	s, err := Open(ctx, Options{Driver: "sqlite", DSN: filepath.Join(tb.TempDir(), "s.db"), Keyring: keys, Now: now})
	if err != nil {
		tb.Fatalf("opening store: %v", err)
	}
	tb.Cleanup(s.Close)
	if err := s.Migrate(ctx); err != nil {
		tb.Fatalf("migrating: %v", err)
	}
	return s
}
