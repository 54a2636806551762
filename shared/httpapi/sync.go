package httpapi

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/auth"
	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
	"github.com/hybrid-storage/hybrid-storage/shared/syncjob"
)

// syncRunner is what the trigger endpoint needs of the sync job.
type syncRunner interface {
	RunExclusive(ctx context.Context, trigger string) (syncjob.Report, error)
}

// syncStatusStore is what the status endpoint needs of the database.
type syncStatusStore interface {
	LastSyncRunForUser(ctx context.Context, userID int64) (*postgres.UserSyncRun, error)
	PendingForUser(ctx context.Context, userID int64) (int, error)
}

// syncRunBudget bounds an HTTP-triggered run without a deadline of its own
// (the local server); on Lambda the function's deadline applies.
const syncRunBudget = 15 * time.Minute

var (
	errSyncDisabled = core.Errorf(core.CodeNotFound, "the sync trigger is disabled (SYNC_TRIGGER_TOKEN is not set)")
	errNotOperator  = core.Errorf(core.CodeUnauthorized, "an operator token is required")
)

// syncRun runs the sync job now, for an operator holding SYNC_TRIGGER_TOKEN
// (never a user's token), and answers the run's report. A run already going
// anywhere answers 409 SYNC_RUNNING.
func (a *API) syncRun(w http.ResponseWriter, r *http.Request) {
	want := a.Config.SyncTriggerToken
	if want == "" || a.Sync == nil {
		a.writeError(w, r, errSyncDisabled)
		return
	}
	got := auth.BearerToken(r)
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		a.writeError(w, r, errNotOperator)
		return
	}
	// The run outlives a client that hangs up; it is bounded by the
	// request's own deadline (Lambda) or syncRunBudget.
	ctx := context.WithoutCancel(r.Context())
	if dl, ok := r.Context().Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl)
		defer cancel()
	} else {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, syncRunBudget)
		defer cancel()
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{}) // a run may take minutes; unsupported on Lambda
	rep, err := a.Sync.RunExclusive(ctx, "api")
	if err != nil && rep.RunID == 0 {
		a.writeError(w, r, err)
		return
	}
	if err != nil {
		a.Logger.ErrorContext(ctx, "sync run failed", "run_id", rep.RunID, "err", err.Error())
	}
	writeJSON(w, http.StatusOK, rep)
}

type lastRunJSON struct {
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	Status     string     `json:"status"`
	Synced     int        `json:"synced"`
	Failed     int        `json:"failed"`
}

// syncStatus answers the last run (its times and status, and how many of
// the caller's own files it synced and failed) and how many of the
// caller's files still wait in the hot tier.
func (a *API) syncStatus(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	uid, ok := auth.UserID(ctx)
	if !ok || a.SyncStatus == nil {
		a.writeError(w, r, errors.New("sync status: no user in context or no sync status store"))
		return
	}
	run, err := a.SyncStatus.LastSyncRunForUser(ctx, uid)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	pending, err := a.SyncStatus.PendingForUser(ctx, uid)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var last *lastRunJSON
	if run != nil {
		last = &lastRunJSON{StartedAt: run.StartedAt.UTC(), Status: run.Status, Synced: run.Synced, Failed: run.Failed}
		if run.FinishedAt != nil {
			t := run.FinishedAt.UTC()
			last.FinishedAt = &t
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"last_run": last, "pending": pending})
}
