-- +goose Up
-- Folders (issue 23): each user's tree; a file lives in one folder or in
-- the root (folder_id NULL). Trashing a folder marks it (deleted_at,
-- purge_at) and marks every folder and file under it with trash_root_id /
-- trash_folder_id = that folder: the trash shows the folder as one entry,
-- a restore brings back exactly what went with it, and the files keep
-- their own deleted_at/purge_at so the usage counters and the purges of
-- 00011 see them as trashed files.
CREATE TABLE folders (
    id            BIGSERIAL PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- SET NULL: only a purged trash entry's row is deleted; a folder
    -- trashed on its own earlier under it stays an entry, then in the root
    parent_id     BIGINT REFERENCES folders (id) ON DELETE SET NULL,
    name          TEXT NOT NULL CHECK (octet_length(name) BETWEEN 1 AND 255),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    deleted_at    TIMESTAMPTZ,
    purge_at      TIMESTAMPTZ,
    purging_at    TIMESTAMPTZ,
    -- the trashed folder this one went to the trash with (NULL for that
    -- folder itself, the trash entry)
    trash_root_id BIGINT REFERENCES folders (id) ON DELETE CASCADE,
    CONSTRAINT folders_trash_check CHECK ((deleted_at IS NULL) = (purge_at IS NULL)
        AND (trash_root_id IS NULL OR deleted_at IS NOT NULL)
        AND (purging_at IS NULL OR deleted_at IS NOT NULL)),
    CONSTRAINT folders_parent_check CHECK (parent_id <> id)
);
-- The count limit, and the cascade of a user's deletion.
CREATE INDEX folders_user_idx ON folders (user_id);
-- Names are unique among a folder's live subfolders, case-insensitively.
CREATE UNIQUE INDEX folders_sibling_name_key ON folders (user_id, coalesce(parent_id, 0), lower(name)) WHERE deleted_at IS NULL;
CREATE INDEX folders_parent_idx ON folders (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX folders_trash_root_idx ON folders (trash_root_id) WHERE trash_root_id IS NOT NULL;
-- The trash list's folder entries, and the sweep of expired ones.
CREATE INDEX folders_user_trash_idx ON folders (user_id, deleted_at DESC, id DESC) WHERE deleted_at IS NOT NULL AND trash_root_id IS NULL;
CREATE INDEX folders_purge_idx ON folders (purge_at) WHERE deleted_at IS NOT NULL AND trash_root_id IS NULL;
CREATE INDEX folders_purging_idx ON folders (id) WHERE purging_at IS NOT NULL AND trash_root_id IS NULL;

-- A file's folder; a purged folder's files are being purged too (SET NULL
-- only ever meets purging rows). trash_folder_id has no ON DELETE: a
-- trashed folder's row stays while any file that went with it does.
ALTER TABLE files ADD COLUMN folder_id BIGINT REFERENCES folders (id) ON DELETE SET NULL,
    ADD COLUMN trash_folder_id BIGINT REFERENCES folders (id),
    ADD CONSTRAINT files_trash_folder_check CHECK (trash_folder_id IS NULL OR deleted_at IS NOT NULL);
CREATE INDEX files_folder_idx ON files (folder_id) WHERE folder_id IS NOT NULL;
CREATE INDEX files_trash_folder_idx ON files (trash_folder_id) WHERE trash_folder_id IS NOT NULL;
-- One folder's page of GET /api/files?folder_id= in each sort (the root
-- is folder 0), as 00011 and 00023 serve the list of every file.
CREATE INDEX files_folder_list_idx ON files (user_id, coalesce(folder_id, 0), uploaded_at, id) WHERE deleted_at IS NULL;
CREATE INDEX files_folder_name_idx ON files (user_id, coalesce(folder_id, 0), lower(original_filename) COLLATE "C", id) WHERE deleted_at IS NULL;
CREATE INDEX files_folder_size_idx ON files (user_id, coalesce(folder_id, 0), file_size, id) WHERE deleted_at IS NULL;

-- A user's purging files (PurgingFiles: a folder's purge, emptying the
-- trash, account deletion).
CREATE INDEX files_user_purging_idx ON files (user_id, id) WHERE purging_at IS NOT NULL;

-- The folder a multipart upload goes to when it completes.
ALTER TABLE upload_sessions ADD COLUMN folder_id BIGINT REFERENCES folders (id) ON DELETE SET NULL;

-- +goose Down
ALTER TABLE upload_sessions DROP COLUMN folder_id;
DROP INDEX files_user_purging_idx;
DROP INDEX files_folder_size_idx;
DROP INDEX files_folder_name_idx;
DROP INDEX files_folder_list_idx;
DROP INDEX files_trash_folder_idx;
DROP INDEX files_folder_idx;
ALTER TABLE files DROP CONSTRAINT files_trash_folder_check, DROP COLUMN trash_folder_id, DROP COLUMN folder_id;
DROP TABLE folders;
