package syncjob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
)

// The fan-out of the sync job on AWS: a dispatcher (the EventBridge
// schedule) opens a run and sends one ticket per worker to a queue; each
// ticket is one worker invocation (the queue's event source mapping runs at
// most SYNC_WORKERS at once), which claims leases until its time budget is
// nearly spent and then passes the rest on to a successor ticket. The last
// ticket to finish closes the run (postgres.FinishTicket).

// Ticket is the body of one queue message: one worker invocation's share
// of run RunID.
type Ticket struct {
	RunID  int64  `json:"run_id"`
	Ticket string `json:"ticket"`
}

// successor is the ticket that carries on the work of t: t1 → t1.2 → t1.3.
func (t Ticket) successor() Ticket {
	base, gen := t.Ticket, 1
	if i := strings.LastIndexByte(t.Ticket, '.'); i >= 0 {
		if n, err := strconv.Atoi(t.Ticket[i+1:]); err == nil {
			base, gen = t.Ticket[:i], n
		}
	}
	return Ticket{RunID: t.RunID, Ticket: fmt.Sprintf("%s.%d", base, gen+1)}
}

// ParseTicket reads a message body.
func ParseTicket(body string) (Ticket, error) {
	var t Ticket
	if err := json.Unmarshal([]byte(body), &t); err != nil {
		return Ticket{}, fmt.Errorf("sync ticket: %w", err)
	}
	if t.RunID <= 0 || t.Ticket == "" || strings.ContainsAny(t.Ticket, "/ ") || len(t.Ticket) > 64 {
		return Ticket{}, fmt.Errorf("sync ticket: %q is not a ticket", body)
	}
	return t, nil
}

func (t Ticket) body() string {
	b, _ := json.Marshal(t)
	return string(b)
}

// Queue sends message bodies (SQS).
type Queue interface {
	Send(ctx context.Context, bodies []string) error
}

// FanoutStore is the database side of the fan-out (*postgres.DB).
type FanoutStore interface {
	OpenFanoutRun(ctx context.Context, trigger string, workers, batch int) (postgres.FanoutRun, error)
	StartTicket(ctx context.Context, runID int64, ticket string) (bool, error)
	UnsentSuccessor(ctx context.Context, runID int64, next string) (bool, error)
	FinishTicket(ctx context.Context, runID int64, ticket string, r postgres.WorkReport, next string) (*postgres.SyncRun, error)
	AbandonTickets(ctx context.Context, runID int64, tickets []string, why string) (*postgres.SyncRun, error)
	CountPending(ctx context.Context) (int, error)
}

// Fanout dispatches runs and works their tickets. Build it with NewFanout.
type Fanout struct {
	job     *Job
	store   FanoutStore
	queue   Queue
	workers int
}

// NewFanout returns the fan-out of job over store and queue, with at most
// workers tickets per run (SYNC_WORKERS).
func NewFanout(job *Job, store FanoutStore, queue Queue, workers int) *Fanout {
	return &Fanout{job: job, store: store, queue: queue, workers: max(workers, 1)}
}

// Dispatched is what the dispatcher did.
type Dispatched struct {
	Skipped bool     `json:"skipped"` // a run was going
	RunID   int64    `json:"run_id,omitempty"`
	Pending int      `json:"pending"`
	Tickets []string `json:"tickets,omitempty"`
}

// Dispatch opens a run and sends its tickets; ErrRunning is not an error
// here: the result says Skipped. Tickets that cannot be sent are
// abandoned (the run closes if none was sent) and the error returned.
func (f *Fanout) Dispatch(ctx context.Context, trigger string) (Dispatched, error) {
	log := f.job.logger
	run, err := f.store.OpenFanoutRun(ctx, trigger, f.workers, f.job.opt.BatchSize)
	if errors.Is(err, ErrRunning) {
		log.InfoContext(ctx, "sync dispatch skipped: a run is in progress")
		return Dispatched{Skipped: true}, nil
	}
	if err != nil {
		return Dispatched{}, fmt.Errorf("sync dispatch: %w", err)
	}
	bodies := make([]string, len(run.Tickets))
	for i, t := range run.Tickets {
		bodies[i] = Ticket{RunID: run.ID, Ticket: t}.body()
	}
	if err := f.queue.Send(ctx, bodies); err != nil {
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		closed, aerr := f.store.AbandonTickets(bctx, run.ID, run.Tickets, "dispatch: send tickets: "+err.Error())
		if aerr != nil {
			err = errors.Join(err, aerr)
		}
		if closed != nil {
			f.job.closed(bctx, *closed, err)
		}
		return Dispatched{RunID: run.ID}, fmt.Errorf("sync dispatch run %d: send tickets: %w", run.ID, err)
	}
	log.InfoContext(ctx, "sync run dispatched", "run_id", run.ID, "trigger", trigger, "pending", run.Pending,
		"tickets", len(run.Tickets), "batch_size", f.job.opt.BatchSize)
	return Dispatched{RunID: run.ID, Pending: run.Pending, Tickets: run.Tickets}, nil
}

