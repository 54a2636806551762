package syncjob

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
)

// work runs n worker loops of run id at once and merges their reports.
// Each loop claims its own batches under its own lease owner,
// run-<id>/<tag><i> (run-<id>/<tag> for a single named worker), until nothing is left to claim, stopAt (zero: never)
// or the context ends; with cleanup it first removes the hot copies earlier
// runs left behind. The claim leaves out files any worker of the same run
// released after failing them (see postgres.ClaimSyncBatch), so a run
// tries each file once whatever the number of workers; a worker that dies
// holding leases leaves its files to the others once the leases expire.
func (j *Job) work(ctx context.Context, id int64, tag string, n int, stopAt time.Time, log *slog.Logger, cleanup bool) (Report, error) {
	newWorker := func(i int) *runState {
		owner := fmt.Sprintf("run-%d/%s%d", id, tag, i)
		if n == 1 && tag != "w" {
			owner = fmt.Sprintf("run-%d/%s", id, tag)
		}
		return &runState{job: j, log: log.With("worker", owner), stopAt: stopAt, owner: owner, rep: Report{Errors: []FileError{}}}
	}
	var errs []error
	var cleaned Report
	if cleanup {
		w := newWorker(0)
		if err := w.deleteHotCopies(ctx); err != nil {
			errs = append(errs, err)
		}
		cleaned = w.rep
	}
	workers := make([]*runState, n)
	werrs := make([]error, n)
	if len(errs) == 0 {
		var wg sync.WaitGroup
		for i := range workers {
			workers[i] = newWorker(i + 1)
			wg.Go(func() { werrs[i] = workers[i].loop(ctx) })
		}
		wg.Wait()
	}
	rep := cleaned
	for _, w := range workers {
		if w != nil {
			rep = merge(rep, w.rep)
			rep.Workers++
		}
	}
	return rep, errors.Join(append(errs, dedupe(werrs)...)...)
}

// Work is one worker of a fan-out run (a worker Lambda's invocation): it
// claims batches of run id under the lease owner run-<id>/<worker>, one
// loop moving Concurrency files at a time, until nothing is left to claim, the time
// budget of ctx is nearly spent or ctx ends, and reports what it did. It
// records nothing in sync_runs: the caller adds the report to the run.
func (j *Job) Work(ctx context.Context, id int64, worker string) (Report, error) {
	log := j.logger.With("run_id", id)
	return j.work(ctx, id, worker, 1, j.stopAt(ctx, j.clock.Now()), log, false)
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

// loop is one worker: Concurrency slots move the files the worker claimed,
// and the slot that finds none left claims the next batch, so no slot
// waits for the slowest file of a batch (a 100 MiB file among small ones)
// before the worker claims again. It ends when nothing is left to claim,
// the time budget is nearly spent or the context ends; the files claimed
// and not started are then released for the next worker. The leases of
// the files it holds are renewed every third of the lease meanwhile.
func (r *runState) loop(ctx context.Context) error {
	q := &claimQueue{r: r, held: map[int64]bool{}}
	stopRenew := r.renew(ctx, q)
	var wg sync.WaitGroup
	for range r.job.opt.Concurrency {
		wg.Go(func() {
			for {
				c, ok := q.next(ctx)
				if !ok {
					return
				}
				r.syncFileSafe(ctx, c.batch, c.f)
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
	r      *runState
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
	r := q.r
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		switch {
		case q.ended:
			return claimed{}, false
		case ctx.Err() != nil:
			q.end(ctx.Err())
			return claimed{}, false
		case r.timeUp():
			r.mu.Lock()
			r.rep.StoppedEarly = true
			r.mu.Unlock()
			q.end(nil)
			return claimed{}, false
		case len(q.queue) > 0:
			c := q.queue[0]
			q.queue = q.queue[1:]
			return c, true
		}
		files, err := r.claim(ctx)
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
		r.mu.Lock()
		r.rep.Batches++
		batch := r.rep.Batches
		r.mu.Unlock()
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
	if err := q.r.job.store.ReleaseSyncLeases(bctx, q.r.owner, ids); err != nil {
		// They come back when the lease expires.
		q.r.log.WarnContext(bctx, "release sync leases", "files", len(ids), "error", err.Error())
	}
}

// renew extends the leases of the files q holds every third of the lease
// until stop is called. A failed renewal is logged: the lease may then
// expire under a long copy, and the fenced flip keeps a second worker's
// copy from flipping twice.
func (r *runState) renew(ctx context.Context, q *claimQueue) (stop func()) {
	j := r.job
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(j.opt.Lease / 3)
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
				if err := j.store.RenewSyncLeases(ctx, r.owner, ids, j.opt.Lease); err != nil {
					r.log.WarnContext(ctx, "renew sync leases", "error", err.Error())
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}
