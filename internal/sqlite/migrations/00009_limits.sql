-- +goose Up
-- Rate limits (SPEC 13): an org's own limit (app_id and name empty), set by
-- the operator, and limits of its commands and actions, set by its admin.
CREATE TABLE rate_limits (
    org_id          TEXT NOT NULL REFERENCES orgs (id),
    app_id          TEXT NOT NULL,
    name            TEXT NOT NULL,
    runs_per_second REAL NOT NULL,
    burst           INTEGER NOT NULL,
    PRIMARY KEY (org_id, app_id, name)
);

-- +goose Down
DROP TABLE rate_limits;
