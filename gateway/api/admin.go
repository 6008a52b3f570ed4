package api

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/mapping"
)

// ---- Administration: /v1/admin/ -----------------------------------------
//
// An admin key (rla_...) manages tenants and their keys; it is not a
// super-tenant and reads no tenant's data. A tenant key (rls_...) never
// reaches an admin route. Every admin action is journaled under the admin
// key's id, without secrets.

// AdminStore is what the admin routes need of the store.
type AdminStore interface {
	AuthenticateAdmin(ctx context.Context, secret string) (store.AdminKey, error)
	CreateTenant(ctx context.Context, n store.NewTenant, actor string) (store.TenantInfo, error)
	ListTenants(ctx context.Context) ([]store.TenantInfo, error)
	TenantByID(ctx context.Context, id string) (store.TenantInfo, error)
	CreateTenantKey(ctx context.Context, tenantID, name, actor string) (store.APIKey, string, error)
	ListAPIKeys(ctx context.Context, tenantID string) ([]store.APIKey, error)
	RevokeTenantKey(ctx context.Context, tenantID, keyID, actor string) (store.APIKey, error)
	AppendJournal(ctx context.Context, entries ...store.JournalEntry) error
}

var _ AdminStore = (*store.Store)(nil)

// bearerToken returns the key of an Authorization: Bearer header.
func bearerToken(r *http.Request) (string, error) {
	header := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(header, " ")
	if header == "" {
		return "", &Error{Status: http.StatusUnauthorized, Code: "unauthenticated", Title: "Unauthenticated",
			Detail: "Send your API key as Authorization: Bearer <key>."}
	}
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", &Error{Status: http.StatusUnauthorized, Code: "invalid_authorization", Title: "Unauthenticated",
			Detail: "The Authorization header must be: Bearer <key>."}
	}
	return token, nil
}

func invalidAPIKey() *Error {
	return &Error{Status: http.StatusUnauthorized, Code: "invalid_api_key", Title: "Unauthenticated",
		Detail: "This API key is unknown or revoked."}
}

// lookupAdmin returns the live admin key whose secret is token; nil
// without error when there is none.
func (s *Server) lookupAdmin(ctx context.Context, token string) (*store.AdminKey, error) {
	sum := sha256.Sum256([]byte(token))
	now := s.deps.Now()
	if key, ok := s.admins.get(sum, now); ok {
		return &key, nil
	}
	key, err := s.deps.Store.AuthenticateAdmin(ctx, token)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("authenticating admin key: %w", err)
	}
	s.admins.put(sum, key, now.Add(s.cfg.AuthCacheTTL))
	return &key, nil
}

// unknownTenantKey is the answer to a key that is no live tenant key: 403
// tenant_key_required when it is an admin key, else 401.
func (s *Server) unknownTenantKey(ctx context.Context, token string) error {
	admin, err := s.lookupAdmin(ctx, token)
	if err != nil {
		return err
	}
	if admin != nil {
		return &Error{Status: http.StatusForbidden, Code: "tenant_key_required", Title: "Tenant key required",
			Detail: "This route serves a tenant's data: call it with the tenant's API key (rls_...). An admin key manages tenants and keys only."}
	}
	return invalidAPIKey()
}

type adminKeyCtx struct{}

func adminPrincipal(ctx context.Context) store.AdminKey {
	k, _ := ctx.Value(adminKeyCtx{}).(store.AdminKey)
	return k
}

// adminOnly lets admin keys through: a live tenant key gets 403
// admin_required, anything else 401.
func (s *Server) adminOnly(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		token, err := bearerToken(r)
		if err != nil {
			return err
		}
		admin, err := s.lookupAdmin(r.Context(), token)
		if err != nil {
			return err
		}
		if admin == nil {
			_, err := s.deps.Store.Authenticate(r.Context(), token)
			switch {
			case err == nil:
				return &Error{Status: http.StatusForbidden, Code: "admin_required", Title: "Admin key required",
					Detail: "This route manages tenants and keys: call it with an admin key (rla_..., relais apikey create --admin)."}
			case errors.Is(err, store.ErrNotFound):
				return invalidAPIKey()
			default:
				return fmt.Errorf("authenticating: %w", err)
			}
		}
		return h(w, r.WithContext(context.WithValue(r.Context(), adminKeyCtx{}, *admin)))
	}
}

