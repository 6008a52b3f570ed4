-- Relais schema, version 3 (PostgreSQL): tenants' SIRET and FINESS, and the
-- operators' admin keys. Times are Unix microseconds. An admin key has no
-- tenant: it manages tenants and keys, it never reads a tenant's data.
ALTER TABLE relais_tenants ADD COLUMN siret TEXT;
ALTER TABLE relais_tenants ADD COLUMN finess TEXT;
CREATE UNIQUE INDEX relais_tenants_siret ON relais_tenants (siret);

CREATE TABLE relais_admin_keys (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    secret_hash BYTEA NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
