package main

import (
	"context"
	"fmt"

	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/gateway/vault"
)

func runMigrate(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("migrate", e)
	configPath := fs.String("config", "", "configuration file (YAML)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	st, err := openStore(ctx, *configPath)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "migrations applied (%s)\n", st.Driver())
	return nil
}

// openStore opens the store a configuration file names.
func openStore(ctx context.Context, configPath string) (*store.Store, error) {
	cfg, err := loadConfig(configPath)
	if err != nil {
		return nil, err
	}
	keys, err := vault.ParseKeys(cfg.Encryption.Keys.Reveal(), cfg.Encryption.ActiveKey)
	if err != nil {
		return nil, fmt.Errorf("encryption.keys: %w", err)
	}
	return store.Open(ctx, store.Options{Driver: cfg.Store.Driver, DSN: cfg.Store.DSN.Reveal(), MaxConns: 2, Keyring: keys})
}
