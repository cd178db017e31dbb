-- +goose Up
-- Browser sessions (SPEC 10): scoped, short-lived tokens minted by a key;
-- only the hash of the token is kept.
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs (id),
    key_id     TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    commands   TEXT NOT NULL,
    args       TEXT NOT NULL,
    origins    TEXT NOT NULL,
    subject    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_org ON sessions (org_id, created_at);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- A run made with a session records it.
ALTER TABLE audit_log ADD COLUMN session_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN subject TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE audit_log DROP COLUMN subject;
ALTER TABLE audit_log DROP COLUMN session_id;
DROP TABLE sessions;
