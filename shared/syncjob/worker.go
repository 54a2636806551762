package syncjob

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
)

// worker is one claimer of a run, the same for both drivers: one of the
// Workers loops of a local run (Job.run), or the whole of a fan-out
// ticket's invocation (Fanout.Work). It claims batches under its own lease
// owner, run-<id>/<name>, and moves concurrency files at a time until
// nothing is left to claim, its time budget is nearly spent or the context
// ends. The claim leaves out files any worker of the same run released
// after failing them (see postgres.ClaimSyncBatch), so a run tries each
// file once whatever the number of its workers; a worker that dies holding
// leases leaves its files to the others once the leases expire. What it did
// is in rep (and unrecorded); its driver adds that to the run.
type worker struct {
	job    *Job
	log    *slog.Logger
	stopAt time.Time // stop claiming then (zero: never)
	owner  string    // sync_owner of the worker's leases
	flips  *flipper  // flips its verified files, with those of the run's other workers in this process

	mu         sync.Mutex
	rep        Report // its counts and file errors
	unrecorded int    // failures no file row shows (panics in a claim or outside a move)
}

// newWorker returns worker name of run runID.
func (j *Job) newWorker(runID int64, name string, stopAt time.Time, log *slog.Logger, flips *flipper) *worker {
	owner := fmt.Sprintf("run-%d/%s", runID, name)
	return &worker{job: j, log: log.With("worker", owner), stopAt: stopAt, owner: owner, flips: flips, rep: Report{Errors: []FileError{}}}
}

func (w *worker) timeUp() bool {
	return !w.stopAt.IsZero() && !w.job.clock.Now().Before(w.stopAt)
}

// loop is the worker's work: concurrency slots move the files the worker claimed,
// and the slot that finds none left claims the next batch, so no slot
// waits for the slowest file of a batch (a 100 MiB file among small ones)
// before the worker claims again. It ends when nothing is left to claim,
// the time budget is nearly spent or the context ends; the files claimed
// and not started are then released for the next worker. The leases of
// the files it holds are renewed every third of the lease meanwhile.
func (w *worker) loop(ctx context.Context) error {
	q := &claimQueue{w: w, held: map[int64]bool{}}
	stopRenew := w.renew(ctx, q)
	var wg sync.WaitGroup
	for range w.job.concurrency {
		wg.Go(func() {
			for {
				c, ok := q.next(ctx)
				if !ok {
					return
				}
				w.syncFileSafe(ctx, c.batch, c.f)
				q.finish(c.f.ID)
			}
		})
	}
	wg.Wait()
	stopRenew()
	q.releaseUnstarted(ctx)
	return q.err
}

// claimed is a file of batch number batch (1-based, per worker).
type claimed struct {
	f     core.File
	batch int
}

// claimQueue is a worker's claimed files not yet started, and the ones it
// holds (claimed, not finished), whose leases it renews.
type claimQueue struct {
	w      *worker
	mu     sync.Mutex
	queue  []claimed
	held   map[int64]bool
	ended  bool
	err    error
	panics int
}

// next returns the next file to move, claiming a batch when none is left;
// false when the worker is done (see loop). The claim runs under the
// queue's lock: the other slots wait for its files rather than claim too.
func (q *claimQueue) next(ctx context.Context) (claimed, bool) {
	w := q.w
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		switch {
		case q.ended:
			return claimed{}, false
		case ctx.Err() != nil:
			q.end(ctx.Err())
			return claimed{}, false
		case w.timeUp():
			w.mu.Lock()
			w.rep.StoppedEarly = true
			w.mu.Unlock()
			q.end(nil)
			return claimed{}, false
		case len(q.queue) > 0:
			c := q.queue[0]
			q.queue = q.queue[1:]
			return c, true
		}
		files, err := w.claim(ctx)
		if errors.Is(err, errPanicked) {
			if q.panics++; q.panics == 3 {
				q.end(fmt.Errorf("claim files: %w three times", err))
			}
			continue
		}
		if err != nil {
			q.end(err)
			continue
		}
		q.panics = 0
		if len(files) == 0 {
			q.end(nil)
			continue
		}
		w.mu.Lock()
		w.rep.Batches++
		batch := w.rep.Batches
		w.mu.Unlock()
		for _, f := range files {
			q.queue = append(q.queue, claimed{f, batch})
			q.held[f.ID] = true
		}
	}
}

func (q *claimQueue) end(err error) {
	q.ended = true
	if q.err == nil {
		q.err = err
	}
}

func (q *claimQueue) finish(id int64) {
	q.mu.Lock()
	delete(q.held, id)
	q.mu.Unlock()
}

