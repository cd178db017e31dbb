-- +goose Up
-- The protocol a run came through when it is not the REST API ("mcp").
ALTER TABLE audit_log ADD COLUMN via TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE audit_log DROP COLUMN via;
