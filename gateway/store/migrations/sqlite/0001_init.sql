-- Relais schema, version 1 (SQLite). Times are Unix microseconds.
CREATE TABLE relais_tenants (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE relais_api_keys (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES relais_tenants (id),
    name        TEXT NOT NULL,
    secret_hash BLOB NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX relais_api_keys_tenant ON relais_api_keys (tenant_id);

CREATE TABLE relais_submissions (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES relais_tenants (id),
    api_key_id      TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash    BLOB NOT NULL,
    kind            TEXT NOT NULL,
    categories      TEXT NOT NULL,
    payload_key_id  TEXT NOT NULL,
    payload         BLOB NOT NULL,
    blob_id         TEXT,
    blob_chunks     INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    UNIQUE (tenant_id, idempotency_key)
);

CREATE TABLE relais_blob_chunks (
    blob_id TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    key_id  TEXT NOT NULL,
    data    BLOB NOT NULL,
    PRIMARY KEY (blob_id, seq)
);

CREATE TABLE relais_deliveries (
    id                TEXT PRIMARY KEY,
    submission_id     TEXT NOT NULL REFERENCES relais_submissions (id),
    tenant_id         TEXT NOT NULL,
    destination       TEXT NOT NULL,
    idempotency_key   TEXT NOT NULL,
    status            TEXT NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   INTEGER,
    job_id            INTEGER,
    error_key_id      TEXT,
    last_error        BLOB,
    receipt_remote_id TEXT,
    receipt_at        INTEGER,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX relais_deliveries_submission ON relais_deliveries (submission_id);

CREATE TABLE relais_journal (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    at            INTEGER NOT NULL,
    tenant_id     TEXT NOT NULL,
    api_key_id    TEXT NOT NULL,
    operation     TEXT NOT NULL,
    submission_id TEXT NOT NULL,
    delivery_id   TEXT NOT NULL,
    destination   TEXT NOT NULL,
    categories    TEXT NOT NULL,
    outcome       TEXT NOT NULL,
    detail        TEXT NOT NULL,
    chain_pos     INTEGER UNIQUE,
    prev_hash     BLOB,
    hash          BLOB
);
CREATE INDEX relais_journal_unsealed ON relais_journal (seq) WHERE chain_pos IS NULL;

CREATE TRIGGER relais_journal_no_delete BEFORE DELETE ON relais_journal
BEGIN
    SELECT RAISE(ABORT, 'relais_journal is append-only');
END;
CREATE TRIGGER relais_journal_seal_only BEFORE UPDATE ON relais_journal
WHEN OLD.chain_pos IS NOT NULL
  OR NEW.seq IS NOT OLD.seq OR NEW.at IS NOT OLD.at OR NEW.tenant_id IS NOT OLD.tenant_id
  OR NEW.api_key_id IS NOT OLD.api_key_id OR NEW.operation IS NOT OLD.operation
  OR NEW.submission_id IS NOT OLD.submission_id OR NEW.delivery_id IS NOT OLD.delivery_id
  OR NEW.destination IS NOT OLD.destination OR NEW.categories IS NOT OLD.categories
  OR NEW.outcome IS NOT OLD.outcome OR NEW.detail IS NOT OLD.detail
BEGIN
    SELECT RAISE(ABORT, 'relais_journal is append-only');
END;
