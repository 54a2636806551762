package lambdafn

import (
	"context"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/app"
	"github.com/hybrid-storage/hybrid-storage/shared/emf"
	"github.com/hybrid-storage/hybrid-storage/shared/maintenance"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
	"github.com/hybrid-storage/hybrid-storage/shared/syncjob"
)

// backlog is what the run's metrics read of the database after it closed.
type backlog interface {
	Pending(ctx context.Context) (postgres.PendingStats, error)
}

// RunMetrics returns what a sync function calls when it closes a run: the
// run's figures and the backlog it left, as CloudWatch metrics (embedded
// metric format, one line on w, the function's log). The CDK app and SAM
// alarm on some of them (shared/hosted.MetricAlarms, docs/operations.md).
func RunMetrics(w io.Writer, db backlog, logger *slog.Logger, now func() time.Time) func(context.Context, postgres.SyncRun) {
	return func(ctx context.Context, run postgres.SyncRun) {
		failed := 0.0
		if run.Status == syncjob.StatusFailed {
			failed = 1
		}
		dur := 0.0
		if run.FinishedAt != nil {
			dur = run.FinishedAt.Sub(run.StartedAt).Seconds()
		}
		ms := []emf.Metric{
			{Name: emf.SyncRunsClosed, Unit: "Count", Value: 1},
			{Name: emf.SyncRunFailed, Unit: "Count", Value: failed},
			{Name: "SyncFilesSynced", Unit: "Count", Value: float64(run.Synced)},
			{Name: "SyncFilesFailed", Unit: "Count", Value: float64(run.Failed)},
			{Name: "SyncBytes", Unit: "Bytes", Value: float64(run.Bytes)},
			{Name: "SyncDurationSeconds", Unit: "Seconds", Value: dur},
		}
		p, err := db.Pending(ctx)
		if err != nil {
			logger.WarnContext(ctx, "sync metrics: backlog unavailable", "run_id", run.ID, "err", err.Error())
		} else {
			lag := 0.0
			if p.Oldest != nil {
				lag = max(0, now().Sub(*p.Oldest).Seconds())
			}
			ms = append(ms,
				emf.Metric{Name: "SyncPendingFiles", Unit: "Count", Value: float64(p.Files)},
				emf.Metric{Name: "SyncPendingBytes", Unit: "Bytes", Value: float64(p.Bytes)},
				emf.Metric{Name: emf.SyncLagSeconds, Unit: "Seconds", Value: lag})
		}
		if err := emf.Write(w, now(), ms...); err != nil {
			logger.WarnContext(ctx, "sync metrics: write", "run_id", run.ID, "err", err.Error())
		}
	}
}

// withRunMetrics has a's sync job emit each closed run's metrics on stdout.
func withRunMetrics(a *app.App) *app.App {
	a.Sync.OnRunClosed(RunMetrics(os.Stdout, a.DB, a.Logger, time.Now))
	return a
}

// MaintenanceMetrics returns what a function that runs the maintenance
// (sync-dispatch, the scheduled sync) calls with each run's report: one
// line in the embedded metric format on w with OrphanObjects (what the
// orphan sweep found in both tiers: should be 0), UsageDriftUsers (users
// whose usage counters the check repaired: should be 0) and
// MaintenanceTasksFailed (tasks that failed; the next run retries them).
func MaintenanceMetrics(w io.Writer, logger *slog.Logger, now func() time.Time) func(context.Context, maintenance.Report) {
	return func(ctx context.Context, rep maintenance.Report) {
		failed := 0
		for _, r := range rep.Results {
			if r.Error != "" {
				failed++
			}
		}
		orphans := rep.Done(maintenance.TaskOrphansHot) + rep.Done(maintenance.TaskOrphansCold)
		if err := emf.Write(w, now(),
			emf.Metric{Name: emf.OrphanObjects, Unit: "Count", Value: float64(orphans)},
			emf.Metric{Name: emf.UsageDriftUsers, Unit: "Count", Value: float64(rep.Done(maintenance.TaskUsage))},
			emf.Metric{Name: emf.MaintenanceTasksFailed, Unit: "Count", Value: float64(failed)},
		); err != nil {
			logger.WarnContext(ctx, "maintenance metrics: write", "err", err.Error())
		}
	}
}

// withMaintenanceMetrics has a's maintenance runs emit their metrics on
// stdout.
func withMaintenanceMetrics(a *app.App) *app.App {
	a.Maintenance.OnRun = MaintenanceMetrics(os.Stdout, a.Logger, time.Now)
	return a
}
