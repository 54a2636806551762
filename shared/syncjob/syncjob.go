// Package syncjob is the nightly sync job: it moves files from the hot tier
// to the cold tier, verifies every copy against the database (the SHA-256
// of what it reads from the hot tier; the full-object CRC64NVME, which the
// cold tier checks as it stores the object and reports on a HEAD; or, with
// VerifyReadback, the SHA-256 of the cold copy read back), flips each row
// with an update fenced on its lease, and only then removes the hot copy
// (when configured).
// A crash at any point loses nothing: the next run redoes what is missing.
//
// One worker type (worker.go) claims files under leases and moves them
// (move.go), and hands each verified file to a group commit of flips
// shared by the run's workers in the process (flip.go); two drivers run it: Job.RunExclusive and Job.Run start
// Options.Workers of them in this process, and a Fanout (fanout.go) runs
// one per queue ticket. Either way the run closes in one place, postgres's
// closeRun (reached through FinishSyncRun, FinishTicket or
// AbandonTickets), and every closed run goes through Job.closed.
package syncjob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
	"github.com/hybrid-storage/hybrid-storage/shared/storage"
)

// fileStore is what the job needs of the database for files.
type fileStore interface {
	ClaimSyncBatch(ctx context.Context, owner string, limit int, lease time.Duration) ([]core.File, error)
	RenewSyncLeases(ctx context.Context, owner string, ids []int64, lease time.Duration) error
	ReleaseSyncLeases(ctx context.Context, owner string, ids []int64) error
	FlipSyncedBatch(ctx context.Context, flips []postgres.Flip) ([]postgres.Flipped, error)
	RecordSyncFailure(ctx context.Context, id int64, owner, msg string, release bool) (postgres.Fence, error)
	HotCopiesToDelete(ctx context.Context, afterID int64, limit int) ([]postgres.HotCopy, error)
	MarkHotDeleted(ctx context.Context, id int64) error
}

// runStore records runs and serialises them across processes.
type runStore interface {
	StartSyncRun(ctx context.Context, trigger string) (int64, time.Time, error)
	FinishSyncRun(ctx context.Context, runID int64, r postgres.WorkReport, runErr string) (postgres.SyncRun, error)
	LockSync(ctx context.Context) (unlock func(), err error)
}

// Store is the database side of the job (*postgres.DB).
type Store interface {
	fileStore
	runStore
}

// HotTier is what the job needs of the hot tier.
type HotTier interface {
	// OpenMatch reads the object from offset (length < 0: to the end),
	// refused with storage.ErrChanged unless its ETag is etag (when not
	// empty).
	OpenMatch(ctx context.Context, key, etag string, offset, length int64) (io.ReadCloser, error)
	Delete(ctx context.Context, key string) error
}

// ColdTier is what the job needs of the cold tier.
type ColdTier interface {
	Put(ctx context.Context, key string, r io.Reader, size int64, o storage.PutOptions) (storage.ObjectInfo, error)
	Open(ctx context.Context, key string, offset int64) (io.ReadCloser, error)
	Stat(ctx context.Context, key string) (storage.ObjectInfo, error) // with the full-object checksum
	Delete(ctx context.Context, key string) error
	URL(key string) string
}

// Options are the job's settings, taken as configured (shared/config
// validates them and documents their defaults).
type Options struct {
	BatchSize  int  // files claimed per batch (SYNC_BATCH_SIZE); at least 1
	MaxRetries int  // attempts per file per run (SYNC_MAX_RETRIES); at least 1
	Workers    int  // worker loops of a local run, tickets of a fan-out run (SYNC_WORKERS); at least 1
	DeleteHot  bool // remove the hot copy once the row is flipped (DELETE_FROM_MINIO_AFTER_SYNC)
	// Verify is how a cold copy is checked before the row flips
	// (SYNC_VERIFY): VerifyChecksum (also when empty) or VerifyReadback.
	Verify string
	// StorageClass is the S3 storage class of cold copies
	// (COLD_STORAGE_CLASS; empty is S3's STANDARD); files under
	// MinClassSize are written in STANDARD.
	StorageClass string
	// StopMargin is how long before the context's deadline a worker stops
	// claiming files. Zero: a tenth of the time left, at most 2 minutes.
	StopMargin time.Duration
}

