package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
)

const operatorToken = "operator-token-for-tests-0123456789"

type syncStatus struct {
	LastRun *struct {
		StartedAt  string  `json:"started_at"`
		FinishedAt *string `json:"finished_at"`
		Status     string  `json:"status"`
		Synced     int     `json:"synced"`
		Failed     int     `json:"failed"`
	} `json:"last_run"`
	Pending int `json:"pending"`
}

func TestSyncTriggerRefusesAllButTheOperator(t *testing.T) {
	t.Parallel()
	s := newStack(t, func(c *config.Config) { c.SyncTriggerToken = operatorToken })
	user := s.client(t).signup("sync-user@example.com")
	user.mustUpload("a.txt", []byte("hello"))
	anon := s.client(t)
	tests := []struct {
		name, auth string
	}{
		{"no token", ""},
		{"a user's token", "Bearer " + user.token},
		{"a wrong operator token", "Bearer " + operatorToken + "x"},
		{"a prefix of the operator token", "Bearer " + operatorToken[:10]},
		{"the operator token in another scheme", "Basic " + operatorToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := anon.do("POST", "/api/sync/run", nil, map[string]string{"Authorization": tc.auth})
			wantError(t, resp, b, 401, "UNAUTHORIZED")
		})
	}
	var st syncStatus
	user.json("GET", "/api/sync/status", nil, 200, &st)
	if st.LastRun != nil || st.Pending != 1 {
		t.Fatalf("refused triggers ran the job: status %+v", st)
	}

	// A run already going (in any process) answers 409.
	unlock, err := s.app.DB.LockSync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	resp, b := anon.do("POST", "/api/sync/run", nil, map[string]string{"Authorization": "Bearer " + operatorToken})
	wantError(t, resp, b, 409, "SYNC_RUNNING")
	unlock()

	resp, b = anon.do("POST", "/api/sync/run", nil, map[string]string{"Authorization": "Bearer " + operatorToken})
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"synced":1`) || !strings.Contains(string(b), `"trigger":"api"`) {
		t.Fatalf("operator trigger: %d %s", resp.StatusCode, b)
	}
}

func TestSyncTriggerDisabledWithoutToken(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t)
	for _, auth := range []string{"", "Bearer ", "Bearer anything-at-all-here"} {
		resp, b := c.do("POST", "/api/sync/run", nil, map[string]string{"Authorization": auth})
		wantError(t, resp, b, 404, "NOT_FOUND")
	}
}

// The last run as each user sees it: its times and status, and the counts of
// the caller's own files (SPEC.md), not the run's totals.
func TestSyncStatusCountsEachUsersOwnFiles(t *testing.T) {
	t.Parallel()
	s := newStack(t, func(c *config.Config) { c.SyncTriggerToken = operatorToken; c.TrashRetentionDays = 0 })
	alice := s.client(t).signup("alice-sync@example.com")
	bob := s.client(t).signup("bob-sync@example.com")
	carol := s.client(t).signup("carol-sync@example.com")
	a1 := alice.mustUpload("a1.txt", []byte("a1"))
	alice.mustUpload("a2.txt", []byte("a2"))
	bob.mustUpload("b1.txt", []byte("b1"))
	broken := bob.mustUpload("b-broken.txt", []byte("its hot copy is lost"))
	var key string
	if err := s.app.DB.Pool.QueryRow(t.Context(), `SELECT object_key FROM files WHERE id = $1`, broken.ID).Scan(&key); err != nil {
		t.Fatal(err)
	}
	if err := s.app.Hot.Delete(t.Context(), key); err != nil { // the job fails this file
		t.Fatal(err)
	}
	status := func(c *client) syncStatus {
		var st syncStatus
		c.json("GET", "/api/sync/status", nil, 200, &st)
		return st
	}
	if a, b := status(alice), status(bob); a.Pending != 2 || b.Pending != 2 || a.LastRun != nil {
		t.Fatalf("before any run: alice %+v, bob %+v; want pending 2 and 2, no last run", a, b)
	}
	rep, err := s.app.Sync.RunExclusive(context.Background(), "test")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Synced != 3 || rep.Failed != 1 {
		t.Fatalf("run report %+v, want 3 synced and 1 failed in all", rep)
	}
	bob.mustUpload("b2.txt", []byte("b2"))
	for _, tc := range []struct {
		name                    string
		c                       *client
		synced, failed, pending int
	}{
		{"alice", alice, 2, 0, 0},
		{"bob", bob, 1, 1, 2},
		{"carol", carol, 0, 0, 0},
	} {
		st := status(tc.c)
		if st.Pending != tc.pending {
			t.Errorf("%s: pending %d, want %d", tc.name, st.Pending, tc.pending)
		}
		if st.LastRun == nil || st.LastRun.Synced != tc.synced || st.LastRun.Failed != tc.failed ||
			st.LastRun.FinishedAt == nil || st.LastRun.StartedAt == "" || st.LastRun.Status != "partial" {
			t.Errorf("%s: last run %+v, want %d synced and %d failed of theirs, finished, partial", tc.name, st.LastRun, tc.synced, tc.failed)
		}
	}
	// The card says what the run did: deleting a file it synced later
	// changes nothing there.
	alice.json("DELETE", fmt.Sprintf("/api/files/%d", a1.ID), nil, 204, nil)
	if st := status(alice); st.LastRun == nil || st.LastRun.Synced != 2 {
		t.Errorf("alice after deleting a synced file: last run %+v, want still 2 synced", st.LastRun)
	}
	resp, body := s.client(t).do("GET", "/api/sync/status", nil, nil)
	wantError(t, resp, body, 401, "UNAUTHORIZED")
}
