package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

// ---- Administration: tenants' identifiers, admin keys --------------------

// ErrTenantExists: a tenant already has this name or SIRET.
var ErrTenantExists = errors.New("store: tenant exists")

// TenantConflictError says which field of a new tenant is already taken.
// errors.Is(err, ErrTenantExists) holds.
type TenantConflictError struct {
	// Field is "name" or "siret".
	Field string
}

func (e *TenantConflictError) Error() string {
	return "store: a tenant with this " + e.Field + " exists"
}

// Is reports whether target is ErrTenantExists.
func (e *TenantConflictError) Is(target error) bool { return target == ErrTenantExists }

// TenantInfo is a tenant with its legal identifiers. ProConnect binds a
// professional to a tenant by the SIRET of their organisation.
type TenantInfo struct {
	Tenant
	// SIRET is the establishment's SIRET, empty when unknown.
	SIRET string `json:"siret,omitempty"`
	// FINESS is the establishment's FINESS number, empty when unknown.
	FINESS string `json:"finess,omitempty"`
}

// NewTenant is a tenant to create. The caller validates the identifiers'
// check keys; the store only enforces uniqueness of name and SIRET.
type NewTenant struct {
	Name   string
	SIRET  string
	FINESS string
}

// AdminKey is an operator's credential: it manages tenants and their keys
// and reads no tenant's data. Its secret is only ever stored hashed.
type AdminKey struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// AdminKeyPrefix starts every admin key, so that people, secret scanners
// and log readers tell one from a tenant key (APIKeyPrefix).
const AdminKeyPrefix = "rla_"

// ActorCLI is the journal's api_key_id for actions taken with the relais
// command on the server, which needs the database itself, not a key.
const ActorCLI = "cli"

// Journal operations of administration. Entries carry ids and names,
// never a secret.
const (
	OpTenantCreate      = "admin.tenant.create"
	OpTenantList        = "admin.tenant.list"
	OpAPIKeyList        = "admin.apikey.list"
	OpAPIKeyCreate      = "admin.apikey.create"
	OpAPIKeyRevoke      = "admin.apikey.revoke"
	OpAdminKeyCreate    = "admin.adminkey.create"
	OpAdminKeyRevoke    = "admin.adminkey.revoke"
	adminJournalOutcome = "ok"
)

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

const tenantColumns = `id, name, created_at, siret, finess`

func scanTenant(r row) (TenantInfo, error) {
	var (
		t             TenantInfo
		created       int64
		siret, finess *string
	)
	if err := r.Scan(&t.ID, &t.Name, &created, &siret, &finess); err != nil {
		return TenantInfo{}, err
	}
	t.CreatedAt = fromMicros(created)
	if siret != nil {
		t.SIRET = *siret
	}
	if finess != nil {
		t.FINESS = *finess
	}
	return t, nil
}

// CreateTenant creates a tenant and journals it as done by actor (an admin
// key id, or ActorCLI). A taken name or SIRET is a *TenantConflictError.
func (s *Store) CreateTenant(ctx context.Context, n NewTenant, actor string) (TenantInfo, error) {
	t := TenantInfo{Tenant: Tenant{ID: newID("ten"), Name: n.Name, CreatedAt: s.now().UTC()}, SIRET: n.SIRET, FINESS: n.FINESS}
	err := s.b.inTx(ctx, func(tx txn) error {
		inserted, err := tx.exec(ctx, `INSERT INTO relais_tenants (id, name, created_at, siret, finess) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
			t.ID, t.Name, micros(t.CreatedAt), nullable(t.SIRET), nullable(t.FINESS))
		if err != nil {
			return fmt.Errorf("inserting tenant: %w", err)
		}
		if inserted == 0 {
			var taken int64
			if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM relais_tenants WHERE name = $1`, t.Name).Scan(&taken); err != nil {
				return fmt.Errorf("finding the conflicting tenant: %w", err)
			}
			if taken > 0 {
				return &TenantConflictError{Field: "name"}
			}
			return &TenantConflictError{Field: "siret"}
		}
		return appendJournal(ctx, tx, JournalEntry{At: t.CreatedAt, TenantID: t.ID, APIKeyID: actor, Operation: OpTenantCreate,
			Outcome: adminJournalOutcome, Detail: "name=" + t.Name})
	})
	if err != nil {
		return TenantInfo{}, err
	}
	return t, nil
}

