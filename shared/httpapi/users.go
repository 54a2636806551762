package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/auth"
	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
)

type credentials struct {
	Email    *string `json:"email"`
	Password *string `json:"password"`
}

// read decodes and checks the presence of both fields.
func (c *credentials) read(w http.ResponseWriter, r *http.Request) error {
	if err := decodeJSON(w, r, c); err != nil {
		return err
	}
	if c.Email == nil {
		return core.FieldError("email", "email is required")
	}
	if c.Password == nil {
		return core.FieldError("password", "password is required")
	}
	if hasNUL(*c.Email) || hasNUL(*c.Password) {
		return core.Errorf(core.CodeValidation, "fields must not contain NUL bytes")
	}
	return nil
}

func (a *API) signup(w http.ResponseWriter, r *http.Request) {
	var in credentials
	if err := in.read(w, r); err != nil {
		a.writeError(w, r, err)
		return
	}
	email, err := core.NormalizeEmail(*in.Email)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := core.ValidatePassword(*in.Password); err != nil {
		a.writeError(w, r, err)
		return
	}
	hash, err := a.Auth.HashPassword(r.Context(), *in.Password)
	if err != nil {
		a.writeBusy(w, r, err)
		return
	}
	u, err := a.Users.CreateUser(r.Context(), email, hash)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.Logger.InfoContext(r.Context(), "user signed up", "user_id", u.ID, "request_id", requestID(r.Context()))
	writeJSON(w, http.StatusCreated, map[string]any{"message": "account created", "user_id": u.ID})
}

var errInvalidCredentials = core.Errorf(core.CodeInvalidCredentials, "email or password is incorrect")

func (a *API) login(w http.ResponseWriter, r *http.Request) {
	var in credentials
	if err := in.read(w, r); err != nil {
		a.writeError(w, r, err)
		return
	}
	// Whatever is wrong — malformed email, unknown email, wrong password —
	// the answer and the time it takes (one bcrypt comparison) are the same.
	var u core.User
	if email, err := core.NormalizeEmail(*in.Email); err == nil && len(*in.Password) <= core.MaxPasswordBytes {
		// A guess spread over many addresses still meets one budget per account.
		if !a.allow(w, r, emailKey(email), a.Config.AuthEmailRateHour, time.Hour) {
			return
		}
		u, err = a.Users.UserByEmail(r.Context(), email)
		if err != nil && !errors.Is(err, postgres.ErrUserNotFound) {
			a.writeError(w, r, err)
			return
		}
	}
	ok, err := a.Auth.CheckPassword(r.Context(), u.PasswordHash, *in.Password)
	if err != nil {
		a.writeBusy(w, r, err)
		return
	}
	if !ok {
		a.writeError(w, r, errInvalidCredentials)
		return
	}
	tok, exp, err := a.Auth.IssueToken(u.ID, a.now())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	setUser(r.Context(), u.ID)
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok,
		"token_type":   "bearer",
		"expires_in":   int64(exp.Sub(a.now()).Round(time.Second).Seconds()),
		"user":         map[string]any{"id": u.ID, "email": u.Email},
	})
}

func (a *API) me(w http.ResponseWriter, r *http.Request) {
	id, _ := auth.UserID(r.Context())
	u, err := a.Users.UserByID(r.Context(), id)
	if errors.Is(err, postgres.ErrUserNotFound) {
		a.writeError(w, r, auth.ErrUnauthorized) // the account is gone; the token means nothing
		return
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": u.ID, "email": u.Email, "created_at": rfc3339(u.CreatedAt)})
}

// writeBusy answers a failed bcrypt wait: 503 with Retry-After when the
// queue is full. A client that left while waiting is not an internal
// error: it gets (and never reads) a 503 too.
func (a *API) writeBusy(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		err = &core.Error{Code: core.CodeUnavailable, Message: "the request ended while waiting for its turn", RetryAfter: 1}
	}
	a.writeError(w, r, err)
}

// liveUser checks that the user of a valid token still exists, so that a
// token of a deleted account is 401 on every route rather than a
// foreign-key violation on the ones that write. It costs one primary-key
// lookup per authenticated request.
func (a *API) liveUser(ctx context.Context, id int64) error {
	_, err := a.Users.UserByID(ctx, id)
	if errors.Is(err, postgres.ErrUserNotFound) {
		return auth.ErrUnauthorized
	}
	if err != nil {
		return fmt.Errorf("check user %d: %w", id, err)
	}
	return nil
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }
