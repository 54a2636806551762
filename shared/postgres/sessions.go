package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
)

// Why a session ended (sessions.end_reason).
const (
	EndLogout   = "logout"   // POST /api/auth/logout, DELETE /api/auth/sessions/{id}
	EndPassword = "password" // the password was changed from another session
	EndReset    = "reset"    // the password was reset by mail
	EndReuse    = "reuse"    // a retired refresh token was presented again
	EndExpired  = "expired"  // found past its idle or absolute limit
	EndAccount  = "account"  // the account is being deleted
)

// ErrSessionNotFound is returned when no live session of the user has the id.
var ErrSessionNotFound = core.Errorf(core.CodeSessionNotFound, "no such session")

// CreateSession starts a session of userID lasting at most maxAge, whose
// first refresh token has the hash refreshHash.
func (db *DB) CreateSession(ctx context.Context, userID int64, refreshHash []byte, maxAge time.Duration, ip, userAgent string) (core.Session, error) {
	s := core.Session{UserID: userID, IP: ip, UserAgent: userAgent}
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO sessions (user_id, expires_at, ip, user_agent)
			VALUES ($1, now() + make_interval(secs => $2), $3, $4) RETURNING id, created_at, last_used_at, expires_at`,
			userID, maxAge.Seconds(), ip, userAgent).Scan(&s.ID, &s.CreatedAt, &s.LastUsedAt, &s.ExpiresAt); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO refresh_tokens (token_hash, session_id) VALUES ($1, $2)`, refreshHash, s.ID)
		return err
	})
	if err != nil {
		return core.Session{}, fmt.Errorf("create session of user %d: %w", userID, err)
	}
	return s, nil
}

// SessionLive reports, as nil, that session sessionID of userID is live:
// not ended, not past its absolute limit, its account not being deleted.
// It returns ErrSessionNotFound otherwise. One primary-key lookup: the
// auth middleware calls it on every request.
func (db *DB) SessionLive(ctx context.Context, userID, sessionID int64) error {
	var live bool
	err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.id = $1 AND s.user_id = $2 AND s.ended_at IS NULL AND s.expires_at > now() AND u.deleting_at IS NULL)`,
		sessionID, userID).Scan(&live)
	if err != nil {
		return fmt.Errorf("check session %d: %w", sessionID, err)
	}
	if !live {
		return ErrSessionNotFound
	}
	return nil
}

// RefreshOutcome is what RotateRefresh made of a presented refresh token.
type RefreshOutcome int

const (
	RefreshRotated  RefreshOutcome = iota // the live token: retired, its successor now live
	RefreshReplayed                       // retired within the grace window and its successor still live: answer that successor again
	RefreshReused                         // retired before: the session has just been ended (reuse)
	RefreshRevoked                        // its session had ended (logout, password, reuse, account deletion)
	RefreshExpired                        // its session passed its idle or absolute limit (ended now)
	RefreshUnknown                        // no session has such a token (or it was swept)
)

// Refresh is RotateRefresh's answer.
type Refresh struct {
	Outcome RefreshOutcome
	Session core.Session // set unless RefreshUnknown
	Email   string       // the user's, for the answer
}

// RotateRefresh presents the refresh token whose hash is hash, whose
// successor's hash is next (the caller derives it from the token), under
// the idle limit idle and the grace window grace, from ip with userAgent.
// In one transaction holding the session's row: a live token is retired
// and next becomes the session's token (RefreshRotated, last use, address
// and agent recorded); a token retired less than grace ago whose successor
// is still live is RefreshReplayed; any other retired token ends the
// session (RefreshReused). Ended or expired sessions change nothing else.
func (db *DB) RotateRefresh(ctx context.Context, hash, next []byte, idle, grace time.Duration, ip, userAgent string) (Refresh, error) {
	var out Refresh
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var retired, inGrace, ended, expired bool
		s := &out.Session
		err := tx.QueryRow(ctx, `SELECT s.id, s.user_id, s.created_at, s.last_used_at, s.expires_at, s.ip, s.user_agent, u.email,
				rt.retired_at IS NOT NULL, COALESCE(rt.retired_at > now() - make_interval(secs => $3), false),
				s.ended_at IS NOT NULL OR u.deleting_at IS NOT NULL,
				s.expires_at <= now() OR s.last_used_at + make_interval(secs => $2) <= now()
			FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id JOIN users u ON u.id = s.user_id
			WHERE rt.token_hash = $1 FOR UPDATE OF s, rt`, hash, idle.Seconds(), grace.Seconds()).
			Scan(&s.ID, &s.UserID, &s.CreatedAt, &s.LastUsedAt, &s.ExpiresAt, &s.IP, &s.UserAgent, &out.Email,
				&retired, &inGrace, &ended, &expired)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			out.Outcome = RefreshUnknown
			return nil
		case err != nil:
			return err
		case ended:
			out.Outcome = RefreshRevoked
			return nil
		case expired:
			out.Outcome = RefreshExpired
			return endSessionTx(ctx, tx, s.ID, EndExpired)
		case retired:
			if inGrace {
				var successorLive bool
				if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM refresh_tokens
					WHERE token_hash = $1 AND session_id = $2 AND retired_at IS NULL)`, next, s.ID).Scan(&successorLive); err != nil {
					return err
				}
				if successorLive {
					out.Outcome = RefreshReplayed
					return nil
				}
			}
			out.Outcome = RefreshReused
			return endSessionTx(ctx, tx, s.ID, EndReuse)
		}
		if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET retired_at = now() WHERE token_hash = $1`, hash); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO refresh_tokens (token_hash, session_id) VALUES ($1, $2)`, next, s.ID); err != nil {
			return err
		}
		out.Outcome = RefreshRotated
		return tx.QueryRow(ctx, `UPDATE sessions SET last_used_at = now(), ip = $2, user_agent = $3 WHERE id = $1
			RETURNING last_used_at, ip, user_agent`, s.ID, ip, userAgent).Scan(&s.LastUsedAt, &s.IP, &s.UserAgent)
	})
	if err != nil {
		return Refresh{}, fmt.Errorf("rotate refresh token: %w", err)
	}
	return out, nil
}

