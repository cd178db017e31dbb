-- +goose Up
-- Hooks, events and workflow runs (SPEC 12). River's own tables (river_job
-- and the rest) are created by River's migrations, run after these.
CREATE TABLE workflow_hooks (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs (id),
    app_id     TEXT NOT NULL,
    event_name TEXT NOT NULL,
    secret     TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, app_id, event_name)
);

CREATE TABLE workflow_events (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL,
    hook_id         TEXT NOT NULL,
    idempotency_key TEXT,
    received_at     BIGINT NOT NULL,
    event           TEXT NOT NULL
);
CREATE UNIQUE INDEX workflow_events_idempotency ON workflow_events (hook_id, idempotency_key);
CREATE INDEX workflow_events_org ON workflow_events (org_id, received_at);

CREATE TABLE workflow_runs (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL,
    workflow    TEXT NOT NULL,
    app_id      TEXT NOT NULL,
    app_version TEXT NOT NULL,
    event_id    TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL,
    input       TEXT NOT NULL,
    error       TEXT NOT NULL DEFAULT '',
    started_at  BIGINT NOT NULL,
    finished_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX workflow_runs_org ON workflow_runs (org_id, started_at, id);
CREATE INDEX workflow_runs_running ON workflow_runs (status, started_at);

CREATE TABLE workflow_steps (
    run_id      TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    org_id      TEXT NOT NULL,
    step_id     TEXT NOT NULL,
    status      TEXT NOT NULL,
    params      TEXT NOT NULL DEFAULT '',
    output      TEXT NOT NULL DEFAULT '',
    error       TEXT NOT NULL DEFAULT '',
    attempts    INTEGER NOT NULL DEFAULT 0,
    queued_at   BIGINT NOT NULL,
    started_at  BIGINT NOT NULL DEFAULT 0,
    finished_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, seq)
);
CREATE INDEX workflow_steps_status ON workflow_steps (status);

-- +goose Down
DROP TABLE workflow_steps;
DROP TABLE workflow_runs;
DROP TABLE workflow_events;
DROP TABLE workflow_hooks;
