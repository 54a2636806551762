package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
	"github.com/hybrid-storage/hybrid-storage/shared/storage"
)

type trashObj struct {
	Kind string `json:"kind"`
	fileObj
	DeletedAt string `json:"deleted_at"`
	PurgeAt   string `json:"purge_at"`
	// A folder entry's
	Name      string `json:"name"`
	FileCount int64  `json:"file_count"`
	TotalSize int64  `json:"total_size"`
}

type trashPage struct {
	Files      []trashObj `json:"files"`
	NextCursor *string    `json:"next_cursor"`
}

type filePage struct {
	Files      []fileObj `json:"files"`
	NextCursor *string   `json:"next_cursor"`
}

// coldObjects counts the objects in the stack's cold bucket.
func coldObjects(tb testing.TB, s *stack) int {
	tb.Helper()
	out, err := s.app.Cold.Client.ListObjectsV2(tb.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(s.app.Cold.Bucket())})
	if err != nil {
		tb.Fatal(err)
	}
	return len(out.Contents)
}

func rowExists(tb testing.TB, s *stack, id int64) bool {
	tb.Helper()
	var ok bool
	if err := s.app.DB.Pool.QueryRow(tb.Context(), `SELECT EXISTS (SELECT 1 FROM files WHERE id = $1)`, id).Scan(&ok); err != nil {
		tb.Fatal(err)
	}
	return ok
}

func inTier(tb testing.TB, t interface {
	Stat(context.Context, string) (storage.ObjectInfo, error)
}, key string) bool {
	tb.Helper()
	_, err := t.Stat(context.Background(), key)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		tb.Fatal(err)
	}
	return err == nil
}

func (c *client) trash() []trashObj {
	c.tb.Helper()
	var p trashPage
	c.json("GET", "/api/trash", nil, 200, &p)
	return p.Files
}

func (c *client) files() []fileObj {
	c.tb.Helper()
	var p filePage
	c.json("GET", "/api/files", nil, 200, &p)
	return p.Files
}

