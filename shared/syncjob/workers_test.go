package syncjob_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/syncjob"
)

// One run with several workers: they share the queue (each file copied
// once, by one of them), and the run is one row in sync_runs with the
// counts of all of them.
func TestWorkersOfOneRunShareTheQueueAndOneRunIsRecorded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	uid := e.user("workers@example.com")
	var files []core.File
	var size int64
	for i := range 40 {
		d := []byte(fmt.Sprintf("worker file %02d", i))
		size += int64(len(d))
		files = append(files, e.seed(uid, fmt.Sprintf("w%02d.txt", i), d))
	}
	cold := newCountingCold(e.app.Cold, 0)
	j := e.jobWith(cold, syncjob.Options{Workers: 4, BatchSize: 5}, syncjob.Knobs{Concurrency: 1,
		Hooks: syncjob.Hooks{AfterCopy: func(context.Context, core.File) error {
			time.Sleep(10 * time.Millisecond) // long enough that every worker gets batches
			return nil
		}}})
	rep, err := j.RunExclusive(context.Background(), "manual")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Synced != 40 || rep.Failed != 0 || rep.Left != 0 || rep.Workers != 4 || rep.Batches != 8 ||
		rep.Bytes != size || rep.Status != syncjob.StatusSucceeded {
		t.Fatalf("report %+v, want 40 synced (%d bytes) in 8 batches by 4 workers", rep, size)
	}
	for _, f := range files {
		if n := cold.putsOf(f.ObjectKey); n != 1 {
			t.Errorf("file %d copied %d times, want once", f.ID, n)
		}
	}
	// The flipped rows keep the lease owner that moved them.
	var owners int
	if err := e.app.DB.Pool.QueryRow(context.Background(), `SELECT count(DISTINCT sync_owner) FROM files
		WHERE sync_owner LIKE $1`, fmt.Sprintf("run-%d/w%%", rep.RunID)).Scan(&owners); err != nil {
		t.Fatal(err)
	}
	if owners < 2 {
		t.Errorf("%d distinct workers moved files, want several", owners)
	}
	runs, err := e.app.DB.RecentSyncRuns(context.Background(), 10)
	if err != nil || len(runs) != 1 {
		t.Fatalf("%d runs recorded (%v), want one for the whole run", len(runs), err)
	}
	r := runs[0]
	if r.ID != rep.RunID || r.Status != syncjob.StatusSucceeded || r.Synced != 40 || r.Bytes != size || r.FinishedAt == nil {
		t.Errorf("recorded run %+v, want the report's totals", r)
	}
}

// A file that keeps failing is tried SYNC_MAX_RETRIES times by one run,
// not that many times per worker: the other workers of the run do not
// claim what one of them released after failing it.
func TestAFailedFileIsTriedOnceByARunWhateverItsWorkers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	uid := e.user("workers-fail@example.com")
	bad := e.seed(uid, "always-fails.bin", []byte("bad"))
	for i := range 12 {
		e.seed(uid, fmt.Sprintf("ok%02d", i), []byte{byte(i)})
	}
	j := e.jobWith(failKeyCold{e.app.Cold, bad.ObjectKey}, syncjob.Options{Workers: 4, BatchSize: 1, MaxRetries: 2},
		syncjob.Knobs{Concurrency: 1})
	rep := mustRun(t, j, context.Background())
	if rep.Synced != 12 || rep.Failed != 1 || rep.Left != 1 || rep.Status != syncjob.StatusPartial {
		t.Fatalf("report %+v, want 12 synced and the bad file failed once", rep)
	}
	if s := e.state(bad.ID); s.Attempts != 2 {
		t.Errorf("the failing file was attempted %d times by one run of 4 workers, want 2 (SYNC_MAX_RETRIES)", s.Attempts)
	}
	// The next run tries it again.
	rep = mustRun(t, j, context.Background())
	if rep.Failed != 1 || e.state(bad.ID).Attempts != 4 {
		t.Errorf("second run %+v, %d attempts; want it retried by the next run", rep, e.state(bad.ID).Attempts)
	}
}

// Two runs of four workers each over the same 200 files: eight claimers at
// once, each file copied once.
func TestConcurrentRunsOfSeveralWorkersMoveEachFileOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	uid := e.user("many-workers@example.com")
	var files []core.File
	for i := range 200 {
		files = append(files, e.seed(uid, fmt.Sprintf("mw-%03d.txt", i), []byte(fmt.Sprintf("file %d", i))))
	}
	cold := newCountingCold(e.app.Cold, 0)
	var wg sync.WaitGroup
	reps := make([]syncjob.Report, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() {
			reps[i], errs[i] = e.job(cold, syncjob.Options{Workers: 4, BatchSize: 5}).Run(context.Background())
		})
	}
	wg.Wait()
	for i := range 2 {
		if errs[i] != nil {
			t.Fatalf("run %d: %v", i, errs[i])
		}
	}
	if reps[0].Synced+reps[1].Synced != 200 || reps[0].Failed+reps[1].Failed != 0 {
		t.Fatalf("runs synced %d + %d (failed %d + %d), want 200 in all", reps[0].Synced, reps[1].Synced, reps[0].Failed, reps[1].Failed)
	}
	for i, f := range files {
		if n := cold.putsOf(f.ObjectKey); n != 1 {
			t.Errorf("file %d copied %d times, want once", f.ID, n)
		}
		if i%40 == 0 {
			e.wantSynced(f, []byte(fmt.Sprintf("file %d", i)), true)
		}
		if s := e.state(f.ID); s.Attempts != 1 {
			t.Errorf("file %d: %d attempts, want 1", f.ID, s.Attempts)
		}
	}
}
