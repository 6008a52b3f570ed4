package main

import (
	"context"
	"errors"
	"fmt"
)

// runJournal checks the journal's hash chain: `relais journal verify`.
func runJournal(ctx context.Context, args []string, e env) error {
	if len(args) == 0 || args[0] != "verify" {
		return errors.New("usage: relais journal verify --config FILE")
	}
	fs := newFlagSet("journal verify", e)
	configPath := fs.String("config", "", "configuration file (YAML)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	st, err := openStore(ctx, *configPath)
	if err != nil {
		return err
	}
	defer st.Close()
	sealed, err := st.SealJournal(ctx, 1<<30)
	if err != nil {
		return fmt.Errorf("sealing pending entries: %w", err)
	}
	n, err := st.VerifyJournal(ctx)
	if err != nil {
		return fmt.Errorf("journal verification failed after %d entries: %w", n, err)
	}
	fmt.Fprintf(e.stdout, "journal intact: %d entries chained (%d sealed just now)\n", n, sealed)
	return nil
}
