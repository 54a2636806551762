-- +goose Up
-- The trash (issue 13). A trashed file keeps its row and its objects:
-- deleted_at is when it went to the trash, purge_at when the scheduled
-- purge removes it. purging_at marks a purge under way: from then on the
-- row is a tombstone no route shows or serves (neither the list, the
-- trash, a download nor a restore), its objects are removed from every
-- tier, then the row; a purge interrupted at any point is finished by the
-- next sweep, which takes every purging row.
ALTER TABLE files ADD COLUMN deleted_at TIMESTAMPTZ,
	ADD COLUMN purge_at TIMESTAMPTZ,
	ADD COLUMN purging_at TIMESTAMPTZ,
	ADD CONSTRAINT files_trash_check CHECK ((deleted_at IS NULL) = (purge_at IS NULL)
		AND (purging_at IS NULL OR deleted_at IS NOT NULL));

-- The list and the sync queue see live files only.
DROP INDEX files_user_list_idx;
CREATE INDEX files_user_list_idx ON files (user_id, uploaded_at DESC, id DESC) WHERE deleted_at IS NULL;
DROP INDEX files_sync_queue_idx;
CREATE INDEX files_sync_queue_idx ON files (uploaded_at, id) WHERE storage_location = 'minio' AND deleted_at IS NULL;
-- The trash list: one user's trashed files, newest deletion first.
CREATE INDEX files_user_trash_idx ON files (user_id, deleted_at DESC, id DESC) WHERE deleted_at IS NOT NULL;
-- The sweep: files due for purge, or whose purge was interrupted.
CREATE INDEX files_purge_idx ON files (purge_at) WHERE deleted_at IS NOT NULL;

-- +goose Down
DROP INDEX files_purge_idx;
DROP INDEX files_user_trash_idx;
DROP INDEX files_sync_queue_idx;
CREATE INDEX files_sync_queue_idx ON files (uploaded_at, id) WHERE storage_location = 'minio';
DROP INDEX files_user_list_idx;
CREATE INDEX files_user_list_idx ON files (user_id, uploaded_at DESC, id DESC);
ALTER TABLE files DROP CONSTRAINT files_trash_check,
	DROP COLUMN purging_at, DROP COLUMN purge_at, DROP COLUMN deleted_at;
