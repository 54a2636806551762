package postgres_test

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
)

func hashOf(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// TestRotateRefresh walks one session through RotateRefresh's outcomes,
// then the sweep.
func TestRotateRefresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t)
	u, err := db.CreateUser(ctx, "rotate@example.com", "x")
	if err != nil {
		t.Fatal(err)
	}
	s, err := db.CreateSession(ctx, u.ID, hashOf("t1"), 30*24*time.Hour, "192.0.2.1", "agent")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SessionLive(ctx, u.ID, s.ID); err != nil {
		t.Fatalf("SessionLive: %v", err)
	}
	if err := db.SessionLive(ctx, u.ID+1, s.ID); err != postgres.ErrSessionNotFound {
		t.Errorf("SessionLive of another user: %v, want ErrSessionNotFound", err)
	}
	rotate := func(tok, next string) postgres.RefreshOutcome {
		t.Helper()
		r, err := db.RotateRefresh(ctx, hashOf(tok), hashOf(next), 7*24*time.Hour, 10*time.Second, "192.0.2.2", "agent 2")
		if err != nil {
			t.Fatal(err)
		}
		return r.Outcome
	}
	steps := []struct {
		tok, next string
		want      postgres.RefreshOutcome
	}{
		{"t1", "t2", postgres.RefreshRotated},
		{"t1", "t2", postgres.RefreshReplayed}, // within the grace window, its successor unused
		{"t2", "t3", postgres.RefreshRotated},
		{"t1", "t2", postgres.RefreshReused}, // its successor is retired: reuse ends the session
		{"t3", "t4", postgres.RefreshRevoked},
		{"nope", "x", postgres.RefreshUnknown},
	}
	for i, st := range steps {
		if got := rotate(st.tok, st.next); got != st.want {
			t.Fatalf("step %d (%s): outcome %d, want %d", i, st.tok, got, st.want)
		}
	}
	if err := db.SessionLive(ctx, u.ID, s.ID); err != postgres.ErrSessionNotFound {
		t.Errorf("SessionLive after reuse: %v", err)
	}
	// Swept a week after it ended, its tokens with it.
	if n, err := db.DeleteOldSessions(ctx, time.Now().Add(-7*24*time.Hour)); err != nil || n != 0 {
		t.Errorf("DeleteOldSessions of a fresh end: %d, %v", n, err)
	}
	if n, err := db.DeleteOldSessions(ctx, time.Now().Add(time.Minute)); err != nil || n != 1 {
		t.Errorf("DeleteOldSessions: %d, %v; want 1", n, err)
	}
	if got := rotate("t3", "t4"); got != postgres.RefreshUnknown {
		t.Errorf("a token of a swept session: %d, want unknown", got)
	}
}
