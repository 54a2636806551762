package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/auth"
	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
)

// sessionStore is what the session endpoints and the auth middleware need
// of the database (shared/postgres/sessions.go).
type sessionStore interface {
	CreateSession(ctx context.Context, userID int64, refreshHash []byte, maxAge time.Duration, ip, userAgent string) (core.Session, error)
	SessionLive(ctx context.Context, userID, sessionID int64) error
	RotateRefresh(ctx context.Context, hash, next []byte, idle, grace time.Duration, ip, userAgent string) (postgres.Refresh, error)
	EndSessions(ctx context.Context, userID, current int64, scope, reason string) (int, error)
	EndSession(ctx context.Context, userID, id int64) error
	ListSessions(ctx context.Context, userID int64, idle time.Duration) ([]core.Session, error)
}

// refreshGrace is how long after a refresh its retired token may be
// presented again (two tabs refreshing at once, an answer lost on the
// way) and get the same successor instead of ending the session.
const refreshGrace = 10 * time.Second

// maxUserAgent bounds the User-Agent a session keeps.
const maxUserAgent = 256

// Answers of refresh for a session that is over. Each clears the cookie.
var (
	errSessionExpired = core.Errorf(core.CodeSessionExpired, "the session has ended; log in again")
	errSessionRevoked = core.Errorf(core.CodeSessionRevoked, "the session was ended; log in again")
)

// startSession starts a session of u (a login, a signup): the refresh
// cookie is set, and the answer's fields (the access token naming the
// session) are returned.
func (a *API) startSession(w http.ResponseWriter, r *http.Request, u core.User) (map[string]any, error) {
	tok := auth.NewOpaqueToken()
	s, err := a.Sessions.CreateSession(r.Context(), u.ID, auth.HashToken(tok), a.Config.SessionMax, a.clientAddr(r), userAgent(r))
	if err != nil {
		return nil, err
	}
	body, err := a.tokenAnswer(u.ID, u.Email, s.ID)
	if err != nil {
		return nil, err
	}
	a.setRefreshCookie(w, r, tok, a.cookieExpiry(s))
	setUser(r.Context(), u.ID)
	a.Logger.InfoContext(r.Context(), "session started", "user_id", u.ID, "session_id", s.ID, "request_id", requestID(r.Context()))
	return body, nil
}

// tokenAnswer is the body of login, signup and refresh: an access token of
// the session.
func (a *API) tokenAnswer(userID int64, email string, sessionID int64) (map[string]any, error) {
	now := a.now()
	tok, exp, err := a.Auth.IssueToken(userID, sessionID, now)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"access_token": tok,
		"token_type":   "bearer",
		"expires_in":   int64(exp.Sub(now).Round(time.Second).Seconds()),
		"user":         map[string]any{"id": userID, "email": email},
		"session_id":   sessionID,
	}, nil
}

// cookieExpiry is when the refresh cookie of s stops being worth keeping:
// the idle limit from its last use, capped by its absolute limit.
func (a *API) cookieExpiry(s core.Session) time.Time {
	idle := s.LastUsedAt.Add(a.Config.SessionIdle)
	if s.ExpiresAt.Before(idle) {
		return s.ExpiresAt
	}
	return idle
}

// userAgent is the request's User-Agent as a session keeps it.
func userAgent(r *http.Request) string {
	ua := strings.ToValidUTF8(r.UserAgent(), "")
	for len(ua) > maxUserAgent {
		ua = strings.ToValidUTF8(ua[:maxUserAgent], "")
	}
	return ua
}

