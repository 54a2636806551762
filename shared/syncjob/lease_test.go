package syncjob_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/app"
	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
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
	j := e.jobWith(cold, syncjob.Options{}, syncjob.Knobs{Lease: lease, Hooks: syncjob.Hooks{BeforeCommit: func(ctx context.Context, _ core.File) error {
		time.Sleep(3 * lease) // a long copy
		second = mustRun(t, e.jobWith(cold, syncjob.Options{}, syncjob.Knobs{Lease: lease}), ctx)
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
	j := e.jobWith(nil, syncjob.Options{DeleteHot: true}, syncjob.Knobs{Hooks: syncjob.Hooks{BeforeCommit: func(ctx context.Context, cf core.File) error {
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
	j := e.jobWith(nil, syncjob.Options{}, syncjob.Knobs{Hooks: syncjob.Hooks{BeforeCommit: func(ctx context.Context, cf core.File) error {
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

// batchingStore is the real store; it records the size of every batch of
// flips.
type batchingStore struct {
	*postgres.DB
	mu      sync.Mutex
	batches []int
}

func (s *batchingStore) FlipSyncedBatch(ctx context.Context, flips []postgres.Flip) ([]postgres.Flipped, error) {
	s.mu.Lock()
	s.batches = append(s.batches, len(flips))
	s.mu.Unlock()
	return s.DB.FlipSyncedBatch(ctx, flips)
}

var _ syncjob.Store = (*batchingStore)(nil)

// The flips of a run's slots go in one statement, and each keeps its
// fence: of a batch holding a file whose lease another worker took while
// it was copied, the others flip and that one does not, its row and
// object left to the other worker.
func TestBatchedFlipKeepsEachFence(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	uid := e.user("batch-fence@example.com")
	const slots = 4 // 2 workers × 2 files
	var files []core.File
	var datas [][]byte
	for i := range slots {
		d := randomBytes(4096 + i)
		datas = append(datas, d)
		files = append(files, e.seed(uid, fmt.Sprintf("b%d.bin", i), d))
	}
	stolen := files[2]
	var arrived sync.WaitGroup
	arrived.Add(slots)
	store := &batchingStore{DB: e.app.DB}
	opt := app.SyncOptions(e.cfg)
	opt.Workers, opt.BatchSize = 2, 2
	j := syncjob.New(store, e.app.Hot, e.app.Cold, slog.New(slog.NewJSONHandler(e.log, nil)), opt).With(syncjob.Knobs{
		Concurrency: 2, FlipDelay: time.Minute, // the statement waits for all four flips
		Hooks: syncjob.Hooks{BeforeCommit: func(ctx context.Context, cf core.File) error {
			if cf.ID == stolen.ID {
				if _, err := e.app.DB.Pool.Exec(ctx, `UPDATE files SET sync_owner = 'other-worker', sync_lease_until = now() + interval '1 hour'
					WHERE id = $1`, cf.ID); err != nil {
					return err
				}
			}
			arrived.Done()
			arrived.Wait() // every slot verified its copy: the four flips meet
			return nil
		}}})
	rep := mustRun(t, j, context.Background())
	if rep.Synced != slots-1 || rep.Failed != 0 || rep.Left != 1 {
		t.Fatalf("report %+v, want all but the stolen file flipped", rep)
	}
	store.mu.Lock()
	batches := fmt.Sprint(store.batches)
	store.mu.Unlock()
	if batches != "[4]" {
		t.Errorf("flip statements of %s files, want one of 4", batches)
	}
	for i, f := range files {
		if f.ID != stolen.ID {
			e.wantSynced(f, datas[i], true)
		}
	}
	e.wantHot(stolen, datas[2])
	var owner string
	if err := e.app.DB.Pool.QueryRow(context.Background(), `SELECT sync_owner FROM files WHERE id = $1`, stolen.ID).Scan(&owner); err != nil || owner != "other-worker" {
		t.Errorf("stolen file's owner %q (%v), want the other worker's lease untouched", owner, err)
	}
	if s := e.state(stolen.ID); s.Attempts != 0 || s.LastError != nil {
		t.Errorf("stolen file's state %+v, want the other worker's row untouched", s)
	}
	if !strings.Contains(e.log.String(), `"result":"lost"`) {
		t.Error("no \"lost\" result logged")
	}
}

// failingFlips is the real store, except that its first flip statement
// fails.
type failingFlips struct {
	*postgres.DB
	mu sync.Mutex
	n  int
}

func (s *failingFlips) FlipSyncedBatch(ctx context.Context, flips []postgres.Flip) ([]postgres.Flipped, error) {
	s.mu.Lock()
	s.n++
	first := s.n == 1
	s.mu.Unlock()
	if first {
		return nil, fmt.Errorf("injected failure of a flip statement of %d files", len(flips))
	}
	return s.DB.FlipSyncedBatch(ctx, flips)
}

// A flip statement that fails fails the attempt of each of its files,
// which their slots retry (the copy again, then the flip): nothing is
// flipped by the failed statement, everything is in the end.
func TestFailedFlipStatementIsRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	uid := e.user("flip-retry@example.com")
	a, b := e.seed(uid, "a.bin", []byte("aaa")), e.seed(uid, "b.bin", []byte("bbb"))
	opt := app.SyncOptions(e.cfg)
	opt.Workers, opt.MaxRetries = 1, 2
	j := syncjob.New(&failingFlips{DB: e.app.DB}, e.app.Hot, e.app.Cold, slog.New(slog.NewJSONHandler(e.log, nil)), opt).
		With(syncjob.Knobs{BackoffBase: time.Millisecond})
	rep := mustRun(t, j, context.Background())
	if rep.Synced != 2 || rep.Failed != 0 {
		t.Fatalf("report %+v, want both files synced", rep)
	}
	e.wantSynced(a, []byte("aaa"), true)
	e.wantSynced(b, []byte("bbb"), true)
	if !strings.Contains(e.log.String(), "injected failure of a flip statement") {
		t.Error("the failed statement was not logged as a failed attempt")
	}
}
