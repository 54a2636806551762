package maintenance_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hybrid-storage/hybrid-storage/shared/app"
	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/maintenance"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
	"github.com/hybrid-storage/hybrid-storage/shared/storage"
	"github.com/hybrid-storage/hybrid-storage/shared/testenv"
)

type objectTier interface {
	Put(ctx context.Context, key string, r io.Reader, size int64, o storage.PutOptions) (storage.ObjectInfo, error)
	Stat(ctx context.Context, key string) (storage.ObjectInfo, error)
}

// fixture is an account with an object of every kind a row names, in the
// tier it lives in: a live hot file, a trashed file, a cold file and the
// hot copy a sync job may keep of it, an upload session's assembled
// object. referenced lists them by tier.
type fixture struct {
	a          *app.App
	uid        int64
	tiers      map[string]objectTier
	referenced map[string][]string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	a := testenv.App(t, testenv.Config(t))
	ctx := context.Background()
	u, err := a.DB.CreateUser(ctx, "orphans@example.com", "x")
	if err != nil {
		t.Fatal(err)
	}
	fx := &fixture{a: a, uid: u.ID, tiers: map[string]objectTier{"hot": a.Hot, "cold": a.Cold}, referenced: map[string][]string{}}
	file := func(name string, loc core.Tier) core.File {
		f := core.File{UserID: u.ID, Filename: name, OriginalFilename: name, Size: 1, ContentType: "text/plain",
			Location: loc, ObjectKey: core.ObjectKey(u.ID, name), AccessURL: "x", HotETag: "etag", ChecksumSHA256: strings.Repeat("a", 64), StorageClass: core.StorageStandard}
		if err := a.DB.CreateFile(ctx, &f); err != nil {
			t.Fatal(err)
		}
		return f
	}
	live := file("live.txt", core.TierHot)
	trashed := file("trashed.txt", core.TierHot)
	if _, err := a.DB.TrashFile(ctx, u.ID, trashed.ID, time.Hour); err != nil {
		t.Fatal(err)
	}
	cold := file("cold.txt", core.TierCold)
	s := core.UploadSession{ID: uuid.NewString(), UserID: u.ID, ObjectKey: core.ObjectKey(u.ID, "big.bin"), StorageUploadID: "x",
		Filename: "big.bin", OriginalFilename: "big.bin", Size: 1, ContentType: "text/plain", PartSize: 8 << 20,
		ExpiresAt: time.Now().Add(24 * time.Hour)}
	if err := a.DB.CreateUpload(ctx, &s, postgres.UploadQuota{Sessions: 10, Bytes: 1 << 40}); err != nil {
		t.Fatal(err)
	}
	for tier, keys := range map[string][]string{"hot": {live.ObjectKey, trashed.ObjectKey, cold.ObjectKey, s.ObjectKey}, "cold": {cold.ObjectKey}} {
		for _, k := range keys {
			fx.put(t, tier, k)
		}
		fx.referenced[tier] = keys
	}
	return fx
}

func (fx *fixture) put(tb testing.TB, tier, key string) {
	tb.Helper()
	if _, err := fx.tiers[tier].Put(context.Background(), key, strings.NewReader("x"), 1, storage.PutOptions{}); err != nil {
		tb.Fatal(err)
	}
}

func (fx *fixture) exists(tb testing.TB, tier, key string) bool {
	tb.Helper()
	_, err := fx.tiers[tier].Stat(context.Background(), key)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		tb.Fatal(err)
	}
	return err == nil
}

// at has the service's clock read d from now.
func at(svc *maintenance.Service, d time.Duration) {
	svc.Now = func() time.Time { return time.Now().Add(d) }
}

