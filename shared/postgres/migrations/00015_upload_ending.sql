-- +goose Up
-- A session being ended (aborted by its owner, failed, expired, its owner's
-- account deleted) is marked first, in a statement of its own, and its
-- parts and object are removed with no transaction open: ending_at is set.
-- A marked session can no longer be leased, completed or recorded as a
-- file; its row goes once the tier's copies are gone. A marking older than
-- ten minutes (its ender crashed or the tier failed) is the janitor's.
ALTER TABLE upload_sessions ADD COLUMN ending_at TIMESTAMPTZ;
CREATE INDEX upload_sessions_ending_idx ON upload_sessions (ending_at) WHERE ending_at IS NOT NULL;

-- +goose Down
DROP INDEX upload_sessions_ending_idx;
ALTER TABLE upload_sessions DROP COLUMN ending_at;
