-- +goose Up
-- When the sync job removed a synced file's hot copy (DELETE_FROM_MINIO_AFTER_SYNC).
-- A file in 's3' with no hot_deleted_at may still have a hot copy: a crash between
-- the commit that flipped the row and the hot delete leaves exactly that, and the
-- next run's clean-up step finds it through the partial index below.
ALTER TABLE files ADD COLUMN hot_deleted_at TIMESTAMPTZ;
CREATE INDEX files_hot_cleanup_idx ON files (id) WHERE storage_location = 's3' AND hot_deleted_at IS NULL;

-- +goose Down
DROP INDEX files_hot_cleanup_idx;
ALTER TABLE files DROP COLUMN hot_deleted_at;