// forgetTenantKey drops a revoked key from this server's auth cache, so
// the revocation takes effect here at once (elsewhere within the TTL).
func (s *Server) forgetTenantKey(keyID string) {
	s.auth.forget(func(k store.APIKey) bool { return k.ID == keyID })
}

// ---- Validation ---------------------------------------------------------

// TenantRequest is the body of POST /v1/admin/tenants.
type TenantRequest struct {
	Name   string `json:"name"`
	SIRET  string `json:"siret,omitempty"`
	FINESS string `json:"finess,omitempty"`
}

// KeyRequest is the body of POST /v1/admin/tenants/{tenant}/keys.
type KeyRequest struct {
	Name string `json:"name"`
}

var tenantNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

const maxKeyName = 100

// ValidateTenant checks a new tenant: a name of 1 to 63 lower-case letters,
// digits and dashes, and, when given, a SIRET and a FINESS number whose
// check keys are right. Fields are named name, siret and finess; the
// details never quote the values.
func ValidateTenant(name, siret, finess string) []FieldProblem {
	var out []FieldProblem
	switch {
	case name == "":
		out = append(out, FieldProblem{Field: "name", Code: "required", Detail: "name is required."})
	case !tenantNamePattern.MatchString(name):
		out = append(out, FieldProblem{Field: "name", Code: "invalid_format",
			Detail: "name must be 1 to 63 lower-case letters, digits or dashes, starting with a letter or digit."})
	}
	if siret != "" && !mapping.ValidSIRET(siret) {
		out = append(out, FieldProblem{Field: "siret", Code: "invalid_format",
			Detail: "siret must be 14 digits with a valid check key."})
	}
	if finess != "" && !mapping.ValidFINESS(finess) {
		out = append(out, FieldProblem{Field: "finess", Code: "invalid_format",
			Detail: "finess must be 9 digits with a valid check key."})
	}
	return out
}

// ValidateKeyName checks an API key's name: 1 to 100 printable characters.
func ValidateKeyName(name string) []FieldProblem {
	switch {
	case strings.TrimSpace(name) == "":
		return []FieldProblem{{Field: "name", Code: "required", Detail: "name is required."}}
	case utf8.RuneCountInString(name) > maxKeyName:
		return []FieldProblem{{Field: "name", Code: "too_long", Detail: fmt.Sprintf("name must be at most %d characters.", maxKeyName)}}
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return []FieldProblem{{Field: "name", Code: "invalid_format", Detail: "name must not hold control characters."}}
	}
	return nil
}

// validationFailedTitled is validationFailed with a title naming what is
// invalid (tenant, API key, mandate).
func validationFailedTitled(problems []FieldProblem, title string) error {
	if len(problems) == 0 {
		return nil
	}
	e := validationFailed(problems).(*Error) //nolint:errcheck,forcetypeassert // validationFailed returns *Error when there are problems
	e.Title = title
	return e
}

// ---- Handlers -----------------------------------------------------------

type tenantList struct {
	Tenants []store.TenantInfo `json:"tenants"`
}

type keyView struct {
	store.APIKey
	// Secret is shown once, at creation.
	Secret string `json:"secret,omitempty"`
}

type keyList struct {
	Keys []store.APIKey `json:"keys"`
}

func (s *Server) journalAdmin(ctx context.Context, tenantID, op, detail string) error {
	if err := s.deps.Store.AppendJournal(ctx, store.JournalEntry{
		TenantID: tenantID, APIKeyID: adminPrincipal(ctx).ID, Operation: op, Outcome: "ok", Detail: detail,
	}); err != nil {
		return fmt.Errorf("journaling %s: %w", op, err)
	}
	return nil
}