// DELETE moves a file to the trash: it leaves the list, its metadata and
// downloads answer 404, its objects stay; restore brings it back in its
// tier; a purge removes the objects of every tier, then the row.
func TestTrashDeleteRestorePurge(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil) // TRASH_RETENTION_DAYS default 30
	c := s.client(t).signup("trash@example.com")
	data := []byte("keep me a while")
	hot := c.mustUpload("hot.txt", data)
	cold := c.mustUpload("cold.txt", data)
	coldKey := moveToCold(t, s, cold.ID)
	hotKey := objectKey(t, s, hot.ID)

	before := time.Now().Add(-time.Second)
	for _, f := range []fileObj{hot, cold} {
		c.json("DELETE", fmt.Sprintf("/api/files/%d", f.ID), nil, 204, nil)
	}
	if got := c.files(); len(got) != 0 {
		t.Fatalf("list after delete: %+v, want empty", got)
	}
	for _, f := range []fileObj{hot, cold} {
		for _, path := range []string{"/api/files/%d", "/api/files/%d/download", "/api/files/%d/download?redirect=1", "/api/files/%d/download?redirect=1&format=json"} {
			resp, body := c.do("GET", fmt.Sprintf(path, f.ID), nil, nil)
			wantError(t, resp, body, 404, "FILE_NOT_FOUND")
		}
		resp, body := c.do("DELETE", fmt.Sprintf("/api/files/%d", f.ID), nil, nil)
		wantError(t, resp, body, 404, "FILE_NOT_FOUND")
	}
	if !inTier(t, s.app.Hot, hotKey) || !inTier(t, s.app.Cold, coldKey) {
		t.Fatal("trashing removed an object")
	}

	tr := c.trash()
	if len(tr) != 2 || tr[0].ID != cold.ID || tr[1].ID != hot.ID {
		t.Fatalf("trash %+v, want cold then hot (newest deletion first)", tr)
	}
	for _, f := range tr {
		del, err1 := time.Parse(time.RFC3339, f.DeletedAt)
		purge, err2 := time.Parse(time.RFC3339, f.PurgeAt)
		if err1 != nil || err2 != nil || del.Before(before.Truncate(time.Second)) || del.After(time.Now()) {
			t.Fatalf("deleted_at %q purge_at %q", f.DeletedAt, f.PurgeAt)
		}
		if d := purge.Sub(del); d < 30*24*time.Hour-time.Second || d > 30*24*time.Hour+time.Second {
			t.Errorf("purge_at - deleted_at = %v, want 30 days", d)
		}
	}
	if tr[0].StorageLocation != "s3" || tr[1].StorageLocation != "minio" || tr[1].Checksum != sha(data) {
		t.Errorf("trash entries %+v", tr)
	}

	// Restore: back in the list, in the tier it was in, downloadable.
	var restored fileObj
	c.json("POST", fmt.Sprintf("/api/trash/%d/restore", cold.ID), nil, 200, &restored)
	if restored.ID != cold.ID || restored.StorageLocation != "s3" || restored.Checksum != cold.Checksum {
		t.Fatalf("restored %+v", restored)
	}
	resp, body := c.do("GET", fmt.Sprintf("/api/files/%d/download", cold.ID), nil, nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, data) {
		t.Fatalf("download after restore: %d %q", resp.StatusCode, body)
	}
	if got := c.files(); len(got) != 1 || got[0].ID != cold.ID {
		t.Fatalf("list after restore: %+v", got)
	}
	resp, body = c.do("POST", fmt.Sprintf("/api/trash/%d/restore", cold.ID), nil, nil)
	wantError(t, resp, body, 404, "FILE_NOT_FOUND") // no longer in the trash

	// Delete forever: objects of every tier, then the row.
	c.json("DELETE", fmt.Sprintf("/api/trash/%d", hot.ID), nil, 204, nil)
	if inTier(t, s.app.Hot, hotKey) || inTier(t, s.app.Cold, hotKey) || rowExists(t, s, hot.ID) {
		t.Fatal("purge left an object or the row")
	}
	for _, req := range [][2]string{{"POST", "/api/trash/%d/restore"}, {"DELETE", "/api/trash/%d"}} {
		resp, body := c.do(req[0], fmt.Sprintf(req[1], hot.ID), nil, nil)
		wantError(t, resp, body, 404, "FILE_NOT_FOUND")
	}
	// A live file is not in the trash: it cannot be purged from there.
	resp, body = c.do("DELETE", fmt.Sprintf("/api/trash/%d", cold.ID), nil, nil)
	wantError(t, resp, body, 404, "FILE_NOT_FOUND")

	// Empty the trash.
	c.json("DELETE", fmt.Sprintf("/api/files/%d", cold.ID), nil, 204, nil)
	c.json("DELETE", "/api/trash", nil, 204, nil)
	if got := c.trash(); len(got) != 0 {
		t.Fatalf("trash after emptying: %+v", got)
	}
	if n, m := countObjects(t, s), coldObjects(t, s); n != 0 || m != 0 || rowExists(t, s, cold.ID) {
		t.Fatalf("after emptying: %d hot, %d cold objects, row %v", n, m, rowExists(t, s, cold.ID))
	}
	// Emptying an empty trash is fine.
	c.json("DELETE", "/api/trash", nil, 204, nil)

	for _, bad := range []string{"/api/trash/0/restore", "/api/trash/x/restore"} {
		resp, body := c.do("POST", bad, nil, nil)
		wantError(t, resp, body, 400, "VALIDATION_ERROR")
	}
	resp, body = c.do("DELETE", "/api/trash/-1", nil, nil)
	wantError(t, resp, body, 400, "VALIDATION_ERROR")
}

// Another user's trash is invisible: their list does not show it, restore
// and purge answer 403 as for files, emptying their own trash leaves it.
func TestTrashIsPrivate(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	owner := s.client(t).signup("owner@example.com")
	other := s.client(t).signup("other@example.com")
	f := owner.mustUpload("mine.txt", []byte("mine"))
	owner.json("DELETE", fmt.Sprintf("/api/files/%d", f.ID), nil, 204, nil)

	if got := other.trash(); len(got) != 0 {
		t.Fatalf("other user's trash shows %+v", got)
	}
	for _, req := range [][2]string{{"POST", "/api/trash/%d/restore"}, {"DELETE", "/api/trash/%d"}} {
		resp, body := other.do(req[0], fmt.Sprintf(req[1], f.ID), nil, nil)
		wantError(t, resp, body, 403, "FORBIDDEN")
	}
	other.json("DELETE", "/api/trash", nil, 204, nil)
	if got := owner.trash(); len(got) != 1 || got[0].ID != f.ID {
		t.Fatalf("owner's trash after another user emptied theirs: %+v", got)
	}
	if !inTier(t, s.app.Hot, objectKey(t, s, f.ID)) {
		t.Fatal("another user's request removed the object")
	}
	// Without a token: 401.
	anon := s.client(t)
	for _, req := range [][2]string{{"GET", "/api/trash"}, {"DELETE", "/api/trash"}, {"POST", fmt.Sprintf("/api/trash/%d/restore", f.ID)}, {"DELETE", fmt.Sprintf("/api/trash/%d", f.ID)}} {
		resp, body := anon.do(req[0], req[1], nil, nil)
		wantError(t, resp, body, 401, "UNAUTHORIZED")
	}
}

