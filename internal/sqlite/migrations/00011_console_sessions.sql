-- +goose Up
-- The web console's sign-in sessions (SPEC 11): the key signed in with, by
-- id and role, never the key; only the hash of the cookie's token is kept.
CREATE TABLE console_sessions (
    hash       TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL,
    key_id     TEXT NOT NULL,
    role       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    seen_at    BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
CREATE INDEX console_sessions_seen ON console_sessions (seen_at);

-- +goose Down
DROP TABLE console_sessions;