// The orphan sweep removes from each tier the objects under the user
// prefixes that no file row and no upload session names, once they are
// older than OrphanAge; younger ones, named ones and objects outside the
// user prefixes stay.
func TestSweepOrphans(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	ctx := context.Background()
	svc := fx.a.Maintenance
	orphans := map[string]string{
		"hot":  core.ObjectKey(fx.uid, "lost.bin"),      // assembled after its session ended, say
		"cold": core.ObjectKey(fx.uid+1000, "gone.bin"), // of an account deleted long ago
	}
	for tier, k := range orphans {
		fx.put(t, tier, k)
	}
	fx.put(t, "hot", "elsewhere/not-a-user-object")
	sweep := map[string]func(context.Context) (int, error){"hot": svc.SweepHotOrphans, "cold": svc.SweepColdOrphans}

	for _, step := range []struct {
		name    string
		clock   time.Duration
		found   int
		orphans bool // still there after the sweep
	}{
		{"young", maintenance.OrphanAge - time.Minute, 0, true},
		{"old", maintenance.OrphanAge + time.Minute, 1, false},
		{"again", maintenance.OrphanAge + time.Minute, 0, false},
	} {
		at(svc, step.clock)
		for tier, run := range sweep {
			if n, err := run(ctx); n != step.found || err != nil {
				t.Errorf("%s, %s tier: found %d, %v; want %d", step.name, tier, n, err, step.found)
			}
			if got := fx.exists(t, tier, orphans[tier]); got != step.orphans {
				t.Errorf("%s, %s tier: orphan kept %v, want %v", step.name, tier, got, step.orphans)
			}
			for _, k := range fx.referenced[tier] {
				if !fx.exists(t, tier, k) {
					t.Errorf("%s, %s tier: %s removed, but a row names it", step.name, tier, k)
				}
			}
		}
	}
	if !fx.exists(t, "hot", "elsewhere/not-a-user-object") {
		t.Error("an object outside the user prefixes was removed")
	}
}

// countingTier counts the keys each List returns.
type countingTier struct {
	maintenance.HotTier
	listed *[]int
}

func (c countingTier) List(ctx context.Context, prefix, after string, max int) ([]storage.ObjectInfo, error) {
	objs, err := c.HotTier.List(ctx, prefix, after, max)
	*c.listed = append(*c.listed, len(objs))
	return objs, err
}

// A run lists a bounded number of pages and the next one resumes where
// it stopped, starting over after the last key; Run reports what the sweep
// found, to OnRun too.
func TestSweepOrphansResumesAndReports(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	ctx := context.Background()
	svc := fx.a.Maintenance
	fx.put(t, "hot", core.ObjectKey(fx.uid, "lost.bin")) // 5 hot keys
	var listed []int
	svc.Hot = countingTier{svc.Hot, &listed}
	svc.SetOrphanPages(2, 1)
	at(svc, maintenance.OrphanAge+time.Minute)
	found := 0
	for run := 1; run <= 3; run++ {
		n, err := svc.SweepHotOrphans(ctx)
		if err != nil {
			t.Fatal(err)
		}
		found += n
		cursor, err := fx.a.DB.MaintenanceCursor(ctx, maintenance.TaskOrphansHot)
		if err != nil {
			t.Fatal(err)
		}
		if (cursor == "") != (run == 3) {
			t.Errorf("after run %d: cursor %q; want one inside the listing until the last run, then none", run, cursor)
		}
	}
	if found != 1 || len(listed) != 3 || listed[0] != 2 || listed[1] != 2 || listed[2] != 1 {
		t.Errorf("three runs found %d orphans listing %v keys; want 1, listing 2, 2, 1", found, listed)
	}

	fx.put(t, "cold", core.ObjectKey(fx.uid, "lost-cold.bin"))
	var seen maintenance.Report
	svc.OnRun = func(_ context.Context, rep maintenance.Report) { seen = rep }
	rep := svc.Run(ctx)
	if rep.Done(maintenance.TaskOrphansCold) != 1 || seen.Done(maintenance.TaskOrphansCold) != 1 {
		t.Errorf("Run reported %+v (OnRun saw %+v); want 1 cold orphan", rep, seen)
	}
}
