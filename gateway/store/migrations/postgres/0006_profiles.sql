-- Relais schema, version 6 (PostgreSQL): profile lookups. Times are Unix
-- microseconds.
--
-- A lookup's answer (the prefill) is sealed (key_id, data) until expires_at;
-- the purge then erases key_id and data and keeps the row as a tombstone
-- (no personal data) so that GET answers 410 for a while, then deletes it.
-- The journal keeps the lookup's entries.
CREATE TABLE relais_profiles (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES relais_tenants (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    key_id     TEXT,
    data       BYTEA
);
CREATE INDEX relais_profiles_live ON relais_profiles (expires_at) WHERE data IS NOT NULL;
CREATE INDEX relais_profiles_expiry ON relais_profiles (expires_at);

-- The FranceConnect access token of a consent, sealed, kept only while it
-- is alive: read only before expires_at, deleted by the purge after it.
CREATE TABLE relais_consent_tokens (
    consent_id TEXT PRIMARY KEY REFERENCES relais_consents (id),
    tenant_id  TEXT NOT NULL,
    key_id     TEXT NOT NULL,
    token      BYTEA NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX relais_consent_tokens_expiry ON relais_consent_tokens (expires_at);

-- Which journal entries are uses of which consent, about which person.
CREATE TABLE relais_consent_journal (
    seq        BIGINT PRIMARY KEY REFERENCES relais_journal (seq),
    tenant_id  TEXT NOT NULL,
    person_ref TEXT NOT NULL,
    consent_id TEXT NOT NULL
);
CREATE INDEX relais_consent_journal_consent ON relais_consent_journal (tenant_id, consent_id, seq);
CREATE INDEX relais_consent_journal_person ON relais_consent_journal (tenant_id, person_ref, seq);
