-- Relais schema, version 8 (PostgreSQL): activity reports (POST /v1/reports).
-- Times are Unix microseconds; dates are ISO 8601 text (aaaa-mm-jj).
--
-- A report is one establishment's activity over one period; every upload
-- for it is a new version. A version is one relais_submissions row (kind
-- activity_report) so that its outputs are ordinary deliveries: one per
-- destination, output and chunk, in relais_report_outputs.
CREATE TABLE relais_reports (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES relais_tenants (id),
    finess       TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end   TEXT NOT NULL,
    versions     INTEGER NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    UNIQUE (tenant_id, finess, period_start, period_end)
);

-- One upload. summary is JSON without personal data (files, row counts,
-- problems' places and codes); indicators is the establishment's indicator
-- CSV, sealed.
CREATE TABLE relais_report_versions (
    report_id         TEXT NOT NULL REFERENCES relais_reports (id),
    version           INTEGER NOT NULL,
    submission_id     TEXT NOT NULL UNIQUE REFERENCES relais_submissions (id),
    upload_id         TEXT NOT NULL,
    segments          INTEGER NOT NULL,
    partial           INTEGER NOT NULL,
    summary           TEXT NOT NULL,
    indicators_key_id TEXT,
    indicators        BYTEA,
    created_at        BIGINT NOT NULL,
    PRIMARY KEY (report_id, version)
);

-- The canonical rows of an upload, sealed, in segments of at most
-- reports.tddui_chunk_entries rows: staged while the upload is read,
-- bound to a version when it is accepted (orphans of a refused or
-- interrupted upload are purged), read back one segment per TDDUI chunk.
CREATE TABLE relais_report_segments (
    upload_id  TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    entries    INTEGER NOT NULL,
    refs       INTEGER NOT NULL,
    key_id     TEXT NOT NULL,
    data       BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (upload_id, seq)
);
CREATE INDEX relais_report_segments_created ON relais_report_segments (created_at);

-- One output of one version to one destination. A TDDUI chunk reads its
-- segment at delivery time; the indicator report and the PSU declaration,
-- small, are produced when the upload is accepted and sealed here.
CREATE TABLE relais_report_outputs (
    delivery_id  TEXT PRIMARY KEY REFERENCES relais_deliveries (id),
    report_id    TEXT NOT NULL,
    version      INTEGER NOT NULL,
    destination  TEXT NOT NULL,
    kind         TEXT NOT NULL,
    chunk        INTEGER NOT NULL,
    chunks       INTEGER NOT NULL,
    refs         INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    key_id       TEXT,
    body         BYTEA,
    UNIQUE (report_id, version, destination, kind, chunk)
);
CREATE INDEX relais_report_outputs_same ON relais_report_outputs (report_id, destination, kind, chunk, version);
