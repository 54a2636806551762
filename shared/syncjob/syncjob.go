// Package syncjob is the nightly sync job: it moves files from the hot tier
// to the cold tier, verifies every copy against the database (the SHA-256
// of what it reads from the hot tier; the full-object CRC64NVME, which the
// cold tier checks as it stores the object and reports on a HEAD; or, with
// VerifyReadback, the SHA-256 of the cold copy read back), flips each row
// with an update fenced on its lease, and only then removes the hot copy
// (when configured).
// A crash at any point loses nothing: the next run redoes what is missing.
package syncjob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"strings"
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
	FlipSynced(ctx context.Context, f core.File, owner string, m postgres.Moved) (core.File, postgres.Fence, error)
	RecordSyncFailure(ctx context.Context, id int64, owner, msg string, release bool) (postgres.Fence, error)
	HotCopiesToDelete(ctx context.Context, afterID int64, limit int) ([]postgres.HotCopy, error)
	MarkHotDeleted(ctx context.Context, id int64) error
	CountPending(ctx context.Context) (int, error)
}

// runStore records runs and serialises them across processes.
type runStore interface {
	StartSyncRun(ctx context.Context, trigger string) (int64, time.Time, error)
	FinishSyncRun(ctx context.Context, r postgres.SyncRun) error
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

// Clock tells the time; tests may move it.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Options tune a Job. Zero values take the defaults.
type Options struct {
	BatchSize   int           // files claimed per batch (SYNC_BATCH_SIZE); default 10
	MaxRetries  int           // attempts per file per run (SYNC_MAX_RETRIES); default 3
	DeleteHot   bool          // DELETE_FROM_MINIO_AFTER_SYNC
	Concurrency int           // files moved at once; default 2
	BackoffBase time.Duration // first retry delay; doubles per attempt, with jitter; default 1 s
	BackoffMax  time.Duration // longest retry delay; default 30 s
	// StopMargin is how long before the context's deadline the job stops
	// claiming files. Default: a tenth of the budget, at most 2 minutes.
	StopMargin time.Duration
	// Verify is how a cold copy is checked before the row flips
	// (SYNC_VERIFY): VerifyChecksum (default) or VerifyReadback.
	Verify string
	// StorageClass is the S3 storage class of cold copies
	// (COLD_STORAGE_CLASS); files under MinClassSize stay STANDARD.
	StorageClass string
	// Lease is how long a claim holds a file (sync_lease_until); the job
	// renews the leases of its batch every third of it while it works, so
	// it need not cover a long copy, and a crashed worker's files are free
	// again within it. Default 2 minutes.
	Lease time.Duration
	// Workers is how many worker loops one run starts at once
	// (SYNC_WORKERS), each claiming its own batches under its own lease
	// owner; default 1. Each moves Concurrency files at a time.
	Workers int
	Hooks   Hooks
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

// Hooks let tests act at the step boundaries of one file's move. Each may
// be nil. An error from AfterCopy or BeforeCommit fails the attempt.
type Hooks struct {
	OnClaim func(batch int, f core.File) // a file was claimed in batch (1-based)
	// ColdBody wraps the stream the cold tier is sent, after the job's
	// hashing of what it read (tests corrupt it there).
	ColdBody     func(f core.File, r io.Reader) io.Reader
	AfterCopy    func(ctx context.Context, f core.File) error // copied to cold, not yet verified
	BeforeCommit func(ctx context.Context, f core.File) error // verified, row not yet flipped
	AfterCommit  func(ctx context.Context, f core.File)       // row flipped, hot copy not yet deleted
}

// Job moves files from the hot to the cold tier. Build it with New.
type Job struct {
	store  Store
	hot    HotTier
	cold   ColdTier
	clock  Clock
	logger *slog.Logger
	opt    Options
	// closed, when set, is told of every run recorded as finished (inline,
	// or by the fan-out's last ticket): the Lambda functions emit the run's
	// figures as CloudWatch metrics from it.
	closed func(ctx context.Context, run postgres.SyncRun)
}

// OnRunClosed sets f to be called with each run this job records as
// finished, after it is recorded.
func (j *Job) OnRunClosed(f func(ctx context.Context, run postgres.SyncRun)) { j.closed = f }

// New returns a job. A nil clock is the system clock; a nil logger discards.
func New(store Store, hot HotTier, cold ColdTier, clock Clock, logger *slog.Logger, opt Options) *Job {
	if clock == nil {
		clock = systemClock{}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opt.BatchSize <= 0 {
		opt.BatchSize = 10
	}
	if opt.MaxRetries <= 0 {
		opt.MaxRetries = 3
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = 2
	}
	if opt.BackoffBase <= 0 {
		opt.BackoffBase = time.Second
	}
	if opt.BackoffMax <= 0 {
		opt.BackoffMax = 30 * time.Second
	}
	if opt.Verify == "" {
		opt.Verify = VerifyChecksum
	}
	if opt.StorageClass == "" {
		opt.StorageClass = core.StorageStandard
	}
	if opt.Lease <= 0 {
		opt.Lease = DefaultLease
	}
	if opt.Workers <= 0 {
		opt.Workers = 1
	}
	return &Job{store: store, hot: hot, cold: cold, clock: clock, logger: logger, opt: opt}
}

// DefaultLease is the lease of a claimed file unless Options.Lease says.
const DefaultLease = 2 * time.Minute

// Run statuses, as recorded in sync_runs.
const (
	StatusSucceeded = "succeeded" // every claimed file moved and nothing is left
	StatusPartial   = "partial"   // some files failed or were left for the next run
	StatusFailed    = "failed"    // the run could not work (database or every file failed)
)

// Report is the outcome of one run.
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

func (j *Job) run(ctx context.Context, trigger string) (Report, error) {
	id, started, err := j.store.StartSyncRun(ctx, trigger)
	if err != nil {
		return Report{}, err
	}
	t0 := j.clock.Now()
	log := j.logger.With("run_id", id)
	log.InfoContext(ctx, "sync run started", "trigger", trigger, "workers", j.opt.Workers, "batch_size", j.opt.BatchSize,
		"max_retries", j.opt.MaxRetries, "delete_hot", j.opt.DeleteHot, "verify", j.opt.Verify, "storage_class", j.opt.StorageClass)

	rep, runErr := j.work(ctx, id, "w", j.opt.Workers, j.stopAt(ctx, t0), log, j.opt.DeleteHot)
	rep.RunID, rep.Trigger, rep.StartedAt = id, trigger, started.UTC()

	// Bookkeeping must survive a cancelled run context.
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	left, err := j.store.CountPending(bctx)
	if err != nil && runErr == nil {
		runErr = err
	}
	rep.Left = left
	rep.FinishedAt = j.clock.Now().UTC()
	rep.DurationMS = j.clock.Now().Sub(t0).Milliseconds()
	rep.Status = status(rep, runErr)
	var summary *string
	if s := errorSummary(rep, runErr); s != "" {
		summary = &s
	}
	run := postgres.SyncRun{ID: id, Status: rep.Status, Synced: rep.Synced,
		Failed: rep.Failed, Left: rep.Left, Bytes: rep.Bytes, ErrorSummary: summary, Workers: rep.Workers, Batches: rep.Batches}
	if err := j.store.FinishSyncRun(bctx, run); err != nil && runErr == nil {
		runErr = err
	} else if err == nil && j.closed != nil {
		finished := rep.FinishedAt
		run.StartedAt, run.FinishedAt = rep.StartedAt, &finished
		j.closed(bctx, run)
	}
	attrs := []any{"status", rep.Status, "synced", rep.Synced, "failed", rep.Failed, "left", rep.Left,
		"bytes", rep.Bytes, "hot_deleted", rep.HotDeleted, "batches", rep.Batches, "workers", rep.Workers,
		"stopped_early", rep.StoppedEarly, "duration_ms", rep.DurationMS}
	if runErr != nil {
		log.ErrorContext(bctx, "sync run finished", append(attrs, "error", runErr.Error())...)
		return rep, fmt.Errorf("sync run %d: %w", id, runErr)
	}
	log.InfoContext(bctx, "sync run finished", attrs...)
	return rep, nil
}

func status(rep Report, runErr error) string {
	switch {
	case runErr != nil, rep.Failed > 0 && rep.Synced == 0:
		return StatusFailed
	case rep.Failed > 0 || rep.Left > 0:
		return StatusPartial
	}
	return StatusSucceeded
}

func errorSummary(rep Report, runErr error) string {
	var parts []string
	if runErr != nil {
		parts = append(parts, runErr.Error())
	}
	for i, e := range rep.Errors {
		if i == 10 {
			parts = append(parts, fmt.Sprintf("and %d more", len(rep.Errors)-10))
			break
		}
		parts = append(parts, fmt.Sprintf("file %d: %s", e.FileID, e.Error))
	}
	return strings.Join(parts, "; ")
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

// runState is one worker loop of a run in progress (see work).
type runState struct {
	job    *Job
	log    *slog.Logger
	stopAt time.Time
	owner  string // sync_owner of the worker's leases: run-<id>/<worker>

	mu  sync.Mutex
	rep Report
}

func (r *runState) timeUp() bool {
	return !r.stopAt.IsZero() && !r.job.clock.Now().Before(r.stopAt)
}

var errPanicked = errors.New("panicked")

// claim leases the next batch: one short statement, nothing held open. A
// panic there is logged and counted as a failure of the run.
func (r *runState) claim(ctx context.Context) (files []core.File, err error) {
	defer func() {
		if p := recover(); p != nil {
			files, err = nil, fmt.Errorf("%w: %w", errPanicked, r.workerPanic(ctx, p, core.File{}))
		}
	}()
	return r.job.store.ClaimSyncBatch(ctx, r.owner, r.job.opt.BatchSize, r.job.opt.Lease)
}

// syncFileSafe is syncFile with a panic outside the file's move (the
// store, the bookkeeping) recovered: it is logged and counted as a failure
// of the run, and the worker goes on with the next file; the lease expires.
func (r *runState) syncFileSafe(ctx context.Context, batch int, f core.File) {
	defer func() {
		if p := recover(); p != nil {
			r.workerPanic(ctx, p, f)
		}
	}()
	r.syncFile(ctx, batch, f)
}

// workerPanic logs a recovered panic with its stack and counts it as a
// failure of the run (of file f, or of none when f.ID is 0); it returns the
// panic as an error.
func (r *runState) workerPanic(ctx context.Context, p any, f core.File) error {
	perr := panicError(p)
	attrs := []any{"error", perr.Error(), "stack", string(debug.Stack())}
	if f.ID != 0 {
		attrs = append([]any{"file_id", f.ID}, attrs...)
	}
	r.log.ErrorContext(ctx, "sync worker panic", attrs...)
	r.mu.Lock()
	r.rep.Failed++
	r.rep.Errors = append(r.rep.Errors, FileError{FileID: f.ID, Key: f.ObjectKey, Error: perr.Error()})
	r.mu.Unlock()
	return perr
}

// panicError is the error a recovered panic value becomes.
func panicError(p any) error {
	if err, ok := p.(error); ok {
		return fmt.Errorf("panic: %w", err)
	}
	return fmt.Errorf("panic: %v", p)
}

// syncFile moves one leased file, retrying with backoff: copy and verify
// with no transaction open, then the fenced flip. A row deleted meanwhile
// (FenceGone) gets its cold copy removed; a lease taken over by another
// worker (FenceLost) is left to it.
func (r *runState) syncFile(ctx context.Context, batch int, f core.File) {
	j := r.job
	if j.opt.Hooks.OnClaim != nil {
		j.opt.Hooks.OnClaim(batch, f)
	}
	start := j.clock.Now()
	for attempt := 1; ; attempt++ {
		m, err := j.moveSafe(ctx, f)
		if err == nil {
			flipped, fence, ferr := j.store.FlipSynced(ctx, f, r.owner, m)
			switch {
			case ferr != nil:
				err = ferr
			case fence == postgres.FenceHeld:
				r.synced(ctx, flipped, attempt, j.clock.Now().Sub(start))
				return
			default:
				r.notOurs(ctx, f, fence, attempt)
				return
			}
		}
		final := attempt >= j.opt.MaxRetries || isPermanent(err) || ctx.Err() != nil
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		fence, rerr := j.store.RecordSyncFailure(rctx, f.ID, r.owner, err.Error(), final)
		cancel()
		if rerr != nil {
			r.log.ErrorContext(ctx, "record sync failure", "file_id", f.ID, "error", rerr.Error())
		} else if fence != postgres.FenceHeld {
			r.notOurs(ctx, f, fence, attempt)
			return
		}
		r.log.WarnContext(ctx, "sync attempt failed", "file_id", f.ID, "key", f.ObjectKey, "attempt", attempt,
			"final", final, "error", err.Error())
		if !final && sleep(ctx, j.backoff(attempt)) != nil {
			final = true
		}
		if final {
			r.failed(ctx, f, attempt, err, j.clock.Now().Sub(start))
			return
		}
	}
}

// notOurs ends a file whose row is no longer this run's. Gone (its owner
// deleted it mid-copy): the cold copy this run may have written is an
// orphan and is removed. Lost (another worker leased it after this run's
// lease expired, or flipped it): the object under that key is the other
// worker's too, so it is left alone.
func (r *runState) notOurs(ctx context.Context, f core.File, fence postgres.Fence, attempts int) {
	if fence == postgres.FenceGone {
		r.job.deleteBadCopy(ctx, f)
	}
	r.log.InfoContext(ctx, "sync file", "file_id", f.ID, "key", f.ObjectKey, "result", fence.String(), "attempts", attempts)
}

// moveSafe is move with a panic recovered: it fails the file (the panic is
// its recorded error) and is not retried.
func (j *Job) moveSafe(ctx context.Context, f core.File) (m postgres.Moved, err error) {
	defer func() {
		if p := recover(); p != nil {
			j.logger.ErrorContext(ctx, "sync file panic", "file_id", f.ID, "key", f.ObjectKey, "stack", string(debug.Stack()))
			m, err = postgres.Moved{}, permanent{fmt.Errorf("sync file %d: %w", f.ID, panicError(p))}
		}
	}()
	return j.move(ctx, f)
}

func (r *runState) synced(ctx context.Context, f core.File, attempts int, took time.Duration) {
	hotDeleted := r.afterCommit(ctx, f)
	r.mu.Lock()
	r.rep.Synced++
	r.rep.Bytes += f.Size
	if hotDeleted {
		r.rep.HotDeleted++
	}
	r.mu.Unlock()
	r.log.InfoContext(ctx, "sync file", "file_id", f.ID, "user_id", f.UserID, "key", f.ObjectKey, "size", f.Size,
		"result", "synced", "attempts", attempts, "hot_deleted", hotDeleted, "duration_ms", took.Milliseconds())
}

// afterCommit does what follows the flip of a synced file: the hot copy's
// removal when configured. A panic here is logged; the file is safe in s3
// and the next run's clean-up step removes a hot copy left behind.
func (r *runState) afterCommit(ctx context.Context, f core.File) (hotDeleted bool) {
	j := r.job
	defer func() {
		if p := recover(); p != nil {
			r.log.ErrorContext(ctx, "sync file panic after commit", "file_id", f.ID, "key", f.ObjectKey,
				"error", panicError(p).Error(), "stack", string(debug.Stack()))
		}
	}()
	if j.opt.Hooks.AfterCommit != nil {
		j.opt.Hooks.AfterCommit(ctx, f)
	}
	if j.opt.DeleteHot {
		if err := r.deleteHot(ctx, f.ID, f.ObjectKey); err != nil {
			// The next run's clean-up step retries it; the file is safe in s3.
			r.log.WarnContext(ctx, "delete hot copy", "file_id", f.ID, "key", f.ObjectKey, "error", err.Error())
			return false
		}
		return true
	}
	return false
}

func (r *runState) failed(ctx context.Context, f core.File, attempts int, err error, took time.Duration) {
	r.mu.Lock()
	r.rep.Failed++
	r.rep.Errors = append(r.rep.Errors, FileError{FileID: f.ID, Key: f.ObjectKey, Error: err.Error()})
	r.mu.Unlock()
	r.log.ErrorContext(ctx, "sync file", "file_id", f.ID, "user_id", f.UserID, "key", f.ObjectKey, "size", f.Size,
		"result", "failed", "attempts", attempts, "error", err.Error(), "duration_ms", took.Milliseconds())
}

// deleteHot removes a synced file's hot copy and records it.
func (r *runState) deleteHot(ctx context.Context, id int64, key string) error {
	if err := r.job.hot.Delete(ctx, key); err != nil {
		return err
	}
	return r.job.store.MarkHotDeleted(ctx, id)
}

// deleteHotCopies removes the hot copies that earlier runs left behind
// (a crash between commit and delete, a failed delete, or the setting
// switched on after files were synced).
func (r *runState) deleteHotCopies(ctx context.Context) error {
	var after int64
	for !r.timeUp() {
		copies, err := r.job.store.HotCopiesToDelete(ctx, after, r.job.opt.BatchSize)
		if err != nil {
			return err
		}
		if len(copies) == 0 {
			return nil
		}
		for _, c := range copies {
			after = c.ID
			if err := r.deleteHot(ctx, c.ID, c.ObjectKey); err != nil {
				r.log.WarnContext(ctx, "delete leftover hot copy", "file_id", c.ID, "key", c.ObjectKey, "error", err.Error())
				continue
			}
			r.rep.HotDeleted++
			r.log.InfoContext(ctx, "sync file", "file_id", c.ID, "key", c.ObjectKey, "result", "hot_copy_deleted")
		}
	}
	return nil
}

// backoff is the delay before attempt+1: base·2^(attempt-1), capped, with
// full jitter on its upper half.
func (j *Job) backoff(attempt int) time.Duration {
	d := j.opt.BackoffBase << (attempt - 1)
	if d <= 0 || d > j.opt.BackoffMax {
		d = j.opt.BackoffMax
	}
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
