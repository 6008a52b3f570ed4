-- Relais schema, version 5 (SQLite): browser sign-in state, kept in the
-- database rather than in memory so that it survives a restart. Times are
-- Unix microseconds.
--
-- A pending login (between the redirect to the OpenID Provider and the
-- callback) is keyed by the SHA-256 of its state; its nonce, PKCE verifier
-- and browser binding are sealed. The callback takes it with one
-- DELETE ... RETURNING, so a state is used once even when two callbacks race.
CREATE TABLE relais_signin_pending (
    state_hash BLOB PRIMARY KEY,
    key_id     TEXT NOT NULL,
    payload    BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX relais_signin_pending_expiry ON relais_signin_pending (expires_at);

-- A browser session is keyed by the SHA-256 of its id: the id itself, the
-- cookie's value, is never stored. Its content is sealed; the provider's
-- access token is sealed apart, and erased once token_expires_at passes.
CREATE TABLE relais_signin_sessions (
    id_hash          BLOB PRIMARY KEY,
    key_id           TEXT NOT NULL,
    payload          BLOB NOT NULL,
    token_key_id     TEXT,
    access_token     BLOB,
    token_expires_at INTEGER,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL
);
CREATE INDEX relais_signin_sessions_expiry ON relais_signin_sessions (expires_at);
CREATE INDEX relais_signin_sessions_token_expiry ON relais_signin_sessions (token_expires_at) WHERE access_token IS NOT NULL;
