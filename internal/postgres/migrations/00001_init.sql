-- +goose Up
-- The tables, columns and indexes of the SQLite migration, with the same
-- types (times as Unix microseconds in BIGINT, JSON as TEXT, booleans as
-- INTEGER), so that every query of internal/sqlstore runs unchanged.
--
-- Text that the queries sort or compare with < (ids, setting categories and
-- names) is COLLATE "C": bytewise, as in SQLite, whatever the database's
-- default collation, so that lists come back in the same order on both
-- stores and the B-tree indexes on them need no locale.
CREATE TABLE orgs (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id         TEXT COLLATE "C" PRIMARY KEY,
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
    id             TEXT COLLATE "C" PRIMARY KEY,
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
    app_id     TEXT COLLATE "C" NOT NULL REFERENCES apps (id),
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
    app_id       TEXT COLLATE "C" NOT NULL REFERENCES apps (id),
    version      TEXT NOT NULL,
    installed_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, app_id)
);

-- A secret value is stored only as ciphertext; value is then ''.
CREATE TABLE settings (
    org_id     TEXT NOT NULL REFERENCES orgs (id),
    app_id     TEXT NOT NULL,
    category   TEXT COLLATE "C" NOT NULL,
    name       TEXT COLLATE "C" NOT NULL,
    value      TEXT NOT NULL,
    secret     INTEGER NOT NULL,
    ciphertext TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, app_id, category, name)
);

CREATE TABLE audit_log (
    id          TEXT COLLATE "C" PRIMARY KEY,
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
    seq    BIGSERIAL PRIMARY KEY,
    kind   TEXT NOT NULL,
    org_id TEXT NOT NULL,
    ref    TEXT NOT NULL,
    at     BIGINT NOT NULL
);

-- Readers follow the feed by remembering the last seq they saw, so seq must
-- grow in commit order. A sequence alone does not: a transaction that drew
-- seq 10 may commit after one that drew 11, and a reader that saw 11 would
-- skip 10 for good. So the seq a row is inserted with is provisional; at
-- commit (a deferred trigger runs after every statement of the transaction)
-- the row takes a fresh seq under a transaction-scoped advisory lock, which
-- is held until the commit is visible. The transactions that commit changes
-- thus draw their final seqs one after the other, in commit order. The lock
-- is taken only after all the transaction's other work, so holding it never
-- waits on another transaction's row locks and cannot deadlock.
--
-- The same trigger announces the final seq on the channel
-- switchboard_changes, delivered at commit, so that every instance listening
-- reads the feed at once instead of at its next poll.
-- +goose StatementBegin
CREATE FUNCTION changes_commit_order() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    final BIGINT;
BEGIN
    -- 0x73776263 is "swbc": Switchboard's change feed.
    PERFORM pg_advisory_xact_lock(1937203811);
    UPDATE changes SET seq = nextval(pg_get_serial_sequence('changes', 'seq'))
        WHERE seq = NEW.seq RETURNING seq INTO final;
    IF FOUND THEN
        PERFORM pg_notify('switchboard_changes', final::text);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE CONSTRAINT TRIGGER changes_commit_order AFTER INSERT ON changes
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION changes_commit_order();

-- +goose Down
DROP TABLE changes;
DROP FUNCTION changes_commit_order();
DROP TABLE audit_log;
DROP TABLE settings;
DROP TABLE installs;
DROP TABLE app_versions;
DROP TABLE apps;
DROP TABLE api_keys;
DROP TABLE orgs;
