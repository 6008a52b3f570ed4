package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/relais-dev/relais/gateway/api"
	"github.com/relais-dev/relais/gateway/store"
)

const tenantUsage = "usage: relais tenant create --config FILE [--siret SIRET] [--finess FINESS] NAME | relais tenant list --config FILE"

// runTenant creates and lists tenants, straight in the database.
func runTenant(ctx context.Context, args []string, e env) error {
	if len(args) == 0 {
		return errors.New(tenantUsage)
	}
	sub := args[0]
	fs := newFlagSet("tenant "+sub, e)
	configPath := fs.String("config", "", "configuration file (YAML)")
	siret := fs.String("siret", "", "the establishment's SIRET, 14 digits (create)")
	finess := fs.String("finess", "", "the establishment's FINESS number, 9 digits (create)")
	var name string
	switch sub {
	case "create":
		// NAME may come before, between or after the flags.
		pos, err := parseInterspersed(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) > 1 {
			return fmt.Errorf("unexpected argument %q", pos[1])
		}
		if len(pos) == 1 {
			name = pos[0]
		}
		if name == "" {
			return errors.New("the tenant NAME is required; " + tenantUsage)
		}
		if problems := api.ValidateTenant(name, *siret, *finess); len(problems) > 0 {
			p := problems[0]
			if p.Field == "name" {
				return fmt.Errorf("NAME: %s", p.Detail)
			}
			return fmt.Errorf("--%s: %s", p.Field, p.Detail)
		}
	case "list":
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown tenant command %q (want create or list)", sub)
	}
	st, err := openStore(ctx, *configPath)
	if err != nil {
		return err
	}
	defer st.Close()

	if sub == "create" {
		t, err := st.CreateTenant(ctx, store.NewTenant{Name: name, SIRET: *siret, FINESS: *finess}, store.ActorCLI)
		var conflict *store.TenantConflictError
		if errors.As(err, &conflict) {
			flagName := "NAME"
			if conflict.Field == "siret" {
				flagName = "--siret"
			}
			return fmt.Errorf("%s: another tenant already has this %s", flagName, conflict.Field)
		} else if err != nil {
			return fmt.Errorf("creating tenant: %w", err)
		}
		fmt.Fprintf(e.stdout, "tenant id: %s\nname:      %s\n", t.ID, t.Name)
		return nil
	}
	list, err := st.ListTenants(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSIRET\tFINESS\tCREATED")
	for _, t := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, dash(t.SIRET), dash(t.FINESS), t.CreatedAt.Format(time.RFC3339))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// runAdminKey creates, lists and revokes admin keys: relais apikey
// create|list|revoke --admin.
func runAdminKey(ctx context.Context, sub, configPath, name, id string, e env) error {
	if sub != "create" && sub != "list" && sub != "revoke" {
		return fmt.Errorf("unknown apikey command %q (want create, list or revoke)", sub)
	}
	if sub == "revoke" && id == "" {
		return errors.New("--id KEY_ID is required")
	}
	st, err := openStore(ctx, configPath)
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "create":
		k, secret, err := st.CreateAdminKey(ctx, name, store.ActorCLI)
		if err != nil {
			return fmt.Errorf("creating admin key: %w", err)
		}
		fmt.Fprintf(e.stdout, "admin key id: %s\nname:         %s\nsecret:       %s\n\nThe secret is shown once; only its hash is stored. It manages tenants and keys (/v1/admin/) and reads no tenant's data.\n", k.ID, k.Name, secret)
	case "list":
		keys, err := st.ListAdminKeys(ctx)
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
		if err := st.RevokeAdminKey(ctx, id, store.ActorCLI); err != nil {
			return fmt.Errorf("revoking %s: %w", id, err)
		}
		fmt.Fprintf(e.stdout, "revoked admin key %s (takes effect within the API's auth cache TTL, 5s by default)\n", id)
	}
	return nil
}
