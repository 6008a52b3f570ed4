package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/gateway/store/storetest"
)

// TestAdmin runs the administration suite (tenants with identifiers,
// tenant keys managed by an actor, admin keys) against every backend.
func TestAdmin(t *testing.T) {
	t.Parallel()
	for _, driver := range storetest.Drivers {
		t.Run(storetest.Name(driver), func(t *testing.T) {
			t.Parallel()
			s := storetest.Open(t, driver, nil)
			t.Run("Tenants", func(t *testing.T) { testAdminTenants(t, s) })
			t.Run("TenantKeys", func(t *testing.T) { testAdminTenantKeys(t, s) })
			t.Run("AdminKeys", func(t *testing.T) { testAdminKeys(t, s) })
		})
	}
}

func testAdminTenants(t *testing.T, s *store.Store) {
	ctx := context.Background()
	created, err := s.CreateTenant(ctx, store.NewTenant{Name: "ehpad-les-glycines", SIRET: "73282932000074", FINESS: "010000024"}, "adm_test")
	if err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	if !strings.HasPrefix(created.ID, "ten_") || created.SIRET != "73282932000074" || created.FINESS != "010000024" {
		t.Fatalf("created %+v", created)
	}
	bare, err := s.CreateTenant(ctx, store.NewTenant{Name: "ccas-de-brest"}, "adm_test")
	if err != nil {
		t.Fatalf("CreateTenant without identifiers: %v", err)
	}
	// Two tenants without a SIRET do not collide on the unique index.
	if _, err := s.CreateTenant(ctx, store.NewTenant{Name: "ccas-de-quimper"}, "adm_test"); err != nil {
		t.Fatalf("second tenant without SIRET: %v", err)
	}

	for name, tc := range map[string]struct {
		n     store.NewTenant
		field string
	}{
		"same name":  {store.NewTenant{Name: "ehpad-les-glycines", SIRET: "35600000000048"}, "name"},
		"same SIRET": {store.NewTenant{Name: "autre-nom", SIRET: "73282932000074"}, "siret"},
	} {
		_, err := s.CreateTenant(ctx, tc.n, "adm_test")
		var conflict *store.TenantConflictError
		if !errors.Is(err, store.ErrTenantExists) || !errors.As(err, &conflict) || conflict.Field != tc.field {
			t.Fatalf("%s: %v, want a conflict on %s", name, err, tc.field)
		}
	}

	got, err := s.TenantBySIRET(ctx, "73282932000074")
	if err != nil || got.ID != created.ID || got.Name != "ehpad-les-glycines" || got.FINESS != "010000024" {
		t.Fatalf("TenantBySIRET: %+v, %v", got, err)
	}
	for _, siret := range []string{"", "35600000000048"} {
		if _, err := s.TenantBySIRET(ctx, siret); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("TenantBySIRET(%q): %v, want ErrNotFound", siret, err)
		}
	}
	if got, err := s.TenantByID(ctx, bare.ID); err != nil || got.Name != "ccas-de-brest" || got.SIRET != "" || got.FINESS != "" {
		t.Fatalf("TenantByID: %+v, %v", got, err)
	}
	if _, err := s.TenantByID(ctx, "ten_aaaaaaaaaaaaaaaa"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("TenantByID unknown: %v", err)
	}
	// EnsureTenant still finds a tenant created here.
	if ensured, err := s.EnsureTenant(ctx, "ehpad-les-glycines"); err != nil || ensured.ID != created.ID {
		t.Fatalf("EnsureTenant: %+v, %v", ensured, err)
	}

	list, err := s.ListTenants(ctx)
	if err != nil {
		t.Fatalf("ListTenants: %v", err)
	}
	names := map[string]store.TenantInfo{}
	for _, tn := range list {
		names[tn.Name] = tn
	}
	if names["ehpad-les-glycines"].SIRET != "73282932000074" || names["ccas-de-brest"].ID != bare.ID || names["autre-nom"].ID != "" {
		t.Fatalf("ListTenants: %+v", list)
	}

	entries, err := s.Journal(ctx, created.ID, 0, 100)
	if err != nil {
		t.Fatalf("Journal: %v", err)
	}
	if len(entries) != 1 || entries[0].Operation != store.OpTenantCreate || entries[0].APIKeyID != "adm_test" || entries[0].Outcome != "ok" {
		t.Fatalf("journal of the new tenant: %+v", entries)
	}
}

