-- Relais schema, version 1 (PostgreSQL). Times are Unix microseconds.
CREATE TABLE relais_tenants (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE relais_api_keys (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES relais_tenants (id),
    name        TEXT NOT NULL,
    secret_hash BYTEA NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX relais_api_keys_tenant ON relais_api_keys (tenant_id);

CREATE TABLE relais_submissions (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES relais_tenants (id),
    api_key_id      TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash    BYTEA NOT NULL,
    kind            TEXT NOT NULL,
    categories      TEXT NOT NULL,
    payload_key_id  TEXT NOT NULL,
    payload         BYTEA NOT NULL,
    blob_id         TEXT,
    blob_chunks     INTEGER NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    UNIQUE (tenant_id, idempotency_key)
);

CREATE TABLE relais_blob_chunks (
    blob_id TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    key_id  TEXT NOT NULL,
    data    BYTEA NOT NULL,
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
    next_attempt_at   BIGINT,
    job_id            BIGINT,
    error_key_id      TEXT,
    last_error        BYTEA,
    receipt_remote_id TEXT,
    receipt_at        BIGINT,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX relais_deliveries_submission ON relais_deliveries (submission_id);

CREATE TABLE relais_journal (
    seq           BIGSERIAL PRIMARY KEY,
    at            BIGINT NOT NULL,
    tenant_id     TEXT NOT NULL,
    api_key_id    TEXT NOT NULL,
    operation     TEXT NOT NULL,
    submission_id TEXT NOT NULL,
    delivery_id   TEXT NOT NULL,
    destination   TEXT NOT NULL,
    categories    TEXT NOT NULL,
    outcome       TEXT NOT NULL,
    detail        TEXT NOT NULL,
    chain_pos     BIGINT UNIQUE,
    prev_hash     BYTEA,
    hash          BYTEA
);
CREATE INDEX relais_journal_unsealed ON relais_journal (seq) WHERE chain_pos IS NULL;

CREATE FUNCTION relais_journal_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR OLD.chain_pos IS NOT NULL
       OR (NEW.seq, NEW.at, NEW.tenant_id, NEW.api_key_id, NEW.operation, NEW.submission_id,
           NEW.delivery_id, NEW.destination, NEW.categories, NEW.outcome, NEW.detail)
          IS DISTINCT FROM
          (OLD.seq, OLD.at, OLD.tenant_id, OLD.api_key_id, OLD.operation, OLD.submission_id,
           OLD.delivery_id, OLD.destination, OLD.categories, OLD.outcome, OLD.detail)
    THEN
        RAISE EXCEPTION 'relais_journal is append-only';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER relais_journal_append_only BEFORE UPDATE OR DELETE ON relais_journal
FOR EACH ROW EXECUTE FUNCTION relais_journal_guard();
