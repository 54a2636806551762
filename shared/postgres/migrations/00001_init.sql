-- +goose Up
CREATE TABLE users (
    id              BIGSERIAL PRIMARY KEY,
    email           TEXT NOT NULL CHECK (email = lower(email) AND octet_length(email) <= 254),
    hashed_password TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE files (
    id                   BIGSERIAL PRIMARY KEY,
    user_id              BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    filename             TEXT NOT NULL CHECK (octet_length(filename) BETWEEN 1 AND 255),
    original_filename    TEXT NOT NULL CHECK (octet_length(original_filename) BETWEEN 1 AND 255),
    file_size            BIGINT NOT NULL CHECK (file_size >= 0),
    content_type         TEXT NOT NULL,
    storage_location     TEXT NOT NULL CHECK (storage_location IN ('minio', 's3')),
    object_key           TEXT NOT NULL UNIQUE,
    access_url           TEXT NOT NULL,
    checksum_sha256      CHAR(64) NOT NULL,
    uploaded_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    synced_at            TIMESTAMPTZ,
    sync_attempts        INTEGER NOT NULL DEFAULT 0,
    last_sync_error      TEXT,
    last_sync_attempt_at TIMESTAMPTZ,
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- The list query: one user's files, newest first, keyset on (uploaded_at, id).
CREATE INDEX files_user_list_idx ON files (user_id, uploaded_at DESC, id DESC);
-- The sync queue: hot-tier files, oldest first.
CREATE INDEX files_sync_queue_idx ON files (uploaded_at, id) WHERE storage_location = 'minio';

CREATE TABLE sync_runs (
    id            BIGSERIAL PRIMARY KEY,
    started_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at   TIMESTAMPTZ,
    status        TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'partial', 'failed')),
    trigger       TEXT NOT NULL DEFAULT 'schedule',
    files_synced  INTEGER NOT NULL DEFAULT 0,
    files_failed  INTEGER NOT NULL DEFAULT 0,
    files_left    INTEGER NOT NULL DEFAULT 0,
    bytes_synced  BIGINT NOT NULL DEFAULT 0,
    error_summary TEXT
);
CREATE INDEX sync_runs_started_idx ON sync_runs (started_at DESC);

-- +goose Down
DROP TABLE sync_runs;
DROP TABLE files;
DROP TABLE users;
