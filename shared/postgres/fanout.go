package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// liveFanout is the condition on sync_runs of a fan-out run whose workers
// may still be going: running, with a ticket not done, opened within the
// last 23 hours (a run whose tickets all ended in the dead-letter queue is
// closed as interrupted by the next night's dispatcher).
const liveFanout = `status = 'running' AND fanout AND started_at > now() - interval '23 hours'
	AND EXISTS (SELECT 1 FROM sync_tickets t WHERE t.run_id = sync_runs.id AND t.done_at IS NULL)`

// FanoutRun is a fan-out run as the dispatcher opened it.
type FanoutRun struct {
	ID        int64
	StartedAt time.Time
	Pending   int      // files in the hot tier when it opened
	Tickets   []string // tickets opened, one per worker invocation to start
}

// OpenFanoutRun opens a fan-out run of the sync job in one transaction with
// no network I/O: it refuses (ErrSyncRunning) while an exclusive run holds
// the sync lock or a fan-out run is live, closes runs that died running as
// failed, counts the pending files and opens min(workers, pending/batch
// rounded up) tickets, at least one (the first also removes leftover hot
// copies, and a run with nothing to do closes when it is done).
func (db *DB) OpenFanoutRun(ctx context.Context, trigger string, workers, batch int) (FanoutRun, error) {
	var run FanoutRun
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var got, live bool
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, syncLockKey).Scan(&got); err != nil {
			return fmt.Errorf("sync lock: %w", err)
		}
		if !got {
			return ErrSyncRunning
		}
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sync_runs WHERE `+liveFanout+`)`).Scan(&live); err != nil {
			return fmt.Errorf("look for a live fan-out run: %w", err)
		}
		if live {
			return ErrSyncRunning
		}
		if err := closeInterrupted(ctx, tx); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM files WHERE storage_location = 'minio' AND deleted_at IS NULL`).Scan(&run.Pending); err != nil {
			return fmt.Errorf("count pending files: %w", err)
		}
		if err := tx.QueryRow(ctx, `INSERT INTO sync_runs (trigger, fanout) VALUES ($1, true) RETURNING id, started_at`,
			trigger).Scan(&run.ID, &run.StartedAt); err != nil {
			return fmt.Errorf("record sync run start: %w", err)
		}
		n := max(1, min(workers, (run.Pending+batch-1)/max(batch, 1)))
		for i := range n {
			run.Tickets = append(run.Tickets, fmt.Sprintf("t%d", i+1))
		}
		if _, err := tx.Exec(ctx, `INSERT INTO sync_tickets (run_id, ticket) SELECT $1, unnest($2::text[])`,
			run.ID, run.Tickets); err != nil {
			return fmt.Errorf("open sync tickets: %w", err)
		}
		return nil
	})
	if err != nil {
		return FanoutRun{}, err
	}
	return run, nil
}

// StartTicket marks ticket of run runID started and reports whether it is
// to be worked: false when it is done already (a message delivered twice,
// or again after its worker recorded it) or the run is closed. A ticket
// whose row does not exist (a successor sent before its row committed
// cannot happen: FinishTicket commits it first) is opened.
func (db *DB) StartTicket(ctx context.Context, runID int64, ticket string) (bool, error) {
	var ok bool
	err := db.Pool.QueryRow(ctx, `INSERT INTO sync_tickets (run_id, ticket, started_at)
		SELECT $1, $2, now() WHERE EXISTS (SELECT 1 FROM sync_runs WHERE id = $1 AND status = 'running')
		ON CONFLICT (run_id, ticket) DO UPDATE SET started_at = now() WHERE sync_tickets.done_at IS NULL
		RETURNING true`, runID, ticket).Scan(&ok)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("start sync ticket %d/%s: %w", runID, ticket, err)
	}
	return true, nil
}

// UnsentSuccessor returns the successor ticket of ticket (next) if it was
// opened but never started: its worker recorded it and then failed to send
// it, so a redelivery of ticket sends it again. Empty when there is none.
func (db *DB) UnsentSuccessor(ctx context.Context, runID int64, next string) (bool, error) {
	var open bool
	if err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sync_tickets t JOIN sync_runs r ON r.id = t.run_id
		WHERE t.run_id = $1 AND t.ticket = $2 AND t.started_at IS NULL AND t.done_at IS NULL AND r.status = 'running')`,
		runID, next).Scan(&open); err != nil {
		return false, fmt.Errorf("look up sync ticket %d/%s: %w", runID, next, err)
	}
	return open, nil
}

// FinishTicket records ticket of run runID done with what its worker did
// (r), opening its successor next first when not empty (the worker then
// sends it), in one transaction with no network I/O. The run's row is
// locked first, so of two tickets finishing at once the second sees the
// first done: when no ticket of the run is left open, this call closes the
// run (closeRun) and returns it; else it returns nil.
func (db *DB) FinishTicket(ctx context.Context, runID int64, ticket string, r WorkReport, next string) (*SyncRun, error) {
	var closed *SyncRun
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if err := addWork(ctx, tx, runID, r); err != nil {
			return fmt.Errorf("record sync ticket %d/%s: %w", runID, ticket, err)
		}
		if next != "" {
			if _, err := tx.Exec(ctx, `INSERT INTO sync_tickets (run_id, ticket) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
				runID, next); err != nil {
				return fmt.Errorf("open sync ticket %d/%s: %w", runID, next, err)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE sync_tickets SET done_at = now() WHERE run_id = $1 AND ticket = $2 AND done_at IS NULL`,
			runID, ticket); err != nil {
			return fmt.Errorf("close sync ticket %d/%s: %w", runID, ticket, err)
		}
		var err error
		closed, err = closeIfDone(ctx, tx, runID)
		return err
	})
	return closed, err
}

// AbandonTickets closes tickets of run runID that were opened but could not
// be sent, noting why; the run closes when no ticket is left open.
func (db *DB) AbandonTickets(ctx context.Context, runID int64, tickets []string, why string) (*SyncRun, error) {
	var closed *SyncRun
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE sync_runs SET error_summary = left(concat_ws('; ', error_summary, $2::text), 4000)
			WHERE id = $1`, runID, truncate(why, 1000)); err != nil {
			return fmt.Errorf("abandon sync tickets of run %d: %w", runID, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE sync_tickets SET done_at = now() WHERE run_id = $1 AND ticket = ANY($2) AND done_at IS NULL`,
			runID, tickets); err != nil {
			return fmt.Errorf("abandon sync tickets of run %d: %w", runID, err)
		}
		var err error
		closed, err = closeIfDone(ctx, tx, runID)
		return err
	})
	return closed, err
}

// closeIfDone closes run runID (row locked by the caller's transaction)
// when none of its tickets is open, and returns it; nil when a ticket is
// open or the run was closed already.
func closeIfDone(ctx context.Context, tx pgx.Tx, runID int64) (*SyncRun, error) {
	var open bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sync_tickets WHERE run_id = $1 AND done_at IS NULL)`,
		runID).Scan(&open); err != nil {
		return nil, fmt.Errorf("look for open sync tickets of run %d: %w", runID, err)
	}
	if open {
		return nil, nil
	}
	return closeRun(ctx, tx, runID, false)
}
