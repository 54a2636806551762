-- +goose Up
-- +goose StatementBegin
-- file_name_pick gives a file about to be recorded its folder and a name
-- no live file there has: the folder is p_folder when that is a live
-- folder of p_user (locked FOR SHARE against its trash), else the root
-- (NULL); o_pick is the index (from 1) of the first of names that no live
-- file of the folder has, case-insensitively, or NULL when all are taken.
-- It takes a transaction-level advisory lock on (user, folder) first, and
-- each statement of a function sees what was committed before it ran: a
-- second upload of one name into one folder waits for the first to commit
-- and then sees its row. The caller inserts the file in the same
-- transaction (shared/postgres RecordUpload, CompleteUpload).
CREATE FUNCTION file_name_pick(p_user BIGINT, p_folder BIGINT, names TEXT[], OUT o_folder BIGINT, OUT o_pick INT)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT f.id INTO o_folder FROM folders f
    WHERE f.id = p_folder AND f.user_id = p_user AND f.deleted_at IS NULL FOR SHARE;
    PERFORM pg_advisory_xact_lock(hashtextextended('file-names:' || p_user || ':' || coalesce(o_folder, 0), 0));
    -- One probe of files_folder_name_idx (00024) per name.
    SELECT min(i) INTO o_pick FROM generate_subscripts(names, 1) i
    WHERE NOT EXISTS (SELECT 1 FROM files x
        WHERE x.user_id = p_user AND coalesce(x.folder_id, 0) = coalesce(o_folder, 0) AND x.deleted_at IS NULL
            AND lower(x.original_filename) COLLATE "C" = lower(names[i]) COLLATE "C");
END $$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION file_name_pick(BIGINT, BIGINT, TEXT[]);
