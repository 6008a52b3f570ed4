-- Relais schema, version 4 (SQLite): consents a person withdraws, and the
-- directory of the professionals who signed in through ProConnect. Times
-- are Unix microseconds.
ALTER TABLE relais_consents ADD COLUMN withdrawn_at INTEGER;

-- The professionals of each organisation who signed in through ProConnect,
-- so that a mandate is only transferred to a colleague of the same
-- organisation. Only the ProConnect subject and the display name are kept,
-- as on the mandates they hold.
CREATE TABLE relais_professionals (
    tenant_id     TEXT NOT NULL REFERENCES relais_tenants (id),
    id            TEXT NOT NULL,
    name          TEXT NOT NULL,
    first_seen_at INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
