package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/hybrid-storage/hybrid-storage/shared/auth"
	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
)

// deleteAccount is DELETE /api/auth/me {password}. The password is checked
// like a login's (the same per-address limit and guess counters, one bcrypt
// comparison), then the account is marked deleting — from that moment it
// cannot log in and its tokens are 401 — and its files (live and trashed),
// their objects in both tiers and its open uploads are removed, then the
// row. Whatever this request cannot finish (a tier down, its budget spent)
// the sweep finishes; the answer is 204 once the account is marked.
func (a *API) deleteAccount(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Password *string `json:"password"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	if in.Password == nil {
		a.writeError(w, r, core.FieldError("password", "password is required"))
		return
	}
	if hasNUL(*in.Password) || len(*in.Password) > core.MaxPasswordBytes {
		a.writeError(w, r, errInvalidCredentials)
		return
	}
	u, err := a.currentUser(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	// A stolen token does not buy unlimited guesses: the same counters as
	// logins of this account.
	end, allowed := a.beginGuess(w, r, a.accountGuesses(r, u.Email))
	if !allowed {
		return
	}
	ok, err := a.Auth.CheckPassword(r.Context(), auth.LaneLogin, u.PasswordHash, *in.Password)
	if err != nil {
		end(guessNotMade)
		a.writeBusy(w, r, err)
		return
	}
	end(outcome(ok))
	if !ok {
		a.writeError(w, r, errInvalidCredentials)
		return
	}
	if err := a.Users.MarkUserDeleting(r.Context(), u.ID); err != nil {
		a.writeError(w, r, err)
		return
	}
	a.clearRefreshCookie(w, r) // every session ended with the mark
	a.Logger.InfoContext(r.Context(), "account deletion started", "user_id", u.ID, "request_id", requestID(r.Context()))
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), purgeBudget)
	defer cancel()
	if err := a.Maintenance.FinishAccountDeletion(ctx, u.ID); err != nil {
		a.Logger.ErrorContext(ctx, "account deletion: left to maintenance", "user_id", u.ID, "error", err.Error())
	}
	w.WriteHeader(http.StatusNoContent)
}

// accountGone maps ErrUserNotFound from a write for the request's user (its
// account was marked deleting after the request was let in) to the 401
// its tokens get from then on; other errors are returned as they are.
func accountGone(err error) error {
	if errors.Is(err, postgres.ErrUserNotFound) {
		return auth.ErrUnauthorized
	}
	return err
}
