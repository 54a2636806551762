package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
)

// ErrUserNotFound is returned when no user matches.
var ErrUserNotFound = core.Errorf(core.CodeNotFound, "user not found")

// CreateUser stores a user with an already-normalised email and a password
// hash. It returns an EMAIL_TAKEN error when the email is in use.
func (db *DB) CreateUser(ctx context.Context, email, passwordHash string) (core.User, error) {
	u := core.User{Email: email, PasswordHash: passwordHash}
	err := db.Pool.QueryRow(ctx,
		`INSERT INTO users (email, hashed_password) VALUES ($1, $2) RETURNING id, created_at`,
		email, passwordHash).Scan(&u.ID, &u.CreatedAt)
	if isUniqueViolation(err) {
		return core.User{}, &core.Error{Code: core.CodeEmailTaken, Message: "an account with this email already exists", Field: "email"}
	}
	if err != nil {
		return core.User{}, fmt.Errorf("insert user: %w", err)
	}
	return u, nil
}

// UserByEmail returns the user with the normalised email, or
// ErrUserNotFound (also while the account is being deleted).
func (db *DB) UserByEmail(ctx context.Context, email string) (core.User, error) {
	return db.userWhere(ctx, `email = $1`, email)
}

// UserByID returns the user with the id, or ErrUserNotFound.
func (db *DB) UserByID(ctx context.Context, id int64) (core.User, error) {
	return db.userWhere(ctx, `id = $1`, id)
}

func (db *DB) userWhere(ctx context.Context, cond string, arg any) (core.User, error) {
	var u core.User
	err := db.Pool.QueryRow(ctx,
		`SELECT id, email, hashed_password, created_at, totp_secret FROM users WHERE deleting_at IS NULL AND `+cond, arg).
		Scan(&u.ID, &u.Email, &u.PasswordHash, &u.CreatedAt, &u.TOTPSecret)
	if errors.Is(err, pgx.ErrNoRows) {
		return core.User{}, ErrUserNotFound
	}
	if err != nil {
		return core.User{}, fmt.Errorf("select user: %w", err)
	}
	return u, nil
}

// lockLiveUser takes a share lock on user id's row in tx, unless the
// account is marked deleting or gone: then ErrUserNotFound. A row written
// under it cannot follow the account's deletion mark, whose update waits
// for the lock (and a lock taken after the mark finds the mark).
func lockLiveUser(ctx context.Context, tx pgx.Tx, id int64) error {
	var live bool
	err := tx.QueryRow(ctx, `SELECT true FROM users WHERE id = $1 AND deleting_at IS NULL FOR SHARE`, id).Scan(&live)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrUserNotFound
	}
	if err != nil {
		return fmt.Errorf("lock user %d: %w", id, err)
	}
	return nil
}

// MarkUserDeleting marks account id as being deleted and ends every
// session of it: from then on UserByEmail and UserByID no longer find it,
// and its tokens are refused. Marking an account already marked is no
// error.
func (db *DB) MarkUserDeleting(ctx context.Context, id int64) error {
	if _, err := db.Pool.Exec(ctx, `WITH ended AS (
			UPDATE sessions SET ended_at = now(), end_reason = 'account' WHERE user_id = $1 AND ended_at IS NULL)
		UPDATE users SET deleting_at = COALESCE(deleting_at, now()), updated_at = now()
		WHERE id = $1`, id); err != nil {
		return fmt.Errorf("mark user %d deleting: %w", id, err)
	}
	return nil
}

// UsersDeleting returns up to limit ids of accounts marked deleting, in id
// order after afterID.
func (db *DB) UsersDeleting(ctx context.Context, afterID int64, limit int) ([]int64, error) {
	rows, err := db.Pool.Query(ctx, `SELECT id FROM users WHERE deleting_at IS NOT NULL AND id > $1 ORDER BY id LIMIT $2`,
		afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("list accounts being deleted: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("list accounts being deleted: %w", err)
	}
	return ids, nil
}

// ErrAccountNotEmpty is DeleteUser's answer while the account still has
// files or upload sessions.
var ErrAccountNotEmpty = errors.New("the account still has files or upload sessions")

// DeleteUser deletes account id, marked deleting, once it has neither
// files nor upload sessions left (their objects must be gone first): then
// ErrAccountNotEmpty. An account already gone is no error.
func (db *DB) DeleteUser(ctx context.Context, id int64) error {
	tag, err := db.Pool.Exec(ctx, `DELETE FROM users WHERE id = $1 AND deleting_at IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM files WHERE user_id = $1)
		AND NOT EXISTS (SELECT 1 FROM upload_sessions WHERE user_id = $1)`, id)
	if err != nil {
		return fmt.Errorf("delete user %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		var left bool
		if err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)`, id).Scan(&left); err != nil {
			return fmt.Errorf("look up user %d: %w", id, err)
		}
		if left {
			return ErrAccountNotEmpty
		}
	}
	return nil
}

// UploadsOfUser returns the ids of every upload session of userID,
// expired ones included.
func (db *DB) UploadsOfUser(ctx context.Context, userID int64) ([]string, error) {
	rows, err := db.Pool.Query(ctx, `SELECT id::text FROM upload_sessions WHERE user_id = $1 ORDER BY created_at`, userID)
	if err != nil {
		return nil, fmt.Errorf("list uploads of user %d: %w", userID, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list uploads of user %d: %w", userID, err)
	}
	return ids, nil
}
