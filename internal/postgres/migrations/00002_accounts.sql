-- +goose Up
-- OAuth 2.0 app accounts; tokens are ciphertext (base64 TEXT).
CREATE TABLE accounts (
    org_id            TEXT NOT NULL REFERENCES orgs (id),
    app_id            TEXT COLLATE "C" NOT NULL,
    name              TEXT COLLATE "C" NOT NULL,
    status            TEXT NOT NULL,
    scopes            TEXT NOT NULL,
    access_token      TEXT NOT NULL,
    refresh_token     TEXT NOT NULL,
    token_type        TEXT NOT NULL,
    expires_at        BIGINT NOT NULL,
    last_refreshed_at BIGINT NOT NULL,
    connected_at      BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    PRIMARY KEY (org_id, app_id, name)
);

-- Pending authorizations, keyed by the hash of their state parameter.
CREATE TABLE oauth_states (
    hash       TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL,
    app_id     TEXT NOT NULL,
    account    TEXT NOT NULL,
    verifier   TEXT NOT NULL,
    return_url TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE oauth_states;
DROP TABLE accounts;
