-- +goose Up
-- Account deletion (issue 13): DELETE /api/auth/me marks the account
-- deleting first. From then on no query finds the user (login, tokens:
-- 401), every file of the account is purging, and the objects, the upload
-- sessions and finally the row go; a deletion interrupted at any point is
-- finished by the next sweep, which takes every account marked deleting.
ALTER TABLE users ADD COLUMN deleting_at TIMESTAMPTZ;
CREATE INDEX users_deleting_idx ON users (id) WHERE deleting_at IS NOT NULL;

-- +goose Down
DROP INDEX users_deleting_idx;
ALTER TABLE users DROP COLUMN deleting_at;