func (s *Server) createTenant(w http.ResponseWriter, r *http.Request) error {
	var req TenantRequest
	if err := decodeJSONBody(r, &req); err != nil {
		return err
	}
	if err := validationFailedTitled(ValidateTenant(req.Name, req.SIRET, req.FINESS), "Invalid tenant"); err != nil {
		return err
	}
	t, err := s.deps.Store.CreateTenant(r.Context(), store.NewTenant{Name: req.Name, SIRET: req.SIRET, FINESS: req.FINESS}, adminPrincipal(r.Context()).ID)
	var conflict *store.TenantConflictError
	if errors.As(err, &conflict) {
		return &Error{Status: http.StatusConflict, Code: "tenant_exists", Title: "Tenant exists", Field: conflict.Field,
			Detail: "Another tenant already has this " + conflict.Field + "."}
	} else if err != nil {
		return fmt.Errorf("creating tenant: %w", err)
	}
	writeJSON(w, http.StatusCreated, "application/json", t)
	return nil
}

func (s *Server) listTenants(w http.ResponseWriter, r *http.Request) error {
	list, err := s.deps.Store.ListTenants(r.Context())
	if err != nil {
		return fmt.Errorf("listing tenants: %w", err)
	}
	if err := s.journalAdmin(r.Context(), "", store.OpTenantList, fmt.Sprintf("count=%d", len(list))); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", tenantList{Tenants: list})
	return nil
}

func noSuchTenant() *Error {
	return &Error{Status: http.StatusNotFound, Code: "not_found", Title: "Not found", Detail: "No tenant with this id."}
}

// pathTenant returns the {tenant} of the path, which must exist.
func (s *Server) pathTenant(r *http.Request) (store.TenantInfo, error) {
	t, err := s.deps.Store.TenantByID(r.Context(), r.PathValue("tenant"))
	if errors.Is(err, store.ErrNotFound) {
		return store.TenantInfo{}, noSuchTenant()
	} else if err != nil {
		return store.TenantInfo{}, fmt.Errorf("finding tenant: %w", err)
	}
	return t, nil
}

func (s *Server) createTenantKey(w http.ResponseWriter, r *http.Request) error {
	var req KeyRequest
	if err := decodeJSONBody(r, &req); err != nil {
		return err
	}
	if err := validationFailedTitled(ValidateKeyName(req.Name), "Invalid API key"); err != nil {
		return err
	}
	// The store checks the tenant exists, in the transaction that adds the key.
	k, secret, err := s.deps.Store.CreateTenantKey(r.Context(), r.PathValue("tenant"), req.Name, adminPrincipal(r.Context()).ID)
	if errors.Is(err, store.ErrNotFound) {
		return noSuchTenant()
	} else if err != nil {
		return fmt.Errorf("creating api key: %w", err)
	}
	writeJSON(w, http.StatusCreated, "application/json", keyView{APIKey: k, Secret: secret})
	return nil
}

func (s *Server) listTenantKeys(w http.ResponseWriter, r *http.Request) error {
	t, err := s.pathTenant(r)
	if err != nil {
		return err
	}
	keys, err := s.deps.Store.ListAPIKeys(r.Context(), t.ID)
	if err != nil {
		return fmt.Errorf("listing api keys: %w", err)
	}
	if keys == nil {
		keys = []store.APIKey{}
	}
	if err := s.journalAdmin(r.Context(), t.ID, store.OpAPIKeyList, fmt.Sprintf("count=%d", len(keys))); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "application/json", keyList{Keys: keys})
	return nil
}

func (s *Server) revokeTenantKey(w http.ResponseWriter, r *http.Request) error {
	t, err := s.pathTenant(r)
	if err != nil {
		return err
	}
	k, err := s.deps.Store.RevokeTenantKey(r.Context(), t.ID, r.PathValue("id"), adminPrincipal(r.Context()).ID)
	if errors.Is(err, store.ErrNotFound) {
		return &Error{Status: http.StatusNotFound, Code: "not_found", Title: "Not found", Detail: "This tenant has no API key with this id."}
	} else if err != nil {
		return fmt.Errorf("revoking api key: %w", err)
	}
	s.forgetTenantKey(k.ID)
	writeJSON(w, http.StatusOK, "application/json", k)
	return nil
}
