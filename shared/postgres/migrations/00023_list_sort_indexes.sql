-- +goose Up
-- The sorted file lists of GET /api/files (?sort=name|size): keyset pages
-- read in index order, forwards for asc and backwards for desc, as
-- files_user_list_idx (00011) serves sort=uploaded_at. Live files only, as
-- the list. Names order by lower(original_filename) in the "C" collation
-- (shared/postgres ListFiles): the expression and collation must match the
-- query's for the index to serve it.
CREATE INDEX files_user_name_idx ON files (user_id, lower(original_filename) COLLATE "C", id) WHERE deleted_at IS NULL;
CREATE INDEX files_user_size_idx ON files (user_id, file_size, id) WHERE deleted_at IS NULL;

-- +goose Down
DROP INDEX files_user_size_idx;
DROP INDEX files_user_name_idx;
