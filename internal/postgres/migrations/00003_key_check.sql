-- +goose Up
-- The key check value: a constant sealed with the secret key, which an
-- instance must open at start (base64 TEXT; one row).
CREATE TABLE key_check (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    sealed TEXT NOT NULL
);

-- +goose Down
DROP TABLE key_check;
