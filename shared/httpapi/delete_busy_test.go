package httpapi_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/storage"
)

// While the sync job holds a file's row (it copies the file inside that
// transaction), a DELETE answers at once 409 FILE_BUSY with Retry-After; on
// Lambda it used to wait until API Gateway's 30 s gave up. Once the lock is
// gone the DELETE works and leaves nothing in either tier.
func TestDeleteOfAFileBeingMovedAnswersAtOnce(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("busy@example.com")
	f := c.mustUpload("busy.txt", []byte("being moved"))

	tx, err := s.app.DB.Pool.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(t.Context()) //nolint:errcheck // committed below
	// The sync job's claim (postgres.SyncFile).
	var key string
	if err := tx.QueryRow(t.Context(), `SELECT object_key FROM files WHERE id = $1 AND storage_location = 'minio' FOR UPDATE SKIP LOCKED`, f.ID).Scan(&key); err != nil {
		t.Fatal(err)
	}
	c.hc = &http.Client{Timeout: 5 * time.Second}
	start := time.Now()
	resp, body := c.do("DELETE", fmt.Sprintf("/api/files/%d", f.ID), nil, nil)
	if took := time.Since(start); took > time.Second {
		t.Errorf("DELETE of a locked file took %v, want under a second", took)
	}
	wantError(t, resp, body, 409, "FILE_BUSY")
	if ra := resp.Header.Get("Retry-After"); ra == "" {
		t.Error("409 FILE_BUSY without Retry-After")
	}
	// The job's move: copy to the cold tier, flip the row, commit.
	src, err := s.app.Hot.Open(t.Context(), key, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.app.Cold.Put(t.Context(), key, src, -1, storage.PutOptions{ContentType: "text/plain"})
	src.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), `UPDATE files SET storage_location = 's3', access_url = $2, synced_at = now() WHERE id = $1`, f.ID, s.app.Cold.URL(key)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}

	resp, body = c.do("DELETE", fmt.Sprintf("/api/files/%d", f.ID), nil, nil)
	if resp.StatusCode != 204 {
		t.Fatalf("DELETE after the move: %d %s, want 204", resp.StatusCode, body)
	}
	if n := countObjects(t, s); n != 0 {
		t.Errorf("hot objects after delete: %d", n)
	}
	if _, err := s.app.Cold.Stat(t.Context(), key); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("cold object after delete: stat error %v, want not found", err)
	}
}
