-- +goose Up
-- Attempt counters of the auth rate limits, shared by every API instance
-- (local servers and Lambda functions): one row per key (client address or
-- target email) with its current window, which opens at the key's first
-- attempt and is replaced by the first attempt after it ends. Counters are
-- worth nothing after a crash, so the table is not WAL-logged.
CREATE UNLOGGED TABLE auth_rate_limits (
    key          TEXT PRIMARY KEY,
    window_start TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    hits         INTEGER NOT NULL
);
CREATE INDEX auth_rate_limits_expires_idx ON auth_rate_limits (expires_at);

-- +goose Down
DROP TABLE auth_rate_limits;
