package httpapi_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
	"github.com/hybrid-storage/hybrid-storage/shared/storage"
)

// While the sync job holds a file's lease (it copies the file with no
// transaction open), a DELETE answers 204 at once and removes the row and
// the objects of both tiers; the job's fenced flip then finds no row
// (FenceGone), which is what makes it remove the cold copy it wrote. It
// used to wait on the row lock (then answer 409 FILE_BUSY).
// (Without a trash: TestPurgeOfAFileBeingMoved is the same with one.)
func TestDeleteOfAFileBeingMovedAnswersAtOnce(t *testing.T) {
	t.Parallel()
	s := newStack(t, func(c *config.Config) { c.TrashRetentionDays = 0 })
	c := s.client(t).signup("busy@example.com")
	data := []byte("being moved")
	f := c.mustUpload("busy.txt", data)

	// The sync job's claim (postgres.ClaimSyncBatch): a lease, no lock.
	claimed, err := s.app.DB.ClaimSyncBatch(t.Context(), "test-job", 10, time.Minute)
	if err != nil || len(claimed) != 1 || claimed[0].ID != f.ID {
		t.Fatalf("claim: %v, %d files", err, len(claimed))
	}
	key := claimed[0].ObjectKey
	// The job's copy to the cold tier.
	if _, err := s.app.Cold.Put(t.Context(), key, bytes.NewReader(data), int64(len(data)), storage.PutOptions{ContentType: "text/plain"}); err != nil {
		t.Fatal(err)
	}

	c.hc = &http.Client{Timeout: 5 * time.Second}
	start := time.Now()
	resp, body := c.do("DELETE", fmt.Sprintf("/api/files/%d", f.ID), nil, nil)
	if took := time.Since(start); took > time.Second {
		t.Errorf("DELETE of a leased file took %v, want under a second", took)
	}
	if resp.StatusCode != 204 {
		t.Fatalf("DELETE of a leased file: %d %s, want 204", resp.StatusCode, body)
	}
	if n := countObjects(t, s); n != 0 {
		t.Errorf("hot objects after delete: %d", n)
	}
	if _, err := s.app.Cold.Stat(t.Context(), key); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("cold object after delete: stat error %v, want not found", err)
	}
	resp, body = c.do("GET", fmt.Sprintf("/api/files/%d", f.ID), nil, nil)
	wantError(t, resp, body, 404, "FILE_NOT_FOUND")
	// The job's fenced flip finds no row: it must not resurrect it.
	_, fence, err := s.app.DB.FlipSynced(t.Context(), claimed[0], "test-job", postgres.Moved{AccessURL: s.app.Cold.URL(key)})
	if err != nil || fence != postgres.FenceGone {
		t.Fatalf("flip after the delete: %v, %v; want gone", fence, err)
	}
}