func (s *Store) tenantWhere(ctx context.Context, what, where string, arg any) (TenantInfo, error) {
	t, err := scanTenant(s.b.queryRow(ctx, `SELECT `+tenantColumns+` FROM relais_tenants WHERE `+where+` = $1`, arg))
	if errors.Is(err, errNoRows) {
		return TenantInfo{}, ErrNotFound
	} else if err != nil {
		return TenantInfo{}, fmt.Errorf("reading tenant by %s: %w", what, err)
	}
	return t, nil
}

// TenantByID returns the tenant with this id, or ErrNotFound.
func (s *Store) TenantByID(ctx context.Context, id string) (TenantInfo, error) {
	return s.tenantWhere(ctx, "id", "id", id)
}

// TenantBySIRET returns the tenant whose establishment has this SIRET, or
// ErrNotFound: how a ProConnect professional's `siret` claim finds their
// tenant.
func (s *Store) TenantBySIRET(ctx context.Context, siret string) (TenantInfo, error) {
	if siret == "" {
		return TenantInfo{}, ErrNotFound
	}
	return s.tenantWhere(ctx, "siret", "siret", siret)
}

// ListTenants lists every tenant, oldest first.
func (s *Store) ListTenants(ctx context.Context) ([]TenantInfo, error) {
	r, err := s.b.query(ctx, `SELECT `+tenantColumns+` FROM relais_tenants ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("listing tenants: %w", err)
	}
	defer r.Close()
	out := []TenantInfo{}
	for r.Next() {
		t, err := scanTenant(r)
		if err != nil {
			return nil, fmt.Errorf("reading tenant: %w", err)
		}
		out = append(out, t)
	}
	return out, r.Err()
}

// CreateTenantKey creates a key for an existing tenant (ErrNotFound
// otherwise) and journals it as done by actor. The secret is returned once.
func (s *Store) CreateTenantKey(ctx context.Context, tenantID, name, actor string) (APIKey, string, error) {
	secret := GenerateAPIKeySecret()
	k := APIKey{ID: newID("key"), TenantID: tenantID, Name: name, CreatedAt: s.now().UTC()}
	err := s.b.inTx(ctx, func(tx txn) error {
		var n int64
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM relais_tenants WHERE id = $1`, tenantID).Scan(&n); err != nil {
			return fmt.Errorf("reading tenant: %w", err)
		}
		if n == 0 {
			return ErrNotFound
		}
		if _, err := tx.exec(ctx, `INSERT INTO relais_api_keys (id, tenant_id, name, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5)`,
			k.ID, k.TenantID, k.Name, hashSecret(secret), micros(k.CreatedAt)); err != nil {
			return fmt.Errorf("inserting api key: %w", err)
		}
		return appendJournal(ctx, tx, JournalEntry{At: k.CreatedAt, TenantID: tenantID, APIKeyID: actor, Operation: OpAPIKeyCreate,
			Outcome: adminJournalOutcome, Detail: "key=" + k.ID})
	})
	if err != nil {
		return APIKey{}, "", err
	}
	return k, secret, nil
}

// RevokeTenantKey revokes one of a tenant's keys (ErrNotFound when the
// tenant has no such key) and journals it as done by actor. Revoking twice
// is not an error; the key's revocation time is the first.
func (s *Store) RevokeTenantKey(ctx context.Context, tenantID, keyID, actor string) (APIKey, error) {
	now := s.now().UTC()
	var k APIKey
	err := s.b.inTx(ctx, func(tx txn) error {
		var err error
		k, err = scanAPIKey(tx.queryRow(ctx, `UPDATE relais_api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 AND tenant_id = $3
RETURNING `+apiKeyColumns, micros(now), keyID, tenantID))
		if errors.Is(err, errNoRows) {
			return ErrNotFound
		} else if err != nil {
			return fmt.Errorf("revoking api key: %w", err)
		}
		return appendJournal(ctx, tx, JournalEntry{At: now, TenantID: tenantID, APIKeyID: actor, Operation: OpAPIKeyRevoke,
			Outcome: adminJournalOutcome, Detail: "key=" + keyID})
	})
	if err != nil {
		return APIKey{}, err
	}
	return k, nil
}

