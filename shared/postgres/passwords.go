package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
)

// ErrResetTokenInvalid is returned for a password reset token that is
// unknown, used or expired.
var ErrResetTokenInvalid = core.Errorf(core.CodeResetTokenInvalid, "this reset link is invalid, used or expired; ask for a new one")

// CreatePasswordReset stores the hash of a password reset token of userID
// valid for ttl.
func (db *DB) CreatePasswordReset(ctx context.Context, userID int64, hash []byte, ttl time.Duration) error {
	if _, err := db.Pool.Exec(ctx, `INSERT INTO password_resets (token_hash, user_id, expires_at)
		VALUES ($1, $2, now() + make_interval(secs => $3))`, hash, userID, ttl.Seconds()); err != nil {
		return fmt.Errorf("create password reset of user %d: %w", userID, err)
	}
	return nil
}

// PasswordResetUser returns the account a usable reset token (not used,
// not expired, its account not being deleted) belongs to, or
// ErrResetTokenInvalid.
func (db *DB) PasswordResetUser(ctx context.Context, hash []byte) (core.User, error) {
	var u core.User
	err := db.Pool.QueryRow(ctx, `SELECT u.id, u.email FROM password_resets r JOIN users u ON u.id = r.user_id
		WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > now() AND u.deleting_at IS NULL`, hash).Scan(&u.ID, &u.Email)
	if errors.Is(err, pgx.ErrNoRows) {
		return core.User{}, ErrResetTokenInvalid
	}
	if err != nil {
		return core.User{}, fmt.Errorf("look up password reset: %w", err)
	}
	return u, nil
}

// ResetPassword uses the reset token whose hash is hash (once: a second use
// is ErrResetTokenInvalid) to set the account's password hash, in one
// transaction that also uses every other reset token of the account and
// ends every session of it. It returns the account's id.
func (db *DB) ResetPassword(ctx context.Context, hash []byte, passwordHash string) (int64, error) {
	var uid int64
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `UPDATE password_resets r SET used_at = now() FROM users u
			WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > now() AND u.id = r.user_id AND u.deleting_at IS NULL
			RETURNING r.user_id`, hash).Scan(&uid)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrResetTokenInvalid
		}
		if err != nil {
			return err
		}
		return setPasswordTx(ctx, tx, uid, passwordHash, 0, EndReset)
	})
	if errors.Is(err, ErrResetTokenInvalid) {
		return 0, err
	}
	if err != nil {
		return 0, fmt.Errorf("reset password: %w", err)
	}
	return uid, nil
}

// ChangePassword sets userID's password hash, ends every session of it
// but keep, and uses its unused reset tokens, in one transaction.
func (db *DB) ChangePassword(ctx context.Context, userID int64, passwordHash string, keep int64) error {
	if err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		return setPasswordTx(ctx, tx, userID, passwordHash, keep, EndPassword)
	}); err != nil {
		return fmt.Errorf("change password of user %d: %w", userID, err)
	}
	return nil
}

func setPasswordTx(ctx context.Context, tx pgx.Tx, uid int64, passwordHash string, keep int64, reason string) error {
	if _, err := tx.Exec(ctx, `UPDATE users SET hashed_password = $2, updated_at = now() WHERE id = $1`, uid, passwordHash); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE password_resets SET used_at = now() WHERE user_id = $1 AND used_at IS NULL`, uid); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE sessions SET ended_at = now(), end_reason = $3 WHERE user_id = $1 AND ended_at IS NULL AND id <> $2`,
		uid, keep, reason)
	return err
}
