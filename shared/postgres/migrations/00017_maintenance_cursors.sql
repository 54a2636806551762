-- +goose Up
-- Where a maintenance task that goes through a tier's listing a bounded
-- number of pages per run (the orphan sweep) stopped: the key it listed
-- last, "" when the next run starts from the first key again.
CREATE TABLE maintenance_cursors (
    name       TEXT PRIMARY KEY,
    after_key  TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE maintenance_cursors;
