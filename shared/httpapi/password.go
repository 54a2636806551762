package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/hybrid-storage/hybrid-storage/shared/auth"
	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
)

// passwordStore is what password changes and resets need of the database
// (shared/postgres/passwords.go).
type passwordStore interface {
	CreatePasswordReset(ctx context.Context, userID int64, hash []byte, ttl time.Duration) error
	PasswordResetUser(ctx context.Context, hash []byte) (core.User, error)
	ResetPassword(ctx context.Context, hash []byte, passwordHash string) (int64, error)
	ChangePassword(ctx context.Context, userID int64, passwordHash string, keep int64) error
}

// Mailer sends a plain-text mail (shared/mail.Sender).
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// Password resets.
const (
	resetTokenTTL   = 30 * time.Minute
	resetPerAddress = 3         // reset mails asked for one email address
	resetWindow     = time.Hour // ... per this window
	// resetAnswerAfter is when POST /api/auth/password-reset answers, from
	// its start, whatever it found: the lookup, the token and the mail run
	// meanwhile (and, on the local server, go on after it when the mail
	// server is slow), so the time of the answer says nothing of whether
	// the address has an account.
	resetAnswerAfter = time.Second
	resetWorkBudget  = 30 * time.Second
)

// resetAccepted is the one answer of a reset request.
var resetAccepted = map[string]any{"message": "if an account has this address, a link to reset its password is on its way"}

