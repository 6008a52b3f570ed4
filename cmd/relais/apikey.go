package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/relais-dev/relais/gateway/store"
)

func runAPIKey(ctx context.Context, args []string, e env) error {
	if len(args) == 0 {
		return errors.New("usage: relais apikey create|list|revoke --config FILE (--tenant NAME | --admin) [--name NAME] [--id KEY_ID]")
	}
	sub := args[0]
	fs := newFlagSet("apikey "+sub, e)
	configPath := fs.String("config", "", "configuration file (YAML)")
	tenant := fs.String("tenant", "", "tenant name")
	name := fs.String("name", "default", "key name (create)")
	id := fs.String("id", "", "key id (revoke)")
	admin := fs.Bool("admin", false, "manage admin keys, which belong to no tenant (no --tenant)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *admin {
		if *tenant != "" {
			return errors.New("--admin and --tenant exclude each other: an admin key belongs to no tenant")
		}
		return runAdminKey(ctx, sub, *configPath, *name, *id, e)
	}
	if *tenant == "" {
		return errors.New("--tenant NAME is required")
	}
	st, err := openStore(ctx, *configPath)
	if err != nil {
		return err
	}
	defer st.Close()

	switch sub {
	case "create":
		t, err := st.EnsureTenant(ctx, *tenant)
		if err != nil {
			return err
		}
		k, secret, err := st.CreateAPIKey(ctx, t.ID, *name, "")
		if err != nil {
			return err
		}
		_ = st.AppendJournal(ctx, store.JournalEntry{TenantID: t.ID, APIKeyID: k.ID, Operation: "apikey.create", Outcome: "ok"})
		fmt.Fprintf(e.stdout, "key id:  %s\ntenant:  %s (%s)\nsecret:  %s\n\nThe secret is shown once; only its hash is stored.\n", k.ID, t.Name, t.ID, secret)
	case "list":
		t, err := st.TenantByName(ctx, *tenant)
		if err != nil {
			return fmt.Errorf("finding tenant %q: %w", *tenant, err)
		}
		keys, err := st.ListAPIKeys(ctx, t.ID)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tCREATED\tREVOKED")
		for _, k := range keys {
			revoked := "-"
			if k.RevokedAt != nil {
				revoked = k.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.Name, k.CreatedAt.Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	case "revoke":
		if *id == "" {
			return errors.New("--id KEY_ID is required")
		}
		t, err := st.TenantByName(ctx, *tenant)
		if err != nil {
			return fmt.Errorf("finding tenant %q: %w", *tenant, err)
		}
		if err := st.RevokeAPIKey(ctx, t.ID, *id); err != nil {
			return fmt.Errorf("revoking %s: %w", *id, err)
		}
		_ = st.AppendJournal(ctx, store.JournalEntry{TenantID: t.ID, APIKeyID: *id, Operation: "apikey.revoke", Outcome: "ok"})
		fmt.Fprintf(e.stdout, "revoked %s (takes effect within the API's auth cache TTL, 5s by default)\n", *id)
	default:
		return fmt.Errorf("unknown apikey command %q (want create, list or revoke)", sub)
	}
	return nil
}