func TestTrashPaging(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("pages@example.com")
	var ids []int64
	for i := range 5 {
		f := c.mustUpload(fmt.Sprintf("f%d.txt", i), []byte{byte(i)})
		c.json("DELETE", fmt.Sprintf("/api/files/%d", f.ID), nil, 204, nil)
		ids = append(ids, f.ID)
	}
	var got []int64
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("too many pages")
		}
		var p trashPage
		path := "/api/trash?limit=2"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		c.json("GET", path, nil, 200, &p)
		for _, f := range p.Files {
			got = append(got, f.ID)
		}
		if p.NextCursor == nil {
			break
		}
		cursor = *p.NextCursor
	}
	want := []int64{ids[4], ids[3], ids[2], ids[1], ids[0]}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("pages gave %v, want %v", got, want)
	}
	for _, bad := range []string{"limit=0", "limit=201", "limit=x", "cursor=!!!", "cursor=MTp4"} {
		resp, body := c.do("GET", "/api/trash?"+bad, nil, nil)
		wantError(t, resp, body, 400, "VALIDATION_ERROR")
	}
}

// The sync job does not claim a trashed file; restored, it syncs again.
func TestSyncSkipsTrashedFiles(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("skip@example.com")
	f := c.mustUpload("later.txt", []byte("later"))
	c.json("DELETE", fmt.Sprintf("/api/files/%d", f.ID), nil, 204, nil)
	claimed, err := s.app.DB.ClaimSyncBatch(t.Context(), "run-a", 10, time.Minute)
	if err != nil || len(claimed) != 0 {
		t.Fatalf("claim with the file in the trash: %v, %+v", err, claimed)
	}
	if n, err := s.app.DB.CountPending(t.Context()); err != nil || n != 0 {
		t.Fatalf("pending %d (%v), want 0", n, err)
	}
	var st struct{ Pending int }
	c.json("GET", "/api/sync/status", nil, 200, &st)
	if st.Pending != 0 {
		t.Errorf("sync status pending %d, want 0", st.Pending)
	}
	c.json("POST", fmt.Sprintf("/api/trash/%d/restore", f.ID), nil, 200, nil)
	claimed, err = s.app.DB.ClaimSyncBatch(t.Context(), "run-b", 10, time.Minute)
	if err != nil || len(claimed) != 1 || claimed[0].ID != f.ID {
		t.Fatalf("claim after restore: %v, %+v", err, claimed)
	}
}

// The sweep purges what is past its purge_at and nothing else.
func TestPurgeExpiredTrash(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("expire@example.com")
	old := c.mustUpload("old.txt", []byte("old"))
	recent := c.mustUpload("recent.txt", []byte("recent"))
	live := c.mustUpload("live.txt", []byte("live"))
	coldKey := moveToCold(t, s, old.ID)
	for _, f := range []fileObj{old, recent} {
		c.json("DELETE", fmt.Sprintf("/api/files/%d", f.ID), nil, 204, nil)
	}
	if _, err := s.app.DB.Pool.Exec(t.Context(), `UPDATE files SET purge_at = now() - interval '1 second' WHERE id = $1`, old.ID); err != nil {
		t.Fatal(err)
	}
	n, err := s.app.Maintenance.PurgeExpiredTrash(t.Context())
	if err != nil || n != 1 {
		t.Fatalf("PurgeExpiredTrash: %d, %v; want 1", n, err)
	}
	if rowExists(t, s, old.ID) || inTier(t, s.app.Cold, coldKey) || inTier(t, s.app.Hot, coldKey) {
		t.Fatal("the expired file is still there")
	}
	if tr := c.trash(); len(tr) != 1 || tr[0].ID != recent.ID {
		t.Fatalf("trash after the sweep: %+v", tr)
	}
	if got := c.files(); len(got) != 1 || got[0].ID != live.ID {
		t.Fatalf("list after the sweep: %+v", got)
	}
	if n, err := s.app.Maintenance.PurgeExpiredTrash(t.Context()); err != nil || n != 0 {
		t.Fatalf("second sweep: %d, %v; want nothing", n, err)
	}
}

