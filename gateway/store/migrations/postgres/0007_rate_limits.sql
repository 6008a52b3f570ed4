-- Relais schema, version 7 (PostgreSQL): the rate limits shared by every
-- Relais process on this database (gateway/store/ratelimit.go). For each
-- key, the theoretical arrival time of the generic cell rate algorithm (tat)
-- and when the last slot was booked (booked_at), in Unix microseconds of the
-- database's clock.
--
-- The table is UNLOGGED: it holds nothing worth a WAL write, so a
-- reservation commits without waiting for a disk flush; a crash or a
-- failover that empties it only lets one burst through.
CREATE UNLOGGED TABLE relais_rate_limits (
    key       TEXT PRIMARY KEY,
    tat       BIGINT NOT NULL,
    booked_at BIGINT NOT NULL
);