// GenerateAdminKeySecret returns a fresh random admin key.
func GenerateAdminKeySecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return AdminKeyPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// CreateAdminKey creates an admin key and journals it as done by actor.
// The secret is returned once and stored only as a SHA-256 hash.
func (s *Store) CreateAdminKey(ctx context.Context, name, actor string) (AdminKey, string, error) {
	secret := GenerateAdminKeySecret()
	k := AdminKey{ID: newID("adm"), Name: name, CreatedAt: s.now().UTC()}
	err := s.b.inTx(ctx, func(tx txn) error {
		if _, err := tx.exec(ctx, `INSERT INTO relais_admin_keys (id, name, secret_hash, created_at) VALUES ($1, $2, $3, $4)`,
			k.ID, k.Name, hashSecret(secret), micros(k.CreatedAt)); err != nil {
			return fmt.Errorf("inserting admin key: %w", err)
		}
		return appendJournal(ctx, tx, JournalEntry{At: k.CreatedAt, APIKeyID: actor, Operation: OpAdminKeyCreate,
			Outcome: adminJournalOutcome, Detail: "key=" + k.ID})
	})
	if err != nil {
		return AdminKey{}, "", err
	}
	return k, secret, nil
}

const adminKeyColumns = `id, name, created_at, revoked_at`

func scanAdminKey(r row) (AdminKey, error) {
	var (
		k       AdminKey
		created int64
		revoked *int64
	)
	if err := r.Scan(&k.ID, &k.Name, &created, &revoked); err != nil {
		return AdminKey{}, err
	}
	k.CreatedAt = fromMicros(created)
	if revoked != nil {
		t := fromMicros(*revoked)
		k.RevokedAt = &t
	}
	return k, nil
}

// AuthenticateAdmin returns the live admin key whose secret is secret, or
// ErrNotFound. A tenant key is never an admin key.
func (s *Store) AuthenticateAdmin(ctx context.Context, secret string) (AdminKey, error) {
	k, err := scanAdminKey(s.b.queryRow(ctx, `SELECT `+adminKeyColumns+` FROM relais_admin_keys WHERE secret_hash = $1 AND revoked_at IS NULL`, hashSecret(secret)))
	if errors.Is(err, errNoRows) {
		return AdminKey{}, ErrNotFound
	} else if err != nil {
		return AdminKey{}, fmt.Errorf("reading admin key: %w", err)
	}
	return k, nil
}

// ListAdminKeys lists the admin keys, revoked ones included, oldest first.
func (s *Store) ListAdminKeys(ctx context.Context) ([]AdminKey, error) {
	r, err := s.b.query(ctx, `SELECT `+adminKeyColumns+` FROM relais_admin_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("listing admin keys: %w", err)
	}
	defer r.Close()
	var keys []AdminKey
	for r.Next() {
		k, err := scanAdminKey(r)
		if err != nil {
			return nil, fmt.Errorf("reading admin key: %w", err)
		}
		keys = append(keys, k)
	}
	return keys, r.Err()
}

// RevokeAdminKey revokes an admin key and journals it as done by actor.
// Revoking twice is not an error.
func (s *Store) RevokeAdminKey(ctx context.Context, keyID, actor string) error {
	now := s.now().UTC()
	return s.b.inTx(ctx, func(tx txn) error {
		n, err := tx.exec(ctx, `UPDATE relais_admin_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2`, micros(now), keyID)
		if err != nil {
			return fmt.Errorf("revoking admin key: %w", err)
		}
		if n == 0 {
			return ErrNotFound
		}
		return appendJournal(ctx, tx, JournalEntry{At: now, APIKeyID: actor, Operation: OpAdminKeyRevoke,
			Outcome: adminJournalOutcome, Detail: "key=" + keyID})
	})
}
