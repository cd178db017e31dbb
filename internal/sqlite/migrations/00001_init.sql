-- +goose Up
-- Times are Unix microseconds (BIGINT) and JSON is kept as TEXT, so that the
-- PostgreSQL migrations and every query can be shared with this dialect.
CREATE TABLE orgs (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs (id),
    name       TEXT NOT NULL,
    role       TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE INDEX api_keys_org ON api_keys (org_id, created_at);

-- One row per app id. Private app ids are namespaced with their org's id,
-- so ids are unique across orgs; org_id is '' for public apps.
CREATE TABLE apps (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL,
    visibility     TEXT NOT NULL,
    latest_version TEXT NOT NULL,
    title          TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX apps_org ON apps (org_id);

-- Versions are immutable. rank orders them (0 is the first registered) and,
-- being unique, makes two concurrent registrations of one app collide.
CREATE TABLE app_versions (
    app_id     TEXT NOT NULL REFERENCES apps (id),
    version    TEXT NOT NULL,
    rank       INTEGER NOT NULL,
    title      TEXT NOT NULL,
    definition TEXT NOT NULL,
    hash       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (app_id, version),
    UNIQUE (app_id, rank)
);

CREATE TABLE installs (
    org_id       TEXT NOT NULL REFERENCES orgs (id),
    app_id       TEXT NOT NULL REFERENCES apps (id),
    version      TEXT NOT NULL,
    installed_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, app_id)
);

-- A secret value is stored only as ciphertext; value is then ''.
CREATE TABLE settings (
    org_id     TEXT NOT NULL REFERENCES orgs (id),
    app_id     TEXT NOT NULL,
    category   TEXT NOT NULL,
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,
    secret     INTEGER NOT NULL,
    ciphertext TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, app_id, category, name)
);

CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL,
    at          BIGINT NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_name  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    args        TEXT NOT NULL,
    method      TEXT NOT NULL,
    url         TEXT NOT NULL,
    status      INTEGER NOT NULL,
    duration_ms BIGINT NOT NULL,
    cache       TEXT NOT NULL,
    error       TEXT NOT NULL
);
CREATE INDEX audit_log_org_at ON audit_log (org_id, at DESC, id DESC);
CREATE INDEX audit_log_org_name_at ON audit_log (org_id, name, at DESC, id DESC);

-- The change feed: every write appends a row in its own transaction, and
-- every instance replays the feed to refresh what it holds in memory.
CREATE TABLE changes (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    kind   TEXT NOT NULL,
    org_id TEXT NOT NULL,
    ref    TEXT NOT NULL,
    at     BIGINT NOT NULL
);

-- +goose Down
DROP TABLE changes;
DROP TABLE audit_log;
DROP TABLE settings;
DROP TABLE installs;
DROP TABLE app_versions;
DROP TABLE apps;
DROP TABLE api_keys;
DROP TABLE orgs;
