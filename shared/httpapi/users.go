package httpapi

import (
	"context"
	"errors"
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
	return c.check()
}

// check checks the presence of both fields.
func (c *credentials) check() error {
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
	if err := a.sameOrigin(r); err != nil {
		a.writeError(w, r, err)
		return
	}
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
	if err := checkNewPassword("password", *in.Password, email); err != nil {
		a.writeError(w, r, err)
		return
	}
	hash, err := a.Auth.HashPassword(r.Context(), auth.LaneSignup, *in.Password)
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
	// The address that chose the password knows it, as after a login: the
	// account's guess ceiling does not lock it out.
	if err := a.Limits.Remember(r.Context(), a.accountGuesses(r, email).known, knownFor); err != nil {
		a.Logger.ErrorContext(r.Context(), "signup: remember address", "error", err.Error(), "request_id", requestID(r.Context()))
	}
	// Signing up logs in: the answer is login's, plus the account's fields.
	body, err := a.startSession(w, r, u)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	body["message"], body["user_id"] = "account created", u.ID
	writeJSON(w, http.StatusCreated, body)
}

var errInvalidCredentials = core.Errorf(core.CodeInvalidCredentials, "email or password is incorrect")

func (a *API) login(w http.ResponseWriter, r *http.Request) {
	if err := a.sameOrigin(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	var in struct {
		Email        *string `json:"email"`
		Password     *string `json:"password"`
		TOTPCode     *string `json:"totp_code"`
		RecoveryCode *string `json:"recovery_code"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := (&credentials{Email: in.Email, Password: in.Password}).check(); err != nil {
		a.writeError(w, r, err)
		return
	}
	// Whatever is wrong — malformed email, unknown email, wrong password —
	// the answer and the time it takes (one bcrypt comparison) are the same.
	var u core.User
	end := func(guessOutcome) {}
	if email, err := core.NormalizeEmail(*in.Email); err == nil && len(*in.Password) <= core.MaxPasswordBytes {
		// Per (account, address) with progressive delays, and an hourly
		// ceiling per account that known addresses do not meet.
		var allowed bool
		if end, allowed = a.beginGuess(w, r, a.accountGuesses(r, email)); !allowed {
			return
		}
		u, err = a.Users.UserByEmail(r.Context(), email)
		if err != nil && !errors.Is(err, postgres.ErrUserNotFound) {
			end(guessNotMade)
			a.writeError(w, r, err)
			return
		}
	}
	ok, err := a.Auth.CheckPassword(r.Context(), auth.LaneLogin, u.PasswordHash, *in.Password)
	if err != nil {
		end(guessNotMade)
		a.writeBusy(w, r, err)
		return
	}
	if ok && u.TOTPEnabled() {
		// The password is right: the second factor decides. No code is no
		// guess; a wrong code counts as a wrong guess under the same limits.
		if (in.TOTPCode == nil || *in.TOTPCode == "") && (in.RecoveryCode == nil || *in.RecoveryCode == "") {
			end(guessNotMade)
			a.writeError(w, r, errTOTPRequired)
			return
		}
		if err := a.secondFactor(r.Context(), u, in.TOTPCode, in.RecoveryCode); err != nil {
			if isWrongCode(err) {
				end(guessWrong)
			} else {
				end(guessNotMade)
			}
			a.writeError(w, r, err)
			return
		}
	}
	end(outcome(ok))
	if !ok {
		a.writeError(w, r, errInvalidCredentials)
		return
	}
	body, err := a.startSession(w, r, u)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

func (a *API) me(w http.ResponseWriter, r *http.Request) {
	u, err := a.currentUser(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": u.ID, "email": u.Email, "created_at": rfc3339(u.CreatedAt), "totp_enabled": u.TOTPEnabled()})
}

// currentUser loads the authenticated user; a gone account answers 401
// auth.ErrUnauthorized (the token means nothing any more).
func (a *API) currentUser(r *http.Request) (core.User, error) {
	id, _ := auth.UserID(r.Context())
	u, err := a.Users.UserByID(r.Context(), id)
	if errors.Is(err, postgres.ErrUserNotFound) {
		return core.User{}, auth.ErrUnauthorized
	}
	return u, err
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

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }
