-- +goose Up
-- The audit log is written far more than anything else: cluster it by
-- (org_id, at, id), the order it is listed in, so that an entry costs one
-- table B-tree and the name index instead of a rowid table, an index for
-- the id and two more.
CREATE TABLE audit_log_new (
    id          TEXT NOT NULL,
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
    error       TEXT NOT NULL,
    PRIMARY KEY (org_id, at, id)
) WITHOUT ROWID;
INSERT INTO audit_log_new SELECT id, org_id, at, actor_id, actor_name, kind, name, args, method, url, status, duration_ms, cache, error FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_new RENAME TO audit_log;
CREATE INDEX audit_log_org_name_at ON audit_log (org_id, name, at DESC, id DESC);

-- +goose Down
CREATE TABLE audit_log_old (
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
INSERT INTO audit_log_old SELECT id, org_id, at, actor_id, actor_name, kind, name, args, method, url, status, duration_ms, cache, error FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_old RENAME TO audit_log;
CREATE INDEX audit_log_org_at ON audit_log (org_id, at DESC, id DESC);
CREATE INDEX audit_log_org_name_at ON audit_log (org_id, name, at DESC, id DESC);
