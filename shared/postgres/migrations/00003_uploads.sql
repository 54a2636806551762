-- +goose Up
-- Presigned multipart uploads in progress. A row exists exactly as long as
-- the object key has no files row: completion inserts the file and deletes
-- the session in one transaction, so an expired row always names storage
-- (parts, or a completed object) that nobody references.
CREATE TABLE upload_sessions (
    id                UUID PRIMARY KEY,
    user_id           BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    object_key        TEXT NOT NULL UNIQUE,
    storage_upload_id TEXT NOT NULL,
    filename          TEXT NOT NULL CHECK (octet_length(filename) BETWEEN 1 AND 255),
    original_filename TEXT NOT NULL CHECK (octet_length(original_filename) BETWEEN 1 AND 255),
    declared_size     BIGINT NOT NULL CHECK (declared_size > 0),
    content_type      TEXT NOT NULL,
    part_size         BIGINT NOT NULL CHECK (part_size > 0),
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at        TIMESTAMPTZ NOT NULL
);
-- The janitor's query: expired sessions, oldest first.
CREATE INDEX upload_sessions_expires_idx ON upload_sessions (expires_at);

-- +goose Down
DROP TABLE upload_sessions;
