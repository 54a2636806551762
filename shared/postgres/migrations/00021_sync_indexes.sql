-- +goose Up
-- Indexes that keep the sync's bookkeeping off full scans of files
-- (TestNoRequestScansATable). GET /api/sync/status counts the user's files
-- the last run synced or failed: ranges of these two, not all the user's.
CREATE INDEX files_user_synced_idx ON files (user_id, synced_at) WHERE storage_location = 's3';
CREATE INDEX files_user_sync_failed_idx ON files (user_id, last_sync_attempt_at)
    WHERE storage_location = 'minio' AND last_sync_error IS NOT NULL;
-- A run's close counts the files its workers claimed (sync_owner is
-- run-<id>/<worker>): the run's rows, not every file.
CREATE INDEX files_sync_run_idx ON files (split_part(sync_owner, '/', 1)) WHERE sync_owner IS NOT NULL;

-- +goose Down
DROP INDEX files_sync_run_idx;
DROP INDEX files_user_sync_failed_idx;
DROP INDEX files_user_synced_idx;
