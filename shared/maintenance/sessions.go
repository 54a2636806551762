package maintenance

import (
	"context"
	"time"
)

// SessionStore is what the sweep of old sessions needs of the database
// (the one that holds the users).
type SessionStore interface {
	DeleteOldSessions(ctx context.Context, cutoff time.Time) (int, error)
}

// sessionsKept is how long an ended or expired session (with its refresh
// tokens) and an expired password reset token stay before the sweep
// deletes them: a week in which a late refresh still answers
// SESSION_REVOKED rather than SESSION_EXPIRED.
const sessionsKept = 7 * 24 * time.Hour

// DeleteOldSessions deletes sessions that ended or expired more than
// sessionsKept ago, and expired password reset tokens (a database without
// sessions has nothing to sweep).
func (s *Service) DeleteOldSessions(ctx context.Context) (int, error) {
	st, ok := s.Users.(SessionStore)
	if !ok {
		return 0, nil
	}
	return st.DeleteOldSessions(ctx, s.Now().Add(-sessionsKept))
}
