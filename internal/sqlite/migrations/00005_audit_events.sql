-- +goose Up
-- What an entry records (run, fallback_on, fallback_off) and the status the
-- upstream answered when it is not the one served (a stale response served
-- during an outage). Entries written before are runs.
ALTER TABLE audit_log ADD COLUMN event TEXT NOT NULL DEFAULT 'run';
ALTER TABLE audit_log ADD COLUMN upstream_status INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE audit_log DROP COLUMN upstream_status;
ALTER TABLE audit_log DROP COLUMN event;