func endSessionTx(ctx context.Context, tx pgx.Tx, id int64, reason string) error {
	_, err := tx.Exec(ctx, `UPDATE sessions SET ended_at = now(), end_reason = $2 WHERE id = $1 AND ended_at IS NULL`, id, reason)
	return err
}

// Scopes of EndSessions.
const (
	ScopeCurrent = "current"
	ScopeOthers  = "others"
	ScopeAll     = "all"
)

// EndSessions ends sessions of userID for reason: scope ScopeCurrent ends
// session current, ScopeOthers every other, ScopeAll every one. It returns
// how many it ended.
func (db *DB) EndSessions(ctx context.Context, userID, current int64, scope, reason string) (int, error) {
	var cond string
	switch scope {
	case ScopeCurrent:
		cond = `id = $3`
	case ScopeOthers:
		cond = `id <> $3`
	case ScopeAll:
		cond = `$3::bigint IS NOT NULL`
	default:
		return 0, fmt.Errorf("end sessions: scope %q", scope)
	}
	tag, err := db.Pool.Exec(ctx, `UPDATE sessions SET ended_at = now(), end_reason = $2
		WHERE user_id = $1 AND ended_at IS NULL AND `+cond, userID, reason, current)
	if err != nil {
		return 0, fmt.Errorf("end sessions of user %d: %w", userID, err)
	}
	return int(tag.RowsAffected()), nil
}

// EndSession ends userID's live session id, or returns ErrSessionNotFound
// (someone else's, ended, or none).
func (db *DB) EndSession(ctx context.Context, userID, id int64) error {
	tag, err := db.Pool.Exec(ctx, `UPDATE sessions SET ended_at = now(), end_reason = $3
		WHERE id = $1 AND user_id = $2 AND ended_at IS NULL`, id, userID, EndLogout)
	if err != nil {
		return fmt.Errorf("end session %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrSessionNotFound
	}
	return nil
}

// ListSessions returns userID's live sessions (not ended, within both
// limits for the idle limit idle), most recently used first.
func (db *DB) ListSessions(ctx context.Context, userID int64, idle time.Duration) ([]core.Session, error) {
	rows, err := db.Pool.Query(ctx, `SELECT id, user_id, created_at, last_used_at, expires_at, ip, user_agent FROM sessions
		WHERE user_id = $1 AND ended_at IS NULL AND expires_at > now() AND last_used_at + make_interval(secs => $2) > now()
		ORDER BY last_used_at DESC, id DESC LIMIT 1000`, userID, idle.Seconds())
	if err != nil {
		return nil, fmt.Errorf("list sessions of user %d: %w", userID, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (core.Session, error) {
		var s core.Session
		err := row.Scan(&s.ID, &s.UserID, &s.CreatedAt, &s.LastUsedAt, &s.ExpiresAt, &s.IP, &s.UserAgent)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("list sessions of user %d: %w", userID, err)
	}
	return out, nil
}

// DeleteOldSessions deletes, with their refresh tokens, the sessions that
// ended or passed their absolute limit before cutoff (kept until then so
// that a late refresh with one of their tokens still answers "revoked"; a
// session that passed only its idle limit goes once its absolute limit is
// past too), and password reset tokens that expired before cutoff. It
// returns how many rows went.
func (db *DB) DeleteOldSessions(ctx context.Context, cutoff time.Time) (int, error) {
	tag, err := db.Pool.Exec(ctx, `DELETE FROM sessions WHERE ended_at < $1 OR expires_at < $1`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("delete old sessions: %w", err)
	}
	tag2, err := db.Pool.Exec(ctx, `DELETE FROM password_resets WHERE expires_at < $1`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("delete old password resets: %w", err)
	}
	return int(tag.RowsAffected() + tag2.RowsAffected()), nil
}
