-- +goose Up
-- What each run did for each user, counted when the run closes:
-- GET /api/sync/status shows it, and it stays what the run did when the
-- files are deleted or moved later. Runs closed as interrupted have none
-- (users_tallied false): their figures are counted from the files.
CREATE TABLE sync_run_users (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    run_id  BIGINT NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
    synced  INTEGER NOT NULL,
    failed  INTEGER NOT NULL,
    PRIMARY KEY (user_id, run_id)
);
CREATE INDEX sync_run_users_run_idx ON sync_run_users (run_id);
ALTER TABLE sync_runs ADD COLUMN users_tallied BOOLEAN NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE sync_runs DROP COLUMN users_tallied;
DROP TABLE sync_run_users;
