package syncjob_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/syncjob"
)

// A worker that died holding a lease (a SIGKILL leaves it in the row) keeps
// its files from every other run until the lease expires; then the next run
// takes them over and moves them once.
func TestExpiredLeaseIsTakenOverByTheNextRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	uid := e.user("lease@example.com")
	data := randomBytes(4096)
	f := e.seed(uid, "leased.bin", data)
	const lease = 3 * time.Second
	claimedAt := time.Now()
	claimed, err := e.app.DB.ClaimSyncBatch(context.Background(), "crashed-worker", 10, lease)
	if err != nil || len(claimed) != 1 || claimed[0].ID != f.ID {
		t.Fatalf("claim: %v, %d files", err, len(claimed))
	}
	other := e.seed(uid, "free.bin", []byte("free"))
	cold := newCountingCold(e.app.Cold, 0)
	rep := mustRun(t, e.job(cold, syncjob.Options{}), context.Background())
	if time.Since(claimedAt) >= lease {
		t.Skip("the first run outlived the lease; the machine is too slow for this test")
	}
	if rep.Synced != 1 || rep.Left != 1 || cold.putsOf(f.ObjectKey) != 0 {
		t.Fatalf("run during the lease %+v (%d puts), want only the free file synced and the leased one left", rep, cold.putsOf(f.ObjectKey))
	}
	e.wantHot(f, data)
	e.wantSynced(other, []byte("free"), true)

	time.Sleep(time.Until(claimedAt.Add(lease + 200*time.Millisecond)))
	rep = mustRun(t, e.job(cold, syncjob.Options{}), context.Background())
	if rep.Synced != 1 || rep.Left != 0 || rep.Failed != 0 {
		t.Fatalf("run after the lease expired %+v, want the file taken over and synced", rep)
	}
	e.wantSynced(f, data, true)
	if n := cold.putsOf(f.ObjectKey); n != 1 {
		t.Errorf("%d cold puts, want 1", n)
	}
}

// A copy that lasts several leases keeps its file: the job renews the
// leases of its batch, so a second run meanwhile does not take it.
func TestLeaseIsRenewedDuringALongCopy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	uid := e.user("renew@example.com")
	data := randomBytes(4096)
	f := e.seed(uid, "slow.bin", data)
	const lease = 1500 * time.Millisecond
	cold := newCountingCold(e.app.Cold, 0)
	var second syncjob.Report
	j := e.job(cold, syncjob.Options{Lease: lease, Hooks: syncjob.Hooks{BeforeCommit: func(ctx context.Context, _ core.File) error {
		time.Sleep(3 * lease) // a long copy
		second = mustRun(t, e.job(cold, syncjob.Options{Lease: lease}), ctx)
		return nil
	}}})
	rep := mustRun(t, j, context.Background())
	if second.Synced != 0 || second.Left != 1 {
		t.Errorf("second run during the long copy %+v, want it to leave the leased file alone", second)
	}
	if rep.Synced != 1 || rep.Failed != 0 {
		t.Fatalf("report %+v, want the slow file synced", rep)
	}
	e.wantSynced(f, data, true)
	if n := cold.putsOf(f.ObjectKey); n != 1 {
		t.Errorf("%d cold puts, want 1", n)
	}
}

// A run whose lease expired under it and was taken over by another run,
// which moved the file, does not flip the row again, and leaves the cold
// copy alone: under the same key it is the other run's verified copy that
// the row now points at.
func TestFlipThatLostItsLeaseDoesNotFlip(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *config.Config) { c.DeleteFromMinioAfterSync = true })
	uid := e.user("fence@example.com")
	data := randomBytes(200 << 10)
	f := e.seed(uid, "fenced.bin", data)
	var taker syncjob.Report
	j := e.job(nil, syncjob.Options{DeleteHot: true, Hooks: syncjob.Hooks{BeforeCommit: func(ctx context.Context, cf core.File) error {
		// The lease expires (a stalled worker whose renewals failed) and
		// another run takes the file over and moves it.
		if _, err := e.app.DB.Pool.Exec(ctx, `UPDATE files SET sync_lease_until = now() - interval '1 second' WHERE id = $1`, cf.ID); err != nil {
			return err
		}
		taker = mustRun(t, e.job(nil, syncjob.Options{DeleteHot: true}), ctx)
		return nil
	}}})
	rep := mustRun(t, j, context.Background())
	if taker.Synced != 1 {
		t.Fatalf("taking run %+v, want it to sync the file", taker)
	}
	if rep.Synced != 0 || rep.Failed != 0 || rep.Bytes != 0 {
		t.Fatalf("report %+v, want the stale run to flip nothing", rep)
	}
	if !strings.Contains(e.log.String(), `"result":"lost"`) {
		t.Errorf("no \"lost\" result logged")
	}
	e.wantSynced(f, data, false) // the taker's cold copy is intact
	if s := e.state(f.ID); s.Attempts != 1 {
		t.Errorf("%d attempts recorded, want the taker's one", s.Attempts)
	}
}

// A run whose lease was taken over and whose file is still being moved by
// the other worker neither flips it nor touches the object.
func TestFlipThatLostItsLeaseToALiveWorker(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	uid := e.user("fence2@example.com")
	data := randomBytes(4096)
	f := e.seed(uid, "fenced.bin", data)
	j := e.job(nil, syncjob.Options{Hooks: syncjob.Hooks{BeforeCommit: func(ctx context.Context, cf core.File) error {
		_, err := e.app.DB.Pool.Exec(ctx, `UPDATE files SET sync_owner = 'other-worker', sync_lease_until = now() + interval '1 hour' WHERE id = $1`, cf.ID)
		return err
	}}})
	rep := mustRun(t, j, context.Background())
	if rep.Synced != 0 || rep.Failed != 0 || rep.Left != 1 {
		t.Fatalf("report %+v, want nothing flipped and the file left", rep)
	}
	e.wantHot(f, data)
	if !exists(t, e.app.Cold, f.ObjectKey) {
		t.Error("the stale run deleted the object the other worker is writing")
	}
	if s := e.state(f.ID); s.Attempts != 0 || s.LastError != nil {
		t.Errorf("state %+v, want the other worker's row untouched", s)
	}
}
