-- +goose Up
-- Storage quotas (issue 13). quota_bytes overrides USER_QUOTA_MB for one
-- user (NULL: the default). A streamed upload reserves the bytes it may
-- store before it starts (a row here, taken under the user's row lock, so
-- concurrent uploads cannot pass the quota together) and drops the row
-- once its file is recorded or it failed; a reservation whose process died
-- stops counting at expires_at.
ALTER TABLE users ADD COLUMN quota_bytes BIGINT CHECK (quota_bytes IS NULL OR quota_bytes >= 0);
CREATE TABLE quota_reservations (
    id         UUID PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    bytes      BIGINT NOT NULL CHECK (bytes > 0),
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX quota_reservations_user_idx ON quota_reservations (user_id, expires_at);

-- +goose Down
DROP TABLE quota_reservations;
ALTER TABLE users DROP COLUMN quota_bytes;
