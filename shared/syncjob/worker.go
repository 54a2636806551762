package syncjob

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
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