// requestPasswordReset is POST /api/auth/password-reset {email}: 202 for
// every well-formed address, in the same time, a mail with a single-use
// link only if an account has it.
func (a *API) requestPasswordReset(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if err := a.sameOrigin(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	var in struct {
		Email *string `json:"email"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	if in.Email == nil {
		a.writeError(w, r, core.FieldError("email", "email is required"))
		return
	}
	email, err := core.NormalizeEmail(*in.Email)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if a.Mail == nil && !a.Config.DevMode {
		a.writeError(w, r, core.Errorf(core.CodeUnavailable, "password reset by mail is not set up on this server (SMTP_URL)"))
		return
	}
	// Per address, known or not: the answer is the same for both.
	if !a.allow(w, r, "reset:"+emailKey(email), resetPerAddress, resetWindow) {
		return
	}
	origin := a.webOrigin(r)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), resetWorkBudget)
	done := make(chan struct{})
	go func() {
		defer cancel()
		defer close(done)
		a.sendResetLink(ctx, email, origin)
	}()
	pad := time.NewTimer(resetAnswerAfter - time.Since(start))
	defer pad.Stop()
	select {
	case <-done:
		<-pad.C
	case <-pad.C:
		// A slow mail server: the local server answers now and the mail
		// goes on. A Lambda function is frozen once it answers, so there
		// the answer waits for the mail (a slow mail server then shows).
		if _, onLambda := lambdacontext.FromContext(r.Context()); onLambda {
			<-done
		}
	}
	writeJSON(w, http.StatusAccepted, resetAccepted)
}

// sendResetLink mails a reset link to email's account, if there is one.
// Failures are logged: the answer never depends on them.
func (a *API) sendResetLink(ctx context.Context, email, origin string) {
	log := func(msg string, err error) {
		a.Logger.ErrorContext(ctx, "password reset: "+msg, "error", err.Error(), "request_id", requestID(ctx))
	}
	u, err := a.Users.UserByEmail(ctx, email)
	if errors.Is(err, postgres.ErrUserNotFound) {
		return
	}
	if err != nil {
		log("look up account", err)
		return
	}
	tok := auth.NewOpaqueToken()
	if err := a.Passwords.CreatePasswordReset(ctx, u.ID, auth.HashToken(tok), resetTokenTTL); err != nil {
		log("store token", err)
		return
	}
	link := origin + "/reset-password#" + tok
	if a.Mail == nil { // dev mode without SMTP_URL
		a.Logger.WarnContext(ctx, "password reset link (dev mode, no SMTP_URL: not mailed)", "user_id", u.ID, "link", link)
		return
	}
	body := "Someone, probably you, asked to reset the password of your hybrid-storage account " + u.Email + ".\n\n" +
		"Open this link within 30 minutes to choose a new password (it works once):\n\n" + link + "\n\n" +
		"If you did not ask, ignore this mail: your password stays as it is.\n"
	if err := a.Mail.Send(ctx, u.Email, "Reset your hybrid-storage password", body); err != nil {
		log("send mail", err)
		return
	}
	a.Logger.InfoContext(ctx, "password reset link mailed", "user_id", u.ID, "request_id", requestID(ctx))
}

// confirmPasswordReset is POST /api/auth/password-reset/confirm {token,
// new_password}: the token is used once, the password set, every session
// of the account ended.
func (a *API) confirmPasswordReset(w http.ResponseWriter, r *http.Request) {
	if err := a.sameOrigin(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	var in struct {
		Token       *string `json:"token"`
		NewPassword *string `json:"new_password"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	if in.NewPassword == nil {
		a.writeError(w, r, core.FieldError("new_password", "new_password is required"))
		return
	}
	if in.Token == nil || !auth.WellFormedToken(*in.Token) {
		a.writeError(w, r, postgres.ErrResetTokenInvalid)
		return
	}
	hash := auth.HashToken(*in.Token)
	u, err := a.Passwords.PasswordResetUser(r.Context(), hash)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := checkNewPassword("new_password", *in.NewPassword, u.Email); err != nil {
		a.writeError(w, r, err)
		return
	}
	pw, err := a.Auth.HashPassword(r.Context(), auth.LaneSignup, *in.NewPassword)
	if err != nil {
		a.writeBusy(w, r, err)
		return
	}
	uid, err := a.Passwords.ResetPassword(r.Context(), hash, pw)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.Logger.InfoContext(r.Context(), "password reset: every session ended", "user_id", uid, "request_id", requestID(r.Context()))
	a.clearRefreshCookie(w, r)
	w.WriteHeader(http.StatusNoContent)
}

// changePassword is POST /api/auth/password {current_password,
// new_password}: the current password is checked like a login's; every
// other session ends.
func (a *API) changePassword(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Current *string `json:"current_password"`
		New     *string `json:"new_password"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	if in.Current == nil {
		a.writeError(w, r, core.FieldError("current_password", "current_password is required"))
		return
	}
	if in.New == nil {
		a.writeError(w, r, core.FieldError("new_password", "new_password is required"))
		return
	}
	sid, _ := auth.SessionID(r.Context())
	u, err := a.currentUser(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := a.checkPasswordGuess(w, r, u, *in.Current, "current_password"); err != nil {
		if !errors.Is(err, errAnswered) {
			a.writeError(w, r, err)
		}
		return
	}
	if err := checkNewPassword("new_password", *in.New, u.Email); err != nil {
		a.writeError(w, r, err)
		return
	}
	pw, err := a.Auth.HashPassword(r.Context(), auth.LaneSignup, *in.New)
	if err != nil {
		a.writeBusy(w, r, err)
		return
	}
	if err := a.Passwords.ChangePassword(r.Context(), u.ID, pw, sid); err != nil {
		a.writeError(w, r, err)
		return
	}
	a.Logger.InfoContext(r.Context(), "password changed: other sessions ended", "user_id", u.ID, "request_id", requestID(r.Context()))
	w.WriteHeader(http.StatusNoContent)
}

// errAnswered is checkPasswordGuess's error when it has written the answer
// itself (429 with Retry-After).
var errAnswered = errors.New("answered")

// checkPasswordGuess checks password against u's, as a guess under the
// login limits of u's account from this address (a stolen access token
// does not buy unlimited guesses). A wrong password is 401
// INVALID_CREDENTIALS naming field.
func (a *API) checkPasswordGuess(w http.ResponseWriter, r *http.Request, u core.User, password, field string) error {
	return a.guessSecrets(w, r, u, password, field, nil)
}

// guessSecrets is checkPasswordGuess where, when the password is right,
// more (a second factor) must pass too: the two make one guess, wrong when
// either is (more's wrong-code errors count; its other errors do not).
// It returns errAnswered when it wrote a 429 itself.
func (a *API) guessSecrets(w http.ResponseWriter, r *http.Request, u core.User, password, field string, more func() error) error {
	if hasNUL(password) || len(password) > core.MaxPasswordBytes {
		return &core.Error{Code: core.CodeInvalidCredentials, Message: "the password is incorrect", Field: field}
	}
	end, allowed := a.beginGuess(w, r, a.accountGuesses(r, u.Email))
	if !allowed {
		return errAnswered
	}
	ok, err := a.Auth.CheckPassword(r.Context(), auth.LaneLogin, u.PasswordHash, password)
	if err != nil {
		end(guessNotMade)
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return &core.Error{Code: core.CodeUnavailable, Message: "the request ended while waiting for its turn", RetryAfter: 1}
		}
		return err
	}
	if !ok {
		end(guessWrong)
		return &core.Error{Code: core.CodeInvalidCredentials, Message: "the password is incorrect", Field: field}
	}
	if more != nil {
		if err := more(); err != nil {
			if isWrongCode(err) {
				end(guessWrong)
			} else {
				end(guessNotMade)
			}
			return err
		}
	}
	end(guessRight)
	return nil
}

// checkNewPassword checks a password a user chooses (signup, change,
// reset), naming field in the error.
func checkNewPassword(field, password, email string) error {
	if err := core.CheckNewPassword(password, email); err != nil {
		var de *core.Error
		if errors.As(err, &de) {
			e := *de
			e.Field = field
			return &e
		}
		return err
	}
	return nil
}