// Worked is what one ticket's worker did.
type Worked struct {
	Ticket   Ticket            `json:"ticket"`
	Skipped  bool              `json:"skipped"` // done already (a second delivery) or its run is closed
	Report   Report            `json:"report"`
	Next     string            `json:"next,omitempty"` // the successor sent
	ClosedAs *postgres.SyncRun `json:"closed,omitempty"`
}

// Work works ticket t: it claims leases of t's run until nothing is left
// to claim or the budget of ctx is nearly spent (then a successor ticket is
// opened and sent), records what it did, and closes the run when it was
// the last ticket. The first ticket (t1) also removes the hot copies
// earlier runs left behind. An error means the message should come back
// (the queue's retry): what was moved stays moved, and the next delivery
// goes on from there.
func (f *Fanout) Work(ctx context.Context, t Ticket) (Worked, error) {
	out := Worked{Ticket: t}
	ok, err := f.store.StartTicket(ctx, t.RunID, t.Ticket)
	if err != nil {
		return out, err
	}
	next := t.successor()
	if !ok {
		// Done before: if its worker recorded a successor and failed to
		// send it, send it now.
		out.Skipped = true
		unsent, err := f.store.UnsentSuccessor(ctx, t.RunID, next.Ticket)
		if err != nil || !unsent {
			return out, err
		}
		if err := f.queue.Send(ctx, []string{next.body()}); err != nil {
			return out, fmt.Errorf("sync ticket %d/%s: send successor: %w", t.RunID, next.Ticket, err)
		}
		out.Next = next.Ticket
		return out, nil
	}
	j := f.job
	w := j.newWorker(t.RunID, t.Ticket+"-"+randomSuffix(), j.stopAt(ctx, j.clock.Now()),
		j.logger.With("run_id", t.RunID, "ticket", t.Ticket), newFlipper(j.store, j.concurrency, j.flipDelay))
	var werr error
	if t.Ticket == "t1" && j.opt.DeleteHot {
		werr = w.cleanup(ctx)
	}
	if werr == nil {
		werr = w.loop(ctx)
	}
	rep := w.rep
	rep.RunID, rep.Workers = t.RunID, 1
	out.Report = rep
	if werr != nil {
		return out, fmt.Errorf("sync ticket %d/%s: %w", t.RunID, t.Ticket, werr)
	}
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if rep.StoppedEarly {
		left, err := f.store.CountPending(bctx)
		if err != nil {
			return out, err
		}
		if left > 0 {
			out.Next = next.Ticket
		}
	}
	closed, err := f.store.FinishTicket(bctx, t.RunID, t.Ticket, workReport(rep, w.unrecorded), out.Next)
	if err != nil {
		return out, err
	}
	out.ClosedAs = closed
	if out.Next != "" {
		if err := f.queue.Send(bctx, []string{next.body()}); err != nil {
			return out, fmt.Errorf("sync ticket %d/%s: send successor: %w", t.RunID, next.Ticket, err)
		}
	}
	j.logger.InfoContext(ctx, "sync ticket done", "run_id", t.RunID, "ticket", t.Ticket, "synced", rep.Synced,
		"failed", rep.Failed, "bytes", rep.Bytes, "batches", rep.Batches, "stopped_early", rep.StoppedEarly, "next", out.Next)
	if closed != nil {
		j.closed(bctx, *closed, nil)
	}
	return out, nil
}

func randomSuffix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
