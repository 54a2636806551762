package lambdafn_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/lambdafn"
	"github.com/hybrid-storage/hybrid-storage/shared/maintenance"
	"github.com/hybrid-storage/hybrid-storage/shared/storage"
	"github.com/hybrid-storage/hybrid-storage/shared/syncjob"
)

// The AWS nightly path is the dispatcher answering EventBridge's scheduled
// event: before it opens the run it must purge expired trash (objects of
// both tiers, then the row) and finish an account deletion interrupted
// halfway, as the local server's maintenance loop does. The dispatcher once
// only ended expired uploads, so on AWS trash was never purged.
func TestNightlyDispatchRunsMaintenance(t *testing.T) {
	t.Parallel()
	e := newFanoutEnv(t, 30*time.Second, nil)
	ctx := context.Background()
	db := e.app.DB

	put := func(uid int64, key string, tier core.Tier) core.File {
		t.Helper()
		data := []byte("bytes of " + key)
		sum := sha256.Sum256(data)
		f := core.File{UserID: uid, Filename: "f.txt", OriginalFilename: "f.txt", Size: int64(len(data)), ContentType: "text/plain",
			Location: core.TierHot, ObjectKey: key, AccessURL: e.app.Hot.URL(key), ChecksumSHA256: hex.EncodeToString(sum[:])}
		if _, err := e.app.Hot.Put(ctx, key, bytes.NewReader(data), f.Size, storage.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		if tier == core.TierCold { // a copy the sync job made
			if _, err := e.app.Cold.Put(ctx, key, bytes.NewReader(data), f.Size, storage.PutOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.CreateFile(ctx, &f); err != nil {
			t.Fatal(err)
		}
		return f
	}
	exists := func(tier interface {
		Stat(context.Context, string) (storage.ObjectInfo, error)
	}, key string) bool {
		_, err := tier.Stat(ctx, key)
		return err == nil
	}
	rows := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := db.Pool.QueryRow(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// A user's file, trashed and past its purge_at, with a cold copy; and
	// one trashed yesterday, which stays.
	ada, err := db.CreateUser(ctx, "ada@example.com", "x")
	if err != nil {
		t.Fatal(err)
	}
	expired := put(ada.ID, "user-1/expired.txt", core.TierCold)
	kept := put(ada.ID, "user-1/kept.txt", core.TierHot)
	for _, f := range []core.File{expired, kept} {
		if _, err := db.TrashFile(ctx, ada.ID, f.ID, 30*24*time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE files SET purge_at = now() - interval '1 second' WHERE id = $1`, expired.ID); err != nil {
		t.Fatal(err)
	}
	// An account deletion interrupted after the mark and the purge marks:
	// its files' objects and rows are all still there.
	bob, err := db.CreateUser(ctx, "bob@example.com", "x")
	if err != nil {
		t.Fatal(err)
	}
	bobs := []core.File{put(bob.ID, "user-2/a.txt", core.TierHot), put(bob.ID, "user-2/b.txt", core.TierCold)}
	if err := db.MarkUserDeleting(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.BeginPurgeAll(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}

	// An object no row names, older than the orphan window (the service's
	// clock is moved past it): the sweep removes it, and the run's metrics
	// line counts it.
	orphan := "user-3/orphan.txt"
	if _, err := e.app.Hot.Put(ctx, orphan, bytes.NewReader([]byte("lost")), 4, storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	e.app.Maintenance.Now = func() time.Time { return time.Now().Add(maintenance.OrphanAge + time.Minute) }
	var log syncBuf
	e.app.Maintenance.OnRun = lambdafn.MaintenanceMetrics(&log, slog.New(slog.DiscardHandler), time.Now)

	d, err := lambdafn.DispatchHandler(e.fanout(nil, syncjob.Options{}), e.app.Maintenance, slog.New(slog.DiscardHandler))(ctx, scheduledEvent(t))
	if err != nil || d.Skipped {
		t.Fatalf("dispatch: %+v, %v", d, err)
	}

	if n := rows(`SELECT count(*) FROM files WHERE id = $1`, expired.ID); n != 0 {
		t.Errorf("the expired trash entry's row is still there")
	}
	if exists(e.app.Hot, expired.ObjectKey) || exists(e.app.Cold, expired.ObjectKey) {
		t.Errorf("the expired trash entry's objects are still there")
	}
	if n := rows(`SELECT count(*) FROM files WHERE id = $1 AND deleted_at IS NOT NULL`, kept.ID); n != 1 || !exists(e.app.Hot, kept.ObjectKey) {
		t.Errorf("a trash entry within its retention was purged")
	}
	if n := rows(`SELECT count(*) FROM users WHERE id = $1`, bob.ID) + rows(`SELECT count(*) FROM files WHERE user_id = $1`, bob.ID); n != 0 {
		t.Errorf("the interrupted account deletion left %d rows", n)
	}
	for _, f := range bobs {
		if exists(e.app.Hot, f.ObjectKey) || exists(e.app.Cold, f.ObjectKey) {
			t.Errorf("the deleted account's object %s is still there", f.ObjectKey)
		}
	}
	if exists(e.app.Hot, orphan) {
		t.Errorf("the orphan %s is still there", orphan)
	}
	recs := emfRecords(t, log.b.String())
	if len(recs) != 1 || recs[0]["OrphanObjects"] != 1.0 || recs[0]["MaintenanceTasksFailed"] != 0.0 {
		t.Errorf("maintenance metrics %v; want one record with OrphanObjects 1, MaintenanceTasksFailed 0", recs)
	}
}
