-- +goose Up
-- The upload session a file was completed from, if any: a client that
-- retries a completion whose answer it never got (a dropped connection, API
-- Gateway's 30 s limit) is answered with the file instead of 404, and does
-- not upload the file again.
ALTER TABLE files ADD COLUMN upload_id UUID UNIQUE;

-- +goose Down
ALTER TABLE files DROP COLUMN upload_id;
