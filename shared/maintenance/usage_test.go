package maintenance_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/maintenance"
	"github.com/hybrid-storage/hybrid-storage/shared/testenv"
)

// A counter changed behind the triggers' back is found by the next daily
// check, repaired to what the rows say and counted; a run within the day
// does not check again.
func TestUsageDriftIsRepairedDaily(t *testing.T) {
	a := testenv.App(t, testenv.Config(t))
	ctx := context.Background()
	u, err := a.DB.CreateUser(ctx, "drift@example.com", "x")
	if err != nil {
		t.Fatal(err)
	}
	f := core.File{UserID: u.ID, Filename: "a.txt", OriginalFilename: "a.txt", Size: 1234, ContentType: "text/plain",
		Location: core.TierHot, ObjectKey: core.ObjectKey(u.ID, "a.txt"), AccessURL: "x", ChecksumSHA256: strings.Repeat("a", 64), StorageClass: core.StorageStandard}
	if err := a.DB.CreateFile(ctx, &f); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	a.Maintenance.Now = func() time.Time { return now }
	if rep := a.Maintenance.Run(ctx); rep.Done(maintenance.TaskUsage) != 0 || rep.Failed() {
		t.Fatalf("first run: %+v, want no drift", rep)
	}
	if _, err := a.DB.Pool.Exec(ctx, `UPDATE user_usage SET hot_bytes = 1, files = 7 WHERE user_id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	now = now.Add(maintenance.UsageCheckEvery / 2)
	if rep := a.Maintenance.Run(ctx); rep.Done(maintenance.TaskUsage) != 0 {
		t.Fatalf("a run within the day checked again: %+v", rep)
	}
	now = now.Add(maintenance.UsageCheckEvery)
	if rep := a.Maintenance.Run(ctx); rep.Done(maintenance.TaskUsage) != 1 || rep.Failed() {
		t.Fatalf("the next day's run: %+v, want 1 drift repaired", rep)
	}
	use, err := a.DB.UsageOf(ctx, u.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if use.Hot != 1234 || use.Files != 1 {
		t.Errorf("after the repair: hot %d files %d, want 1234 and 1", use.Hot, use.Files)
	}
}
