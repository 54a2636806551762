package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
)

// Errors of two-factor login's set-up.
var (
	ErrTOTPEnabled       = core.Errorf(core.CodeTOTPEnabled, "two-factor login is already on; turn it off first")
	ErrTOTPNotEnabled    = core.Errorf(core.CodeTOTPNotEnabled, "two-factor login is off")
	ErrTOTPSetupRequired = core.Errorf(core.CodeTOTPSetupRequired, "set up two-factor login first (POST /api/auth/totp/setup)")
)

// SetTOTPPending stores sealed as the secret awaiting enable of userID,
// replacing any earlier one; ErrTOTPEnabled while two-factor login is on.
func (db *DB) SetTOTPPending(ctx context.Context, userID int64, sealed []byte) error {
	tag, err := db.Pool.Exec(ctx, `UPDATE users SET totp_pending = $2, updated_at = now() WHERE id = $1 AND totp_secret IS NULL`, userID, sealed)
	if err != nil {
		return fmt.Errorf("store pending TOTP secret of user %d: %w", userID, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrTOTPEnabled
	}
	return nil
}

// TOTPPending returns the sealed secret awaiting enable; ErrTOTPEnabled
// while two-factor login is on, ErrTOTPSetupRequired when there is none.
func (db *DB) TOTPPending(ctx context.Context, userID int64) ([]byte, error) {
	var pending, secret []byte
	err := db.Pool.QueryRow(ctx, `SELECT totp_pending, totp_secret FROM users WHERE id = $1`, userID).Scan(&pending, &secret)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ErrUserNotFound
	case err != nil:
		return nil, fmt.Errorf("look up pending TOTP secret of user %d: %w", userID, err)
	case secret != nil:
		return nil, ErrTOTPEnabled
	case pending == nil:
		return nil, ErrTOTPSetupRequired
	}
	return pending, nil
}

// EnableTOTP puts the pending secret sealed in force, with step as the
// last step used and recovery as the hashes of the recovery codes
// (replacing any earlier ones), in one transaction. ErrTOTPSetupRequired
// when the pending secret is no longer sealed (another setup meanwhile),
// ErrTOTPEnabled when it is on already.
func (db *DB) EnableTOTP(ctx context.Context, userID int64, sealed []byte, step int64, recovery [][]byte) error {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET totp_secret = totp_pending, totp_pending = NULL, totp_enabled_at = now(),
			totp_last_step = $3, updated_at = now() WHERE id = $1 AND totp_secret IS NULL AND totp_pending = $2`, userID, sealed, step)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrTOTPSetupRequired
		}
		if _, err := tx.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
			return err
		}
		for _, h := range recovery {
			if _, err := tx.Exec(ctx, `INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)`, userID, h); err != nil {
				return err
			}
		}
		return nil
	})
	var de *core.Error
	if errors.As(err, &de) {
		return err
	}
	if err != nil {
		return fmt.Errorf("enable TOTP of user %d: %w", userID, err)
	}
	return nil
}

// UseTOTPStep records that a code of time step step was accepted for
// userID, and reports false when a code of that step or a later one
// already was (a replay): a code works once.
func (db *DB) UseTOTPStep(ctx context.Context, userID, step int64) (bool, error) {
	tag, err := db.Pool.Exec(ctx, `UPDATE users SET totp_last_step = $2 WHERE id = $1 AND totp_secret IS NOT NULL AND totp_last_step < $2`,
		userID, step)
	if err != nil {
		return false, fmt.Errorf("use TOTP step of user %d: %w", userID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// UseRecoveryCode marks userID's unused recovery code whose hash is hash
// used, and reports false when there is none such.
func (db *DB) UseRecoveryCode(ctx context.Context, userID int64, hash []byte) (bool, error) {
	tag, err := db.Pool.Exec(ctx, `UPDATE recovery_codes SET used_at = now() WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL`,
		userID, hash)
	if err != nil {
		return false, fmt.Errorf("use recovery code of user %d: %w", userID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// DisableTOTP turns userID's two-factor login off: secret, pending secret
// and recovery codes are deleted. ErrTOTPNotEnabled when it was off.
func (db *DB) DisableTOTP(ctx context.Context, userID int64) error {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_enabled_at = NULL, updated_at = now()
			WHERE id = $1 AND totp_secret IS NOT NULL`, userID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrTOTPNotEnabled
		}
		_, err = tx.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID)
		return err
	})
	if errors.Is(err, ErrTOTPNotEnabled) {
		return err
	}
	if err != nil {
		return fmt.Errorf("disable TOTP of user %d: %w", userID, err)
	}
	return nil
}
