-- +goose Up
-- A session whose object the hot tier has assembled (complete-multipart
-- succeeded) but whose file is not recorded yet is "completing":
-- assembled_at is set. finish_until leases the rest of the completion (hash,
-- sniff, record) to one request, which finishes it even if its client hangs
-- up; a retry or a GET of the upload after the lease has passed takes over.
ALTER TABLE upload_sessions ADD COLUMN assembled_at TIMESTAMPTZ, ADD COLUMN finish_until TIMESTAMPTZ;

-- +goose Down
ALTER TABLE upload_sessions DROP COLUMN finish_until, DROP COLUMN assembled_at;