func (q *claimQueue) heldIDs() []int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	ids := make([]int64, 0, len(q.held))
	for id := range q.held {
		ids = append(ids, id)
	}
	return ids
}

// releaseUnstarted frees the leases of the files claimed and not started.
func (q *claimQueue) releaseUnstarted(ctx context.Context) {
	q.mu.Lock()
	ids := make([]int64, len(q.queue))
	for i, c := range q.queue {
		ids[i] = c.f.ID
	}
	q.queue = nil
	q.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := q.w.job.store.ReleaseSyncLeases(bctx, q.w.owner, ids); err != nil {
		// They come back when the lease expires.
		q.w.log.WarnContext(bctx, "release sync leases", "files", len(ids), "error", err.Error())
	}
}

// renew extends the leases of the files q holds every third of the lease
// until stop is called. A failed renewal is logged: the lease may then
// expire under a long copy, and the fenced flip keeps a second worker's
// copy from flipping twice.
func (w *worker) renew(ctx context.Context, q *claimQueue) (stop func()) {
	j := w.job
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(j.lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				ids := q.heldIDs()
				if len(ids) == 0 {
					continue
				}
				if err := j.store.RenewSyncLeases(ctx, w.owner, ids, j.lease); err != nil {
					w.log.WarnContext(ctx, "renew sync leases", "error", err.Error())
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}

var errPanicked = errors.New("panicked")

// claim leases the next batch: one short statement, nothing held open. A
// panic there is logged and counted as a failure of the run.
func (w *worker) claim(ctx context.Context) (files []core.File, err error) {
	defer func() {
		if p := recover(); p != nil {
			files, err = nil, fmt.Errorf("%w: %w", errPanicked, w.workerPanic(ctx, p, core.File{}))
		}
	}()
	return w.job.store.ClaimSyncBatch(ctx, w.owner, w.job.opt.BatchSize, w.job.lease)
}

// syncFileSafe is syncFile with a panic outside the file's move (the
// store, the bookkeeping) recovered: it is logged and counted as a failure
// of the run, and the worker goes on with the next file; the lease expires.
func (w *worker) syncFileSafe(ctx context.Context, batch int, f core.File) {
	defer func() {
		if p := recover(); p != nil {
			w.workerPanic(ctx, p, f)
		}
	}()
	w.syncFile(ctx, batch, f)
}

// workerPanic logs a recovered panic with its stack and counts it as a
// failure of the run (of file f, or of none when f.ID is 0); it returns the
// panic as an error.
func (w *worker) workerPanic(ctx context.Context, p any, f core.File) error {
	perr := panicError(p)
	attrs := []any{"error", perr.Error(), "stack", string(debug.Stack())}
	if f.ID != 0 {
		attrs = append([]any{"file_id", f.ID}, attrs...)
	}
	w.log.ErrorContext(ctx, "sync worker panic", attrs...)
	w.mu.Lock()
	w.rep.Failed++
	w.unrecorded++
	w.rep.Errors = append(w.rep.Errors, FileError{FileID: f.ID, Key: f.ObjectKey, Error: perr.Error()})
	w.mu.Unlock()
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
func (w *worker) syncFile(ctx context.Context, batch int, f core.File) {
	j := w.job
	if j.hooks.OnClaim != nil {
		j.hooks.OnClaim(batch, f)
	}
	start := j.clock.Now()
	for attempt := 1; ; attempt++ {
		m, err := j.moveSafe(ctx, f)
		if err == nil {
			flipped, fence, ferr := w.flips.flip(ctx, f, w.owner, m)
			switch {
			case ferr != nil:
				err = ferr
			case fence == postgres.FenceHeld:
				w.synced(ctx, flipped, attempt, j.clock.Now().Sub(start))
				return
			default:
				w.notOurs(ctx, f, fence, attempt)
				return
			}
		}
		final := attempt >= j.opt.MaxRetries || isPermanent(err) || ctx.Err() != nil
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		fence, rerr := j.store.RecordSyncFailure(rctx, f.ID, w.owner, err.Error(), final)
		cancel()
		if rerr != nil {
			w.log.ErrorContext(ctx, "record sync failure", "file_id", f.ID, "error", rerr.Error())
		} else if fence != postgres.FenceHeld {
			w.notOurs(ctx, f, fence, attempt)
			return
		}
		w.log.WarnContext(ctx, "sync attempt failed", "file_id", f.ID, "key", f.ObjectKey, "attempt", attempt,
			"final", final, "error", err.Error())
		if !final && sleep(ctx, j.backoff(attempt)) != nil {
			final = true
		}
		if final {
			w.failed(ctx, f, attempt, err, j.clock.Now().Sub(start))
			return
		}
	}
}

// notOurs ends a file whose row is no longer this run's. Gone (its owner
// deleted it mid-copy): the cold copy this run may have written is an
// orphan and is removed. Lost (another worker leased it after this run's
// lease expired, or flipped it): the object under that key is the other
// worker's too, so it is left alone.
func (w *worker) notOurs(ctx context.Context, f core.File, fence postgres.Fence, attempts int) {
	if fence == postgres.FenceGone {
		w.job.deleteBadCopy(ctx, f)
	}
	w.log.InfoContext(ctx, "sync file", "file_id", f.ID, "key", f.ObjectKey, "result", fence.String(), "attempts", attempts)
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

func (w *worker) synced(ctx context.Context, f core.File, attempts int, took time.Duration) {
	hotDeleted := w.afterCommit(ctx, f)
	w.mu.Lock()
	w.rep.Synced++
	w.rep.Bytes += f.Size
	if hotDeleted {
		w.rep.HotDeleted++
	}
	w.mu.Unlock()
	w.log.InfoContext(ctx, "sync file", "file_id", f.ID, "user_id", f.UserID, "key", f.ObjectKey, "size", f.Size,
		"result", "synced", "attempts", attempts, "hot_deleted", hotDeleted, "duration_ms", took.Milliseconds())
}

// afterCommit does what follows the flip of a synced file: the hot copy's
// removal when configured. A panic here is logged; the file is safe in s3
// and the next run's clean-up step removes a hot copy left behind.
func (w *worker) afterCommit(ctx context.Context, f core.File) (hotDeleted bool) {
	j := w.job
	defer func() {
		if p := recover(); p != nil {
			w.log.ErrorContext(ctx, "sync file panic after commit", "file_id", f.ID, "key", f.ObjectKey,
				"error", panicError(p).Error(), "stack", string(debug.Stack()))
		}
	}()
	if j.hooks.AfterCommit != nil {
		j.hooks.AfterCommit(ctx, f)
	}
	if j.opt.DeleteHot {
		if err := w.deleteHot(ctx, f.ID, f.ObjectKey); err != nil {
			// The next run's clean-up step retries it; the file is safe in s3.
			w.log.WarnContext(ctx, "delete hot copy", "file_id", f.ID, "key", f.ObjectKey, "error", err.Error())
			return false
		}
		return true
	}
	return false
}

func (w *worker) failed(ctx context.Context, f core.File, attempts int, err error, took time.Duration) {
	w.mu.Lock()
	w.rep.Failed++
	w.rep.Errors = append(w.rep.Errors, FileError{FileID: f.ID, Key: f.ObjectKey, Error: err.Error()})
	w.mu.Unlock()
	w.log.ErrorContext(ctx, "sync file", "file_id", f.ID, "user_id", f.UserID, "key", f.ObjectKey, "size", f.Size,
		"result", "failed", "attempts", attempts, "error", err.Error(), "duration_ms", took.Milliseconds())
}

// deleteHot removes a synced file's hot copy and records it.
func (w *worker) deleteHot(ctx context.Context, id int64, key string) error {
	if err := w.job.hot.Delete(ctx, key); err != nil {
		return err
	}
	return w.job.store.MarkHotDeleted(ctx, id)
}

// cleanup removes the hot copies that earlier runs left behind (a crash
// between commit and delete, a failed delete, or the setting switched on
// after files were synced). A run's first worker does it before it claims.
func (w *worker) cleanup(ctx context.Context) error {
	var after int64
	for !w.timeUp() {
		copies, err := w.job.store.HotCopiesToDelete(ctx, after, w.job.opt.BatchSize)
		if err != nil {
			return err
		}
		if len(copies) == 0 {
			return nil
		}
		for _, c := range copies {
			after = c.ID
			if err := w.deleteHot(ctx, c.ID, c.ObjectKey); err != nil {
				w.log.WarnContext(ctx, "delete leftover hot copy", "file_id", c.ID, "key", c.ObjectKey, "error", err.Error())
				continue
			}
			w.mu.Lock()
			w.rep.HotDeleted++
			w.mu.Unlock()
			w.log.InfoContext(ctx, "sync file", "file_id", c.ID, "key", c.ObjectKey, "result", "hot_copy_deleted")
		}
	}
	return nil
}

// backoff is the delay before attempt+1: base·2^(attempt-1), capped, with
// full jitter on its upper half.
func (j *Job) backoff(attempt int) time.Duration {
	d := j.backoffBase << (attempt - 1)
	if d <= 0 || d > j.backoffMax {
		d = j.backoffMax
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
