-- +goose Up
-- A completion that may ask the hot tier to assemble a session's object
-- holds the session from its lease until the tier has answered: assemblers
-- counts such completions and assembling_until is when the last hold lapses
-- (its request died). An ender (abort, account deletion, the janitor) that
-- marks a held session ending removes what the tier holds but leaves the
-- row: an object the tier assembles after that removal would otherwise have
-- neither a row nor a session. The completion, seeing the mark as it lets
-- go, removes what the tier assembled and then the row.
ALTER TABLE upload_sessions ADD COLUMN assemblers INT NOT NULL DEFAULT 0, ADD COLUMN assembling_until TIMESTAMPTZ;

-- +goose Down
ALTER TABLE upload_sessions DROP COLUMN assembling_until, DROP COLUMN assemblers;
