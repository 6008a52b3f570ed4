-- Relais schema, version 4 (PostgreSQL): consents a person withdraws, and
-- the directory of the professionals who signed in through ProConnect.
-- Times are Unix microseconds.
ALTER TABLE relais_consents ADD COLUMN withdrawn_at BIGINT;

-- The professionals of each organisation who signed in through ProConnect,
-- so that a mandate is only transferred to a colleague of the same
-- organisation. Only the ProConnect subject and the display name are kept,
-- as on the mandates they hold.
CREATE TABLE relais_professionals (
    tenant_id     TEXT NOT NULL REFERENCES relais_tenants (id),
    id            TEXT NOT NULL,
    name          TEXT NOT NULL,
    first_seen_at BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
