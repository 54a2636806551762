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

// deleteAccount is DELETE /api/auth/me {password}. The password is checked
// like a login's (the same per-address and per-email limits, one bcrypt
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
	uid, _ := auth.UserID(r.Context())
	u, err := a.Users.UserByID(r.Context(), uid)
	if errors.Is(err, postgres.ErrUserNotFound) {
		a.writeError(w, r, auth.ErrUnauthorized)
		return
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	// A stolen token does not buy unlimited guesses: the same budget per
	// account as logins.
	if !a.allow(w, r, emailKey(u.Email), a.Config.AuthEmailRateHour, time.Hour) {
		return
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
	if err := a.Users.MarkUserDeleting(r.Context(), uid); err != nil {
		a.writeError(w, r, err)
		return
	}
	a.Logger.InfoContext(r.Context(), "account deletion started", "user_id", uid, "request_id", requestID(r.Context()))
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), purgeBudget)
	defer cancel()
	if err := a.finishAccountDeletion(ctx, uid); err != nil {
		a.Logger.ErrorContext(ctx, "account deletion: left to the sweep", "user_id", uid, "error", err.Error())
	}
	w.WriteHeader(http.StatusNoContent)
}

// finishAccountDeletion deletes account uid, marked deleting: every file
// marked purging and purged (objects of every tier, then rows), every
// upload session ended (its parts aborted, any assembled object removed,
// then the row), then the user row. Each step is idempotent, so a rerun
// after a crash anywhere finishes the job.
func (a *API) finishAccountDeletion(ctx context.Context, uid int64) error {
	if _, err := a.Files.BeginPurgeAll(ctx, uid); err != nil {
		return err
	}
	if err := a.purgeAllPurging(ctx, uid); err != nil {
		return err
	}
	ids, err := a.Users.UploadsOfUser(ctx, uid)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := a.Uploads.EndUpload(ctx, uid, id, a.discard(ctx)); err != nil && !errors.Is(err, postgres.ErrUploadNotFound) {
			return fmt.Errorf("delete account %d: %w", uid, err)
		}
	}
	if err := a.Users.DeleteUser(ctx, uid); err != nil {
		return fmt.Errorf("delete account %d: %w", uid, err)
	}
	a.Logger.InfoContext(ctx, "account deleted", "user_id", uid)
	return nil
}

// FinishAccountDeletions finishes every account deletion that was
// interrupted (accounts marked deleting). It returns how many accounts it
// deleted and the first error; the others are retried on the next call.
// It runs with PurgeExpiredTrash.
func (a *API) FinishAccountDeletions(ctx context.Context) (int, error) {
	n := 0
	var first error
	var after int64
	for {
		ids, err := a.Users.UsersDeleting(ctx, after, purgeBatch)
		if err != nil {
			return n, errors.Join(first, err)
		}
		for _, id := range ids {
			if err := a.finishAccountDeletion(ctx, id); err != nil {
				if first == nil {
					first = err
				}
			} else {
				n++
			}
			after = id
		}
		if len(ids) < purgeBatch || ctx.Err() != nil {
			return n, first
		}
	}
}
