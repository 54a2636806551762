-- +goose Up
-- Share links (issue 14). A share hands one file to whoever holds its
-- token, with no account: token_hash is the SHA-256 of the token (the
-- token itself is never stored), password_hash a bcrypt hash when the
-- share has a password. A share stops working when it expires, is revoked
-- (revoked_at), has served max_downloads downloads, or its file is in the
-- trash or purging (files.deleted_at) or deleted: deleting the file sets
-- file_id to NULL, so its links answer "gone" rather than "unknown" (the
-- row, a few dozen bytes, stays until the account goes or a new share's
-- insert deletes rows that ended 30 days before); deleting the account
-- deletes its shares (ON DELETE CASCADE).
CREATE TABLE shares (
    id            BIGSERIAL PRIMARY KEY,
    file_id       BIGINT REFERENCES files (id) ON DELETE SET NULL,
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash    BYTEA NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    password_hash TEXT,
    expires_at    TIMESTAMPTZ NOT NULL,
    max_downloads INTEGER CHECK (max_downloads IS NULL OR max_downloads > 0),
    downloads     INTEGER NOT NULL DEFAULT 0 CHECK (downloads >= 0 AND (max_downloads IS NULL OR downloads <= max_downloads)),
    revoked_at    TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- A file's shares, newest first (the owner's list).
CREATE INDEX shares_file_idx ON shares (file_id, created_at DESC, id DESC);
-- Shares of a user (the cascade) and ended shares (the cleanup).
CREATE INDEX shares_user_idx ON shares (user_id);
CREATE INDEX shares_expires_idx ON shares (expires_at);

-- +goose Down
DROP TABLE shares;