// Verification modes (SYNC_VERIFY).
const (
	// VerifyChecksum: the cold tier checks the row's full-object CRC64NVME
	// as it stores the object, and a HEAD in checksum mode confirms the
	// checksum and size it keeps. No second read.
	VerifyChecksum = "checksum"
	// VerifyReadback: also read the cold copy back and compare its size
	// and SHA-256 with the row (one more full read per file).
	VerifyReadback = "readback"
)

// MinClassSize is the smallest file written in a class other than
// STANDARD: the infrequent-access classes bill every object as at least
// 128 KiB.
const MinClassSize = 128 << 10

// The job's fixed settings (tests change them through export_test.go).
const (
	// concurrency is how many files one worker moves at once.
	concurrency = 2
	// lease is how long a claim holds a file (sync_lease_until): a worker
	// renews the leases it holds every third of it, so it need not cover
	// a long copy, and a crashed worker's files are free again within it.
	lease = 2 * time.Minute
	// backoffBase is the first retry delay; it doubles per attempt, with
	// jitter, up to backoffMax.
	backoffBase = time.Second
	backoffMax  = 30 * time.Second
)

// hooks let tests act at the step boundaries of one file's move. Each may
// be nil. An error from AfterCopy or BeforeCommit fails the attempt.
type hooks struct {
	OnClaim func(batch int, f core.File) // a file was claimed in batch (1-based, per worker)
	// ColdBody wraps the stream the cold tier is sent, after the job's
	// hashing of what it read (tests corrupt it there).
	ColdBody     func(f core.File, r io.Reader) io.Reader
	AfterCopy    func(ctx context.Context, f core.File) error // copied to cold, not yet verified
	BeforeCommit func(ctx context.Context, f core.File) error // verified, row not yet flipped
	AfterCommit  func(ctx context.Context, f core.File)       // row flipped, hot copy not yet deleted
}

// clock tells the time; tests move it.
type clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Job moves files from the hot to the cold tier. Build it with New.
type Job struct {
	store  Store
	hot    HotTier
	cold   ColdTier
	logger *slog.Logger
	opt    Options
	// onClosed, when set, is told of every run this job closes (locally,
	// or by the fan-out's last ticket): the Lambda functions emit the
	// run's figures as CloudWatch metrics from it.
	onClosed func(ctx context.Context, run postgres.SyncRun)

	// The fixed settings, as the constants above outside tests.
	clock       clock
	hooks       hooks
	concurrency int
	lease       time.Duration
	backoffBase time.Duration
	backoffMax  time.Duration
	flipDelay   time.Duration
}

// OnRunClosed sets f to be called with each run this job records as
// finished, after it is recorded.
func (j *Job) OnRunClosed(f func(ctx context.Context, run postgres.SyncRun)) { j.onClosed = f }

