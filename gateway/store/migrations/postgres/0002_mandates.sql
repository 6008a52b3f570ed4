-- Relais schema, version 2 (PostgreSQL): mandates, their journal index, the SMS
-- outbox, FranceConnect consents. Times are Unix microseconds. The person's
-- identity traits and phone are sealed (person_key_id, person); everything
-- else names the person by person_ref, a keyed hash.
CREATE TABLE relais_mandates (
    id                 TEXT PRIMARY KEY,
    tenant_id          TEXT NOT NULL REFERENCES relais_tenants (id),
    professional_id    TEXT NOT NULL,
    professional_name  TEXT NOT NULL,
    person_ref         TEXT NOT NULL,
    person_key_id      TEXT NOT NULL,
    person             BYTEA NOT NULL,
    demarches          TEXT NOT NULL,
    duration_days      BIGINT NOT NULL,
    consent_method     TEXT NOT NULL,
    attestation_sha256 TEXT NOT NULL,
    status             TEXT NOT NULL,
    code_hash          BYTEA,
    code_attempts      INTEGER NOT NULL DEFAULT 0,
    code_expires_at    BIGINT,
    created_at         BIGINT NOT NULL,
    expires_at         BIGINT NOT NULL,
    confirmed_at       BIGINT,
    revoked_at         BIGINT,
    version            INTEGER NOT NULL
);
CREATE INDEX relais_mandates_person ON relais_mandates (tenant_id, person_ref, created_at);

-- Which journal entries concern which person and mandate.
CREATE TABLE relais_mandate_journal (
    seq        BIGINT PRIMARY KEY REFERENCES relais_journal (seq),
    tenant_id  TEXT NOT NULL,
    person_ref TEXT NOT NULL,
    mandate_id TEXT NOT NULL
);
CREATE INDEX relais_mandate_journal_person ON relais_mandate_journal (tenant_id, person_ref, seq);

CREATE TABLE relais_sms_outbox (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    mandate_id TEXT NOT NULL,
    key_id     TEXT NOT NULL,
    message    BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX relais_sms_outbox_tenant ON relais_sms_outbox (tenant_id, created_at);

CREATE TABLE relais_consents (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES relais_tenants (id),
    person_ref TEXT NOT NULL,
    categories TEXT NOT NULL,
    platforms  TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX relais_consents_person ON relais_consents (tenant_id, person_ref, granted_at);
