package auth

import (
	"context"
	"net/http"
	"strings"
)

// BearerToken returns the token of an "Authorization: Bearer <token>"
// header, or "".
func BearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// Require wraps next so that it runs only with a valid bearer token whose
// session is live (not ended, not past its absolute limit) and whose user
// still exists, with the user and session ids in the request context. live
// checks both (one indexed query): it returns ErrUnauthorized when either
// is gone, or another error when the check itself failed. Failures go to
// onError (the API's JSON error writer) with ErrUnauthorized,
// ErrTokenExpired or live's error.
func (a *Auth) Require(next http.Handler, live func(ctx context.Context, userID, sessionID int64) error, onError func(http.ResponseWriter, *http.Request, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := BearerToken(r)
		if tok == "" {
			onError(w, r, ErrUnauthorized)
			return
		}
		id, sid, err := a.ParseToken(tok)
		if err != nil {
			onError(w, r, err)
			return
		}
		if err := live(r.Context(), id, sid); err != nil {
			onError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithSession(WithUser(r.Context(), id), sid)))
	})
}
