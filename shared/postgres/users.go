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

// UserByEmail returns the user with the normalised email, or ErrUserNotFound.
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
		`SELECT id, email, hashed_password, created_at FROM users WHERE `+cond, arg).
		Scan(&u.ID, &u.Email, &u.PasswordHash, &u.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return core.User{}, ErrUserNotFound
	}
	if err != nil {
		return core.User{}, fmt.Errorf("select user: %w", err)
	}
	return u, nil
}