// New returns a job over store and the two tiers. A nil logger discards.
// It panics when opt.BatchSize, MaxRetries or Workers is under 1, which
// config.Load refuses.
func New(store Store, hot HotTier, cold ColdTier, logger *slog.Logger, opt Options) *Job {
	if opt.BatchSize < 1 || opt.MaxRetries < 1 || opt.Workers < 1 {
		panic(fmt.Sprintf("syncjob: BatchSize %d, MaxRetries %d, Workers %d: each must be at least 1",
			opt.BatchSize, opt.MaxRetries, opt.Workers))
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Job{store: store, hot: hot, cold: cold, logger: logger, opt: opt, clock: systemClock{},
		concurrency: concurrency, lease: lease, backoffBase: backoffBase, backoffMax: backoffMax,
		flipDelay: flipDelay}
}

// Run statuses, as recorded in sync_runs.
const (
	StatusSucceeded = "succeeded" // every claimed file moved and nothing is left
	StatusPartial   = "partial"   // some files failed or were left for the next run
	StatusFailed    = "failed"    // the run could not work (database or every file failed)
)

// Report is the outcome of one run. Those of a local run carry its row's
// status and totals as it closed; a fan-out ticket's (Worked.Report) count
// what its worker did.
type Report struct {
	RunID        int64       `json:"run_id"`
	Trigger      string      `json:"trigger"`
	Status       string      `json:"status"`
	StartedAt    time.Time   `json:"started_at"`
	FinishedAt   time.Time   `json:"finished_at"`
	DurationMS   int64       `json:"duration_ms"`
	Workers      int         `json:"workers"` // worker loops (locally) or worker invocations (fan-out) that took part
	Batches      int         `json:"batches"`
	Synced       int         `json:"synced"`
	Failed       int         `json:"failed"`
	Left         int         `json:"left"` // files still in the hot tier after the run
	Bytes        int64       `json:"bytes"`
	HotDeleted   int         `json:"hot_deleted"`   // hot copies removed, including leftovers of earlier runs
	StoppedEarly bool        `json:"stopped_early"` // the time budget ran out before the queue did
	Errors       []FileError `json:"errors"`
}

// FileError is one file that failed this run.
type FileError struct {
	FileID int64  `json:"file_id"`
	Key    string `json:"object_key"`
	Error  string `json:"error"`
}

// ErrRunning is returned by RunExclusive when another run holds the lock.
var ErrRunning = postgres.ErrSyncRunning

// RunExclusive runs the job unless another run (in any process sharing the
// database) is going, in which case it returns ErrRunning. Every entry point
// (schedule, HTTP trigger, Lambda, make sync) goes through here.
func (j *Job) RunExclusive(ctx context.Context, trigger string) (Report, error) {
	unlock, err := j.store.LockSync(ctx)
	if err != nil {
		return Report{}, err
	}
	defer unlock()
	return j.run(ctx, trigger)
}

// Run runs the job once without the cross-process lock (concurrent runs are
// still safe: a file is leased to one run at a time and flipped by its
// lease holder only). It returns an error only
// when the run could not work at all; file failures are in the report.
func (j *Job) Run(ctx context.Context) (Report, error) { return j.run(ctx, "manual") }

// run is the local driver: it opens a run, starts Workers worker loops
// (after the clean-up of leftover hot copies, when configured) and closes
// the run when they are done.
func (j *Job) run(ctx context.Context, trigger string) (Report, error) {
	id, started, err := j.store.StartSyncRun(ctx, trigger)
	if err != nil {
		return Report{}, err
	}
	t0 := j.clock.Now()
	log := j.logger.With("run_id", id)
	log.InfoContext(ctx, "sync run started", "trigger", trigger, "workers", j.opt.Workers, "batch_size", j.opt.BatchSize,
		"max_retries", j.opt.MaxRetries, "delete_hot", j.opt.DeleteHot, "verify", j.opt.Verify, "storage_class", j.opt.StorageClass)

	stopAt := j.stopAt(ctx, t0)
	workers := make([]*worker, j.opt.Workers)
	flips := newFlipper(j.store, j.opt.Workers*j.concurrency, j.flipDelay) // one statement for the flips of all workers
	for i := range workers {
		workers[i] = j.newWorker(id, fmt.Sprintf("w%d", i+1), stopAt, log, flips)
	}
	var runErr error
	if j.opt.DeleteHot {
		// Before any worker moves a file, so that no copy is removed twice.
		runErr = workers[0].cleanup(ctx)
	}
	ran := 0
	if runErr == nil {
		errs := make([]error, len(workers))
		var wg sync.WaitGroup
		for i, w := range workers {
			wg.Go(func() { errs[i] = w.loop(ctx) })
		}
		wg.Wait()
		runErr, ran = errors.Join(dedupe(errs)...), len(workers)
	}
	rep := Report{RunID: id, Trigger: trigger, StartedAt: started.UTC(), Workers: ran, Errors: []FileError{}}
	unrecorded := 0
	for _, w := range workers {
		rep = merge(rep, w.rep)
		unrecorded += w.unrecorded
	}

	// Bookkeeping must survive a cancelled run context.
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var msg string
	if runErr != nil {
		msg = runErr.Error()
	}
	run, err := j.store.FinishSyncRun(bctx, id, workReport(rep, unrecorded), msg)
	rep.DurationMS = j.clock.Now().Sub(t0).Milliseconds()
	if err != nil {
		rep.Status, rep.FinishedAt = StatusFailed, j.clock.Now().UTC()
		runErr = errors.Join(runErr, err)
		log.ErrorContext(bctx, "sync run not recorded", "synced", rep.Synced, "failed", rep.Failed, "error", runErr.Error())
		return rep, fmt.Errorf("sync run %d: %w", id, runErr)
	}
	rep.Status, rep.Synced, rep.Failed, rep.Left, rep.Bytes = run.Status, run.Synced, run.Failed, run.Left, run.Bytes
	rep.FinishedAt = run.FinishedAt.UTC()
	j.closed(bctx, run, runErr, "hot_deleted", rep.HotDeleted, "stopped_early", rep.StoppedEarly)
	if runErr != nil {
		return rep, fmt.Errorf("sync run %d: %w", id, runErr)
	}
	return rep, nil
}

// closed is where every run this job closes ends up, whichever driver
// closed it (postgres closes it: FinishSyncRun, FinishTicket or
// AbandonTickets): it logs the run's figures, with attrs, and passes the
// run on to the function OnRunClosed set.
func (j *Job) closed(ctx context.Context, run postgres.SyncRun, runErr error, attrs ...any) {
	attrs = append([]any{"run_id", run.ID, "status", run.Status, "synced", run.Synced, "failed", run.Failed, "left", run.Left,
		"bytes", run.Bytes, "batches", run.Batches, "workers", run.Workers}, attrs...)
	if run.FinishedAt != nil {
		attrs = append(attrs, "duration_ms", run.FinishedAt.Sub(run.StartedAt).Milliseconds())
	}
	if runErr != nil {
		j.logger.ErrorContext(ctx, "sync run finished", append(attrs, "error", runErr.Error())...)
	} else {
		j.logger.InfoContext(ctx, "sync run finished", attrs...)
	}
	if j.onClosed != nil {
		j.onClosed(ctx, run)
	}
}

// workReport is what a driver adds to its run of rep: its failed files'
// errors, and the failures no row shows.
func workReport(rep Report, unrecorded int) postgres.WorkReport {
	lines := make([]string, len(rep.Errors))
	for i, e := range rep.Errors {
		lines[i] = fmt.Sprintf("file %d: %s", e.FileID, e.Error)
	}
	return postgres.WorkReport{Workers: rep.Workers, Batches: rep.Batches, Errors: lines, Unrecorded: unrecorded}
}

// merge adds the counts of b to a.
func merge(a, b Report) Report {
	a.Batches += b.Batches
	a.Synced += b.Synced
	a.Failed += b.Failed
	a.Bytes += b.Bytes
	a.HotDeleted += b.HotDeleted
	a.StoppedEarly = a.StoppedEarly || b.StoppedEarly
	a.Errors = append(append([]FileError{}, a.Errors...), b.Errors...)
	if a.Errors == nil {
		a.Errors = []FileError{}
	}
	return a
}

// dedupe drops nil errors and repeats of one message (every worker sees
// the same cancelled context or unreachable database).
func dedupe(errs []error) []error {
	var out []error
	seen := map[string]bool{}
	for _, err := range errs {
		if err == nil || seen[err.Error()] {
			continue
		}
		seen[err.Error()] = true
		out = append(out, err)
	}
	return out
}

// stopAt is when the run stops claiming: the deadline less the margin, or
// never without a deadline.
func (j *Job) stopAt(ctx context.Context, now time.Time) time.Time {
	dl, ok := ctx.Deadline()
	if !ok {
		return time.Time{}
	}
	margin := j.opt.StopMargin
	if margin <= 0 {
		margin = min(dl.Sub(now)/10, 2*time.Minute)
	}
	return dl.Add(-margin)
}
