-- Relais schema, version 5 (PostgreSQL): browser sign-in state shared by
-- every replica. Times are Unix microseconds.
--
-- A pending login (between the redirect to the OpenID Provider and the
-- callback) is keyed by the SHA-256 of its state; its nonce, PKCE verifier
-- and browser binding are sealed. The callback takes it with one
-- DELETE ... RETURNING, so a state is used once even when two replicas race.
CREATE TABLE relais_signin_pending (
    state_hash BYTEA PRIMARY KEY,
    key_id     TEXT NOT NULL,
    payload    BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX relais_signin_pending_expiry ON relais_signin_pending (expires_at);

-- A browser session is keyed by the SHA-256 of its id: the id itself, the
-- cookie's value, is never stored. Its content is sealed; the provider's
-- access token is sealed apart, and erased once token_expires_at passes.
CREATE TABLE relais_signin_sessions (
    id_hash          BYTEA PRIMARY KEY,
    key_id           TEXT NOT NULL,
    payload          BYTEA NOT NULL,
    token_key_id     TEXT,
    access_token     BYTEA,
    token_expires_at BIGINT,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL
);
CREATE INDEX relais_signin_sessions_expiry ON relais_signin_sessions (expires_at);
CREATE INDEX relais_signin_sessions_token_expiry ON relais_signin_sessions (token_expires_at) WHERE access_token IS NOT NULL;
