package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/hybrid-storage/hybrid-storage/shared/auth"
	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
)

// totpStore is what two-factor login needs of the database
// (shared/postgres/totp.go).
type totpStore interface {
	SetTOTPPending(ctx context.Context, userID int64, sealed []byte) error
	TOTPPending(ctx context.Context, userID int64) ([]byte, error)
	EnableTOTP(ctx context.Context, userID int64, sealed []byte, step int64, recovery [][]byte) error
	UseTOTPStep(ctx context.Context, userID, step int64) (bool, error)
	UseRecoveryCode(ctx context.Context, userID int64, hash []byte) (bool, error)
	DisableTOTP(ctx context.Context, userID int64) error
}

var errTOTPRequired = core.Errorf(core.CodeTOTPRequired, "this account has two-factor login: send totp_code (or a recovery_code)")

func wrongCode(field string) error {
	return &core.Error{Code: core.CodeInvalidCredentials, Message: "the code is incorrect or was used already", Field: field}
}

// secondFactor checks u's second factor: a TOTP code (once: its time step
// is recorded, and codes of that step or earlier are refused from then
// on), or else a recovery code (once). It returns wrongCode naming the
// field at fault, or another error when the check itself failed.
func (a *API) secondFactor(ctx context.Context, u core.User, totpCode, recoveryCode *string) error {
	if totpCode != nil && *totpCode != "" {
		secret, err := a.Auth.Open(u.TOTPSecret)
		if err != nil {
			return err
		}
		step, ok := auth.TOTPStep(secret, *totpCode, a.now())
		if !ok {
			return wrongCode("totp_code")
		}
		fresh, err := a.TOTP.UseTOTPStep(ctx, u.ID, step)
		if err != nil {
			return err
		}
		if !fresh {
			return wrongCode("totp_code")
		}
		return nil
	}
	if recoveryCode == nil || len(*recoveryCode) > 64 {
		return wrongCode("recovery_code")
	}
	ok, err := a.TOTP.UseRecoveryCode(ctx, u.ID, auth.HashRecoveryCode(*recoveryCode))
	if err != nil {
		return err
	}
	if !ok {
		return wrongCode("recovery_code")
	}
	return nil
}

// totpSetup is POST /api/auth/totp/setup: a new secret awaiting enable.
func (a *API) totpSetup(w http.ResponseWriter, r *http.Request) {
	u, err := a.currentUser(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if u.TOTPEnabled() {
		a.writeError(w, r, postgres.ErrTOTPEnabled)
		return
	}
	secret, uri, err := auth.NewTOTP(u.Email)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := a.TOTP.SetTOTPPending(r.Context(), u.ID, a.Auth.Seal(secret)); err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"secret": secret, "otpauth_uri": uri})
}

// totpEnable is POST /api/auth/totp/enable {code}: a code of the pending
// secret turns two-factor login on; the answer holds the recovery codes,
// which the server keeps only hashed.
func (a *API) totpEnable(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Code *string `json:"code"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	if in.Code == nil {
		a.writeError(w, r, core.FieldError("code", "code is required"))
		return
	}
	uid, _ := auth.UserID(r.Context())
	sealed, err := a.TOTP.TOTPPending(r.Context(), uid)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	secret, err := a.Auth.Open(sealed)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	step, ok := auth.TOTPStep(secret, *in.Code, a.now())
	if !ok {
		a.writeError(w, r, core.FieldError("code", "the code does not match; check the authenticator app's clock and try the next code"))
		return
	}
	codes := auth.NewRecoveryCodes()
	hashes := make([][]byte, len(codes))
	for i, c := range codes {
		hashes[i] = auth.HashRecoveryCode(c)
	}
	if err := a.TOTP.EnableTOTP(r.Context(), uid, sealed, step, hashes); err != nil {
		a.writeError(w, r, err)
		return
	}
	a.Logger.InfoContext(r.Context(), "two-factor login on", "user_id", uid, "request_id", requestID(r.Context()))
	writeJSON(w, http.StatusOK, map[string]any{"recovery_codes": codes})
}

// totpDisable is POST /api/auth/totp/disable {password, code}: both are
// checked as one guess under the login limits.
func (a *API) totpDisable(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Password *string `json:"password"`
		Code     *string `json:"code"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	if in.Password == nil {
		a.writeError(w, r, core.FieldError("password", "password is required"))
		return
	}
	if in.Code == nil {
		a.writeError(w, r, core.FieldError("code", "code is required (a current code or a recovery code)"))
		return
	}
	u, err := a.currentUser(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if !u.TOTPEnabled() {
		a.writeError(w, r, postgres.ErrTOTPNotEnabled)
		return
	}
	err = a.guessSecrets(w, r, u, *in.Password, "password", func() error {
		code := *in.Code
		if err := a.secondFactor(r.Context(), u, &code, nil); !isWrongCode(err) {
			return err
		}
		return a.secondFactor(r.Context(), u, nil, &code)
	})
	var de *core.Error
	if errors.As(err, &de) && de.Field != "" && de.Code == core.CodeInvalidCredentials && de.Field != "password" {
		err = wrongCode("code")
	}
	if err != nil {
		if !errors.Is(err, errAnswered) {
			a.writeError(w, r, err)
		}
		return
	}
	if err := a.TOTP.DisableTOTP(r.Context(), u.ID); err != nil {
		a.writeError(w, r, err)
		return
	}
	a.Logger.InfoContext(r.Context(), "two-factor login off", "user_id", u.ID, "request_id", requestID(r.Context()))
	w.WriteHeader(http.StatusNoContent)
}

func isWrongCode(err error) bool {
	var de *core.Error
	return errors.As(err, &de) && de.Code == core.CodeInvalidCredentials
}
