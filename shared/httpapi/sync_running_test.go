package httpapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
)

// A manual run while another one is going answers 409 SYNC_RUNNING. On
// Lambda both requests reach the sync function through the gateway with
// the deployed reserved concurrency (shared/hosted): with a reserved
// concurrency of 1 the second one was a Lambda throttle, a 500.
func TestManualSyncDuringARunAnswers409(t *testing.T) {
	t.Parallel()
	s := newStack(t, func(c *config.Config) { c.SyncTriggerToken = operatorToken })
	user := s.client(t).signup("sync-running@example.com")
	user.mustUpload("a.txt", []byte("hello"))
	op := map[string]string{"Authorization": "Bearer " + operatorToken}

	// Hold the files table so that the first run, once it has the job's
	// lock, waits. Own connections: the app's pool is the server's in local
	// mode, and the waiting run holds its connections.
	conn, err := pgx.Connect(t.Context(), s.app.Config.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	probe, err := pgx.Connect(t.Context(), s.app.Config.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close(context.Background())
	tx, err := conn.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(t.Context())
	if _, err := tx.Exec(t.Context(), `LOCK TABLE files IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	first := make(chan int, 1)
	go func() {
		resp, _ := s.client(t).do("POST", "/api/sync/run", nil, op)
		first <- resp.StatusCode
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var held int
		if err := probe.QueryRow(t.Context(), `SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
			WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()`).Scan(&held); err != nil {
			t.Fatal(err)
		}
		if held > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first run never took the sync lock")
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, b := s.client(t).do("POST", "/api/sync/run", nil, op)
	wantError(t, resp, b, 409, "SYNC_RUNNING")
	if err := tx.Rollback(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-first:
		if code != 200 {
			t.Errorf("the first run answered %d, want 200", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the first run did not finish")
	}
}