// refresh is POST /api/auth/refresh: the refresh cookie buys a new access
// token and a new refresh token (the old one retired). See
// postgres.RotateRefresh for reuse detection and the grace window.
func (a *API) refresh(w http.ResponseWriter, r *http.Request) {
	if err := a.sameOrigin(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := requireJSON(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	var in struct{}
	if err := decodeOptionalJSON(w, r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	c, err := r.Cookie(refreshCookie)
	if err != nil || c.Value == "" {
		a.writeError(w, r, auth.ErrUnauthorized)
		return
	}
	fail := func(err error) {
		a.clearRefreshCookie(w, r)
		a.writeError(w, r, err)
	}
	if !auth.WellFormedToken(c.Value) {
		fail(errSessionExpired)
		return
	}
	next := a.Auth.SuccessorToken(c.Value)
	res, err := a.Sessions.RotateRefresh(r.Context(), auth.HashToken(c.Value), auth.HashToken(next),
		a.Config.SessionIdle, refreshGrace, a.clientAddr(r), userAgent(r))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	s := res.Session
	switch res.Outcome {
	case postgres.RefreshRotated, postgres.RefreshReplayed:
	case postgres.RefreshReused:
		// RFC 9700 §4.14: one of two holders of this token is not the
		// user; the session is over for both.
		a.Logger.WarnContext(r.Context(), "refresh token reused: session ended", "user_id", s.UserID, "session_id", s.ID,
			"remote", a.clientAddr(r), "request_id", requestID(r.Context()))
		fail(errSessionRevoked)
		return
	case postgres.RefreshRevoked:
		fail(errSessionRevoked)
		return
	default: // expired, unknown
		fail(errSessionExpired)
		return
	}
	body, err := a.tokenAnswer(s.UserID, res.Email, s.ID)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	setUser(r.Context(), s.UserID)
	a.setRefreshCookie(w, r, next, a.cookieExpiry(s))
	writeJSON(w, http.StatusOK, body)
}

// logout is POST /api/auth/logout {scope}: current (default), others or
// all of the caller's sessions end; their access tokens are refused from
// now on.
func (a *API) logout(w http.ResponseWriter, r *http.Request) {
	if err := a.sameOrigin(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	var in struct {
		Scope *string `json:"scope"`
	}
	if err := decodeOptionalJSON(w, r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	scope := postgres.ScopeCurrent
	if in.Scope != nil {
		scope = *in.Scope
	}
	if scope != postgres.ScopeCurrent && scope != postgres.ScopeOthers && scope != postgres.ScopeAll {
		a.writeError(w, r, core.FieldError("scope", "scope must be current, others or all"))
		return
	}
	uid, _ := auth.UserID(r.Context())
	sid, _ := auth.SessionID(r.Context())
	n, err := a.Sessions.EndSessions(r.Context(), uid, sid, scope, postgres.EndLogout)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.Logger.InfoContext(r.Context(), "logout", "user_id", uid, "session_id", sid, "scope", scope, "ended", n, "request_id", requestID(r.Context()))
	if scope != postgres.ScopeOthers {
		a.clearRefreshCookie(w, r)
	}
	w.WriteHeader(http.StatusNoContent)
}

// listSessions is GET /api/auth/sessions.
func (a *API) listSessions(w http.ResponseWriter, r *http.Request) {
	uid, _ := auth.UserID(r.Context())
	sid, _ := auth.SessionID(r.Context())
	list, err := a.Sessions.ListSessions(r.Context(), uid, a.Config.SessionIdle)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := make([]map[string]any, len(list))
	for i, s := range list {
		out[i] = map[string]any{
			"id": s.ID, "created_at": rfc3339(s.CreatedAt), "last_used_at": rfc3339(s.LastUsedAt),
			"expires_at": rfc3339(a.cookieExpiry(s)), "ip": s.IP, "user_agent": s.UserAgent, "current": s.ID == sid,
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
}

// endSession is DELETE /api/auth/sessions/{id}: another user's session is
// 404, like one that does not exist.
func (a *API) endSession(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		a.writeError(w, r, core.FieldError("id", "session id must be a positive integer"))
		return
	}
	uid, _ := auth.UserID(r.Context())
	if err := a.Sessions.EndSession(r.Context(), uid, id); err != nil {
		a.writeError(w, r, err)
		return
	}
	if sid, _ := auth.SessionID(r.Context()); sid == id {
		a.clearRefreshCookie(w, r)
	}
	w.WriteHeader(http.StatusNoContent)
}

// liveSession checks, for the auth middleware, that the session of a valid
// token is live and its user exists (one indexed query), so that a token
// is refused as soon as its session ends or its account goes.
func (a *API) liveSession(ctx context.Context, userID, sessionID int64) error {
	err := a.Sessions.SessionLive(ctx, userID, sessionID)
	if errors.Is(err, postgres.ErrSessionNotFound) {
		return auth.ErrUnauthorized
	}
	return err
}
