package api_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/gateway/api"
	"github.com/relais-dev/relais/gateway/store"
)

// newAdmin creates an admin key: a tenant value with no tenant, so the
// request helpers send it as a bearer.
func newAdmin(tb testing.TB, s *store.Store) tenant {
	tb.Helper()
	k, secret, err := s.CreateAdminKey(context.Background(), "ops", store.ActorCLI)
	if err != nil {
		tb.Fatalf("CreateAdminKey: %v", err)
	}
	return tenant{keyID: k.ID, secret: secret}
}

func adminCall(as tenant, method, path string, body []byte) call {
	return call{method: method, path: path, auth: as.bearer(), body: body}
}

type tenantView struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	SIRET  string `json:"siret"`
	FINESS string `json:"finess"`
}

type keyView struct {
	ID        string     `json:"id"`
	TenantID  string     `json:"tenant_id"`
	Name      string     `json:"name"`
	Secret    string     `json:"secret"`
	RevokedAt *time.Time `json:"revoked_at"`
}

// tenantRoutes are the tenant data routes (mandates aside) an admin key
// must not reach.
func tenantRoutes(tn tenant) []call {
	return []call{
		submit(tn, "adm-1", []byte(`{}`)),
		get(tn, "/v1/submissions/sub_aaaaaaaaaaaaaaaa"),
		get(tn, "/v1/deliveries/dlv_aaaaaaaaaaaaaaaa"),
		{method: http.MethodPost, path: "/v1/deliveries/dlv_aaaaaaaaaaaaaaaa/replay", auth: tn.bearer()},
		get(tn, "/v1/connectors"),
		post(tn, "/v1/mandates", []byte(`{}`)),
		get(tn, "/v1/mandates?person=prs_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
		get(tn, "/v1/mandates/mdt_aaaaaaaaaaaaaaaa"),
		{method: http.MethodDelete, path: "/v1/mandates/mdt_aaaaaaaaaaaaaaaa", auth: tn.bearer()},
		post(tn, "/v1/mandates/mdt_aaaaaaaaaaaaaaaa/confirm", []byte(`{}`)),
		post(tn, "/v1/mandates/mdt_aaaaaaaaaaaaaaaa/renew", nil),
		post(tn, "/v1/mandates/mdt_aaaaaaaaaaaaaaaa/transfer", []byte(`{}`)),
		get(tn, "/v1/journal/mandates?person=prs_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	}
}

// docRejected says whether the document refuses c's request itself (an
// empty body where one is required), before any key is looked at.
func docRejected(c call) bool {
	return c.method == http.MethodPost && (c.path == "/v1/submissions" || string(c.body) == "{}")
}

// exerciseAdmin causes every documented response of the admin routes,
// and the tenant routes' 403, each checked against the document.
func (bnd *bundle) exerciseAdmin(t *testing.T) {
	t.Helper()
	admin := newAdmin(t, bnd.store)
	a := bnd.a

	// Tenants.
	r := bnd.do(t, adminCall(admin, http.MethodPost, "/v1/admin/tenants", []byte(`{"name":"ehpad-les-glycines","siret":"73282932000074","finess":"010000024"}`)))
	wantStatus(t, r, http.StatusCreated)
	glycines := decode[tenantView](t, r)
	if glycines.Name != "ehpad-les-glycines" || glycines.SIRET != "73282932000074" || glycines.FINESS != "010000024" {
		t.Fatalf("created tenant: %s", r.body)
	}
	p := wantProblem(t, bnd.do(t, adminCall(admin, http.MethodPost, "/v1/admin/tenants", []byte(`{"name":"autre","siret":"73282932000074"}`))), http.StatusConflict, "tenant_exists")
	if p.Field != "siret" {
		t.Fatalf("conflict field %q, want siret", p.Field)
	}
	invalid := adminCall(admin, http.MethodPost, "/v1/admin/tenants", []byte(`{"name":"Bad Name","siret":"73282932000075","finess":"010000025"}`))
	invalid.docRejects = true // the name's pattern; the check keys are the server's business
	r = bnd.do(t, invalid)
	p = wantProblem(t, r, http.StatusUnprocessableEntity, "validation_failed")
	if len(p.Errors) != 3 || p.Errors[0].Field != "name" || p.Errors[1].Field != "siret" || p.Errors[2].Field != "finess" || strings.Contains(string(r.body), "73282932000075") {
		t.Fatalf("validation: %+v", p)
	}
	bad := adminCall(admin, http.MethodPost, "/v1/admin/tenants", []byte(`{"name":`))
	bad.docRejects = true
	wantProblem(t, bnd.do(t, bad), http.StatusBadRequest, "malformed_json")
	plain := adminCall(admin, http.MethodPost, "/v1/admin/tenants", []byte(`{"name":"x"}`))
	plain.header, plain.docRejects = map[string]string{"Content-Type": "text/plain"}, true
	wantProblem(t, bnd.do(t, plain), http.StatusUnsupportedMediaType, "unsupported_media_type")
	huge := adminCall(admin, http.MethodPost, "/v1/admin/tenants", []byte(`{"name":"`+strings.Repeat("a", 17<<10)+`"}`))
	huge.docRejects = true
	wantProblem(t, bnd.do(t, huge), http.StatusRequestEntityTooLarge, "body_too_large")
	r = bnd.do(t, adminCall(admin, http.MethodGet, "/v1/admin/tenants", nil))
	wantStatus(t, r, http.StatusOK)
	if list := decode[struct{ Tenants []tenantView }](t, r).Tenants; len(list) < 3 {
		t.Fatalf("tenants: %s", r.body)
	}

	// Keys.
	keys := "/v1/admin/tenants/" + glycines.ID + "/keys"
	r = bnd.do(t, adminCall(admin, http.MethodPost, keys, []byte(`{"name":"dui-production"}`)))
	wantStatus(t, r, http.StatusCreated)
	k := decode[keyView](t, r)
	if k.TenantID != glycines.ID || !strings.HasPrefix(k.Secret, store.APIKeyPrefix) {
		t.Fatalf("created key: %s", r.body)
	}
	noName := adminCall(admin, http.MethodPost, keys, []byte(`{"name":""}`))
	noName.docRejects = true
	wantProblem(t, bnd.do(t, noName), http.StatusUnprocessableEntity, "validation_failed")
	// Check keys only the server knows: the document accepts these.
	p = wantProblem(t, bnd.do(t, adminCall(admin, http.MethodPost, "/v1/admin/tenants", []byte(`{"name":"ccas-de-vannes","siret":"73282932000075"}`))), http.StatusUnprocessableEntity, "validation_failed")
	if p.Field != "siret" || len(p.Errors) != 1 || p.Errors[0].Code != "invalid_format" {
		t.Fatalf("bad SIRET key: %+v", p)
	}
	unknown := "/v1/admin/tenants/ten_aaaaaaaaaaaaaaaa/keys"
	wantProblem(t, bnd.do(t, adminCall(admin, http.MethodPost, unknown, []byte(`{"name":"x"}`))), http.StatusNotFound, "not_found")
	wantProblem(t, bnd.do(t, adminCall(admin, http.MethodGet, unknown, nil)), http.StatusNotFound, "not_found")
	emptyKeys := adminCall(admin, http.MethodPost, keys, []byte(` `))
	emptyKeys.docRejects = true
	wantProblem(t, bnd.do(t, emptyKeys), http.StatusBadRequest, "empty_body")
	plain.path = keys
	wantProblem(t, bnd.do(t, plain), http.StatusUnsupportedMediaType, "unsupported_media_type")
	huge.path = keys
	wantProblem(t, bnd.do(t, huge), http.StatusRequestEntityTooLarge, "body_too_large")
	r = bnd.do(t, adminCall(admin, http.MethodGet, keys, nil))
	wantStatus(t, r, http.StatusOK)
	if list := decode[struct{ Keys []keyView }](t, r).Keys; len(list) != 1 || list[0].ID != k.ID || list[0].Secret != "" || strings.Contains(string(r.body), "rls_") {
		t.Fatalf("keys: %s", r.body)
	}
	r = bnd.do(t, adminCall(admin, http.MethodDelete, keys+"/"+k.ID, nil))
	wantStatus(t, r, http.StatusOK)
	if v := decode[keyView](t, r); v.RevokedAt == nil {
		t.Fatalf("revoked key: %s", r.body)
	}
	// a's key, through another tenant's path: not found.
	wantProblem(t, bnd.do(t, adminCall(admin, http.MethodDelete, keys+"/"+a.keyID, nil)), http.StatusNotFound, "not_found")
	wantProblem(t, bnd.do(t, adminCall(admin, http.MethodDelete, unknown+"/"+a.keyID, nil)), http.StatusNotFound, "not_found")

	// Authentication: none, a tenant key, an unknown key.
	for _, c := range []call{
		adminCall(a, http.MethodPost, "/v1/admin/tenants", []byte(`{"name":"pirate"}`)),
		adminCall(a, http.MethodGet, "/v1/admin/tenants", nil),
		adminCall(a, http.MethodPost, "/v1/admin/tenants/"+a.id+"/keys", []byte(`{"name":"pirate"}`)),
		adminCall(a, http.MethodGet, "/v1/admin/tenants/"+a.id+"/keys", nil),
		adminCall(a, http.MethodDelete, "/v1/admin/tenants/"+a.id+"/keys/"+a.keyID, nil),
	} {
		wantProblem(t, bnd.do(t, c), http.StatusForbidden, "admin_required")
		c.auth = "Bearer rla_not-a-key-of-anyone"
		wantProblem(t, bnd.do(t, c), http.StatusUnauthorized, "invalid_api_key")
		c.auth, c.docRejects = "", true
		wantProblem(t, bnd.do(t, c), http.StatusUnauthorized, "unauthenticated")
	}
	for _, c := range tenantRoutes(admin) {
		c.docRejects = docRejected(c)
		wantProblem(t, bnd.do(t, c), http.StatusForbidden, "tenant_key_required")
	}

	// Server failures, from a store that fails.
	broken := setupWith(t, options{driver: "sqlite", wrap: func(s api.Store) api.Store { return failingAdminStore{failingStore{s}} }})
	brokenAdmin := newAdmin(t, broken.store)
	for _, c := range []call{
		adminCall(brokenAdmin, http.MethodPost, "/v1/admin/tenants", []byte(`{"name":"ccas-de-vannes"}`)),
		adminCall(brokenAdmin, http.MethodGet, "/v1/admin/tenants", nil),
		adminCall(brokenAdmin, http.MethodPost, "/v1/admin/tenants/"+broken.a.id+"/keys", []byte(`{"name":"x"}`)),
		adminCall(brokenAdmin, http.MethodGet, "/v1/admin/tenants/"+broken.a.id+"/keys", nil),
		adminCall(brokenAdmin, http.MethodDelete, "/v1/admin/tenants/"+broken.a.id+"/keys/"+broken.a.keyID, nil),
	} {
		r := broken.do(t, c)
		wantProblem(t, r, http.StatusInternalServerError, "internal_error")
		if strings.Contains(string(r.body), "disk") {
			t.Fatalf("the cause leaks: %s", r.body)
		}
	}
	bnd.addCoverage(broken)
}

// failingAdminStore fails the admin writes and reads, once authenticated.
type failingAdminStore struct{ failingStore }

func (failingAdminStore) CreateTenant(context.Context, store.NewTenant, string) (store.TenantInfo, error) {
	return store.TenantInfo{}, errDisk
}

func (failingAdminStore) ListTenants(context.Context) ([]store.TenantInfo, error) {
	return nil, errDisk
}

func (failingAdminStore) TenantByID(context.Context, string) (store.TenantInfo, error) {
	return store.TenantInfo{}, errDisk
}

func (failingAdminStore) CreateTenantKey(context.Context, string, string, string) (store.APIKey, string, error) {
	return store.APIKey{}, "", errDisk
}

func TestAdminKeySeparation(t *testing.T) {
	t.Parallel()
	bnd := setup(t)
	admin := newAdmin(t, bnd.store)

	// An admin key reads no tenant data, mandates included.
	for _, c := range tenantRoutes(admin) {
		c.docRejects = docRejected(c)
		wantProblem(t, bnd.do(t, c), http.StatusForbidden, "tenant_key_required")
	}

	// A tenant key manages nothing, its own tenant's keys included, and
	// another tenant's key survives the attempt.
	wantProblem(t, bnd.do(t, adminCall(bnd.a, http.MethodDelete, "/v1/admin/tenants/"+bnd.b.id+"/keys/"+bnd.b.keyID, nil)), http.StatusForbidden, "admin_required")
	wantProblem(t, bnd.do(t, adminCall(bnd.a, http.MethodPost, "/v1/admin/tenants/"+bnd.a.id+"/keys", []byte(`{"name":"more"}`))), http.StatusForbidden, "admin_required")
	wantStatus(t, bnd.do(t, get(bnd.b, "/v1/connectors")), http.StatusOK)
	keys, err := bnd.store.ListAPIKeys(context.Background(), bnd.a.id)
	if err != nil || len(keys) != 1 {
		t.Fatalf("tenant a's keys after the attempts: %v, %v", keys, err)
	}

	// A revoked admin key is refused after the cache's TTL.
	wantStatus(t, bnd.do(t, adminCall(admin, http.MethodGet, "/v1/admin/tenants", nil)), http.StatusOK)
	if err := bnd.store.RevokeAdminKey(context.Background(), admin.keyID, store.ActorCLI); err != nil {
		t.Fatal(err)
	}
	bnd.clock.Advance(6 * time.Second)
	wantProblem(t, bnd.do(t, adminCall(admin, http.MethodGet, "/v1/admin/tenants", nil)), http.StatusUnauthorized, "invalid_api_key")
}

func TestAdminRevocationAndJournal(t *testing.T) {
	t.Parallel()
	bnd := setup(t)
	admin := newAdmin(t, bnd.store)
	ctx := context.Background()

	r := bnd.do(t, adminCall(admin, http.MethodPost, "/v1/admin/tenants/"+bnd.a.id+"/keys", []byte(`{"name":"second"}`)))
	wantStatus(t, r, http.StatusCreated)
	k := decode[keyView](t, r)
	fresh := tenant{id: bnd.a.id, keyID: k.ID, secret: k.Secret}

	// A second gateway on the same database caches the key.
	other := api.New(api.Config{}, api.Deps{Store: bnd.store, Connectors: connectors.NewRegistry(), Registry: prometheus.NewRegistry(), Now: bnd.clock.Now})
	ask := func(h http.Handler) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, newRequest(t, "http://relais.test", get(fresh, "/v1/connectors")))
		return rec.Code
	}
	wantStatus(t, bnd.do(t, get(fresh, "/v1/connectors")), http.StatusOK)
	if code := ask(other); code != http.StatusOK {
		t.Fatalf("other gateway before revocation: %d", code)
	}
	wantStatus(t, bnd.do(t, adminCall(admin, http.MethodDelete, "/v1/admin/tenants/"+bnd.a.id+"/keys/"+k.ID, nil)), http.StatusOK)
	// At once on the gateway that revoked it; within the TTL elsewhere.
	wantProblem(t, bnd.do(t, get(fresh, "/v1/connectors")), http.StatusUnauthorized, "invalid_api_key")
	if code := ask(other); code != http.StatusOK {
		t.Fatalf("other gateway within the TTL: %d, want the cached 200", code)
	}
	bnd.clock.Advance(5*time.Second + time.Millisecond)
	if code := ask(other); code != http.StatusUnauthorized {
		t.Fatalf("other gateway after the TTL: %d, want 401", code)
	}
	// The tenant's first key still works.
	wantStatus(t, bnd.do(t, get(bnd.a, "/v1/connectors")), http.StatusOK)

	wantStatus(t, bnd.do(t, adminCall(admin, http.MethodGet, "/v1/admin/tenants/"+bnd.a.id+"/keys", nil)), http.StatusOK)
	entries, err := bnd.store.Journal(ctx, bnd.a.id, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, e := range entries {
		if e.APIKeyID != admin.keyID {
			continue
		}
		ops = append(ops, e.Operation)
		if strings.Contains(e.Detail, k.Secret) || strings.Contains(e.Detail, "rls_") {
			t.Fatalf("the journal holds a secret: %+v", e)
		}
	}
	if got := strings.Join(ops, " "); got != "admin.apikey.create admin.apikey.revoke admin.apikey.list" {
		t.Fatalf("admin journal of tenant a: %q", got)
	}
	if bytes.Contains([]byte(bnd.logs.String()), []byte(k.Secret)) {
		t.Fatal("the logs hold the secret")
	}
}