func testAdminTenantKeys(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a, err := s.CreateTenant(ctx, store.NewTenant{Name: "saad-armor"}, store.ActorCLI)
	if err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	b, err := s.CreateTenant(ctx, store.NewTenant{Name: "saad-iroise"}, store.ActorCLI)
	if err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	k, secret, err := s.CreateTenantKey(ctx, a.ID, "dui", "adm_op")
	if err != nil {
		t.Fatalf("CreateTenantKey: %v", err)
	}
	if !strings.HasPrefix(secret, store.APIKeyPrefix) || k.TenantID != a.ID {
		t.Fatalf("key %+v secret %q", k, secret)
	}
	if got, err := s.Authenticate(ctx, secret); err != nil || got.ID != k.ID {
		t.Fatalf("Authenticate: %+v, %v", got, err)
	}
	if _, err := s.AuthenticateAdmin(ctx, secret); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a tenant key authenticates as admin: %v", err)
	}
	if _, _, err := s.CreateTenantKey(ctx, "ten_aaaaaaaaaaaaaaaa", "dui", "adm_op"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("key for an unknown tenant: %v", err)
	}
	// Another tenant's key id is not found through this tenant.
	if _, err := s.RevokeTenantKey(ctx, b.ID, k.ID, "adm_op"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoking through another tenant: %v", err)
	}
	revoked, err := s.RevokeTenantKey(ctx, a.ID, k.ID, "adm_op")
	if err != nil || revoked.RevokedAt == nil || revoked.ID != k.ID {
		t.Fatalf("RevokeTenantKey: %+v, %v", revoked, err)
	}
	again, err := s.RevokeTenantKey(ctx, a.ID, k.ID, "adm_op")
	if err != nil || !again.RevokedAt.Equal(*revoked.RevokedAt) {
		t.Fatalf("revoking twice: %+v, %v", again, err)
	}
	if _, err := s.Authenticate(ctx, secret); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a revoked key authenticates: %v", err)
	}

	entries, err := s.Journal(ctx, a.ID, 0, 100)
	if err != nil {
		t.Fatalf("Journal: %v", err)
	}
	var ops []string
	for _, e := range entries {
		ops = append(ops, e.Operation+"/"+e.APIKeyID)
		if strings.Contains(e.Detail, secret) || strings.Contains(e.Detail, store.APIKeyPrefix) {
			t.Fatalf("the journal holds a secret: %+v", e)
		}
	}
	want := "admin.tenant.create/cli admin.apikey.create/adm_op admin.apikey.revoke/adm_op admin.apikey.revoke/adm_op"
	if strings.Join(ops, " ") != want {
		t.Fatalf("journal %q, want %q", strings.Join(ops, " "), want)
	}
}

func testAdminKeys(t *testing.T, s *store.Store) {
	ctx := context.Background()
	k, secret, err := s.CreateAdminKey(ctx, "ops-alice", store.ActorCLI)
	if err != nil {
		t.Fatalf("CreateAdminKey: %v", err)
	}
	if !strings.HasPrefix(secret, store.AdminKeyPrefix) || !strings.HasPrefix(k.ID, "adm_") {
		t.Fatalf("admin key %+v secret %q", k, secret)
	}
	if got, err := s.AuthenticateAdmin(ctx, secret); err != nil || got.ID != k.ID || got.Name != "ops-alice" {
		t.Fatalf("AuthenticateAdmin: %+v, %v", got, err)
	}
	if _, err := s.Authenticate(ctx, secret); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an admin key authenticates as a tenant key: %v", err)
	}
	list, err := s.ListAdminKeys(ctx)
	if err != nil || len(list) == 0 {
		t.Fatalf("ListAdminKeys: %v, %v", list, err)
	}
	if err := s.RevokeAdminKey(ctx, "adm_aaaaaaaaaaaaaaaa", store.ActorCLI); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoking an unknown admin key: %v", err)
	}
	if err := s.RevokeAdminKey(ctx, k.ID, store.ActorCLI); err != nil {
		t.Fatalf("RevokeAdminKey: %v", err)
	}
	if _, err := s.AuthenticateAdmin(ctx, secret); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a revoked admin key authenticates: %v", err)
	}
	list, err = s.ListAdminKeys(ctx)
	if err != nil {
		t.Fatalf("ListAdminKeys: %v", err)
	}
	for _, got := range list {
		if got.ID == k.ID && got.RevokedAt == nil {
			t.Fatalf("listed as live after revocation: %+v", got)
		}
	}
}
