-- +goose Up
-- Sessions (issue 22). A login starts a session; every access token names
-- it (the JWT's sid), and the auth middleware refuses a token whose session
-- has ended (ended_at) or passed its absolute limit (expires_at), in the
-- same primary-key lookup that checks the user. The idle limit is
-- last_used_at + SESSION_IDLE_DAYS, checked by refresh.
CREATE TABLE sessions (
    id           BIGSERIAL PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at   TIMESTAMPTZ NOT NULL,
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT '' CHECK (octet_length(user_agent) <= 256),
    ended_at     TIMESTAMPTZ,
    end_reason   TEXT CHECK (end_reason IN ('logout', 'password', 'reset', 'reuse', 'expired', 'account'))
);
-- A user's live sessions (the list, logout others/all, password changes).
CREATE INDEX sessions_user_live_idx ON sessions (user_id, last_used_at DESC) WHERE ended_at IS NULL;
-- The sweep of ended and expired sessions.
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- The refresh tokens of a session: the SHA-256 of each token it was given.
-- The live one has retired_at NULL; retired ones stay until the session is
-- deleted, so that any of them presented again is recognised as reuse and
-- ends the session (RFC 9700 section 4.14).
CREATE TABLE refresh_tokens (
    token_hash BYTEA PRIMARY KEY CHECK (length(token_hash) = 32),
    session_id BIGINT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    issued_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    retired_at TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

-- Password reset links: the SHA-256 of each token mailed, single use,
-- valid 30 minutes. Using one, or changing the password, uses them all.
CREATE TABLE password_resets (
    token_hash BYTEA PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX password_resets_user_idx ON password_resets (user_id);
CREATE INDEX password_resets_expires_idx ON password_resets (expires_at);

-- +goose Down
DROP TABLE password_resets;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