// A purge interrupted at any point (a killed process, a tier down) leaves
// a purging row no route shows or serves and never an object without a
// row; the next sweep finishes it.
func TestInterruptedPurgeIsFinished(t *testing.T) {
	t.Parallel()
	for _, crash := range []string{"after the mark", "after the other tier", "after both tiers"} {
		t.Run(crash, func(t *testing.T) {
			t.Parallel()
			s := newStack(t, nil)
			c := s.client(t).signup("crash@example.com")
			data := []byte("half purged")
			f := c.mustUpload("half.txt", data)
			key := objectKey(t, s, f.ID)
			// The sync job copied it to the cold tier but has not flipped
			// the row: both tiers hold the object, the row says hot.
			if _, err := s.app.Cold.Put(t.Context(), key, bytes.NewReader(data), int64(len(data)), storage.PutOptions{}); err != nil {
				t.Fatal(err)
			}
			c.json("DELETE", fmt.Sprintf("/api/files/%d", f.ID), nil, 204, nil)
			uid := userID(t, s, "crash@example.com")
			// What DELETE /api/trash/{id} does, up to the crash.
			marked, err := s.app.DB.BeginPurge(t.Context(), uid, f.ID)
			if err != nil {
				t.Fatal(err)
			}
			if crash != "after the mark" {
				if err := s.app.Cold.Delete(t.Context(), marked.ObjectKey); err != nil {
					t.Fatal(err)
				}
			}
			if crash == "after both tiers" {
				if err := s.app.Hot.Delete(t.Context(), marked.ObjectKey); err != nil {
					t.Fatal(err)
				}
			}
			// The tombstone is invisible.
			if tr := c.trash(); len(tr) != 0 {
				t.Fatalf("trash shows a file being purged: %+v", tr)
			}
			for _, req := range [][2]string{{"POST", "/api/trash/%d/restore"}, {"DELETE", "/api/trash/%d"}, {"GET", "/api/files/%d"}, {"GET", "/api/files/%d/download"}} {
				resp, body := c.do(req[0], fmt.Sprintf(req[1], f.ID), nil, nil)
				wantError(t, resp, body, 404, "FILE_NOT_FOUND")
			}
			// The sweep finishes it, whatever its purge_at.
			n, err := s.app.Maintenance.PurgeExpiredTrash(t.Context())
			if err != nil || n != 1 {
				t.Fatalf("sweep: %d, %v; want 1", n, err)
			}
			if rowExists(t, s, f.ID) || inTier(t, s.app.Hot, key) || inTier(t, s.app.Cold, key) {
				t.Fatalf("after the sweep: row %v, hot %v, cold %v", rowExists(t, s, f.ID), inTier(t, s.app.Hot, key), inTier(t, s.app.Cold, key))
			}
		})
	}
}

// A purge of a trashed file the sync job is still copying (it claimed it
// before the delete) leaves no orphan: the purge removes the objects and
// the row, and the job's fenced flip finds no row.
func TestPurgeOfAFileBeingMoved(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("moving@example.com")
	data := []byte("being moved")
	f := c.mustUpload("moving.txt", data)
	claimed, err := s.app.DB.ClaimSyncBatch(t.Context(), "test-job", 10, time.Minute)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v, %d files", err, len(claimed))
	}
	key := claimed[0].ObjectKey
	c.json("DELETE", fmt.Sprintf("/api/files/%d", f.ID), nil, 204, nil)
	if _, err := s.app.Cold.Put(t.Context(), key, bytes.NewReader(data), int64(len(data)), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	c.json("DELETE", fmt.Sprintf("/api/trash/%d", f.ID), nil, 204, nil)
	if inTier(t, s.app.Hot, key) || inTier(t, s.app.Cold, key) || rowExists(t, s, f.ID) {
		t.Fatal("purge left an object or the row")
	}
	_, fence, err := s.app.DB.FlipSynced(t.Context(), claimed[0], "test-job", postgres.Moved{AccessURL: s.app.Cold.URL(key)})
	if err != nil || fence != postgres.FenceGone {
		t.Fatalf("flip after the purge: %v, %v; want gone", fence, err)
	}
}

func userID(tb testing.TB, s *stack, email string) int64 {
	tb.Helper()
	var id int64
	if err := s.app.DB.Pool.QueryRow(tb.Context(), `SELECT id FROM users WHERE email = $1`, email).Scan(&id); err != nil {
		tb.Fatal(err)
	}
	return id
}
