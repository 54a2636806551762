// Package maintenance is the product's work that no single request does:
// ending expired upload sessions, purging expired trash and finishing
// interrupted purges, dropping stale quota reservations, finishing
// account deletions, sweeping each tier for objects nothing names and
// checking the usage counters against the rows. Run is its one entry point: the local server's
// scheduler calls it every Interval, and on AWS the nightly dispatcher
// (functions/sync-dispatch) and the inline sync (functions/sync) call it.
// The domain operations the API starts and this package finishes (a
// purge, an account deletion, the end of an upload) live here too, so a
// request and the sweep run the same code.
package maintenance

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/storage"
)

// Interval is how often the local server runs Run.
const Interval = 5 * time.Minute

// batch is how many rows one query of a task takes at a time.
const batch = 100

// FileStore is what the purges need of the database.
type FileStore interface {
	BeginPurgeAll(ctx context.Context, userID int64) (int, error)
	BeginPurgeExpired(ctx context.Context, afterID int64, limit int) ([]core.File, error)
	PurgingFiles(ctx context.Context, userID, afterID int64, limit int) ([]core.File, error)
	DeletePurged(ctx context.Context, id int64) error
	DeletePurgedFolders(ctx context.Context, userID int64) (int, error)
}

// UserStore is what account deletions need of the database.
type UserStore interface {
	UsersDeleting(ctx context.Context, afterID int64, limit int) ([]int64, error)
	UploadsOfUser(ctx context.Context, userID int64) ([]string, error)
	DeleteUser(ctx context.Context, id int64) error
}

// UploadStore is what ending upload sessions needs of the database.
type UploadStore interface {
	EndUpload(ctx context.Context, userID int64, id string, discard func(core.UploadSession) error) error
	EndHeldUpload(ctx context.Context, userID int64, id string, discard func(core.UploadSession) error) error
	EndExpiredUploads(ctx context.Context, now time.Time, limit int, discard func(core.UploadSession) error) (int, error)
}

// QuotaStore is what the reservation sweep needs of the database.
type QuotaStore interface {
	DeleteExpiredReservations(ctx context.Context) (int, error)
}

// Tier is what the purges and the orphan sweep need of an object tier.
type Tier interface {
	Delete(ctx context.Context, key string) error
	List(ctx context.Context, prefix, after string, max int) ([]storage.ObjectInfo, error)
}

// HotTier is what ending an upload session needs of the hot tier.
type HotTier interface {
	Tier
	AbortMultipartUpload(ctx context.Context, key, uploadID string) error
}

// Deps are the service's dependencies, built once per process.
type Deps struct {
	Files   FileStore
	Users   UserStore
	Uploads UploadStore
	Quotas  QuotaStore
	Objects ObjectStore
	Hot     HotTier
	Cold    Tier
	Logger  *slog.Logger
	Now     func() time.Time // nil: time.Now
}

// Service runs the maintenance tasks and the operations they finish.
type Service struct {
	Deps
	// OnRun, when set before the first Run, is called with each Run's
	// report: the local server's Prometheus metrics, or a line of
	// CloudWatch metrics on AWS.
	OnRun func(ctx context.Context, rep Report)

	orphanPage, orphanPages int // 0: orphanPage, orphanPages (tests set them)
}

// New returns the service over d.
func New(d Deps) *Service {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{Deps: d}
}

// Result is what one task of a Run did.
type Result struct {
	Task  string `json:"task"`
	Done  int    `json:"done"`            // sessions ended, files purged, rows dropped, accounts deleted, orphans found
	Error string `json:"error,omitempty"` // the first error; the task is retried on the next run
}

// Report is what one Run did, task by task, in the order they ran.
type Report struct {
	Results []Result `json:"results"`
}

// Failed reports whether any task failed.
func (r Report) Failed() bool {
	for _, t := range r.Results {
		if t.Error != "" {
			return true
		}
	}
	return false
}

// task is one unit of Run.
type task struct {
	name string
	run  func(context.Context) (int, error)
}

// tasks are Run's tasks, in order: expired uploads first (their
// reservations and sessions count against quotas), then the trash, then
// reservations, then account deletions (which purge and end what is left
// of an account), then the orphan sweep of each tier (what all of these
// should have left nothing of), old sessions, and last the check of the
// usage counters against the rows all of these changed.
func (s *Service) tasks() []task {
	return []task{
		{"expired_uploads", s.EndExpiredUploads},
		{"expired_trash", s.PurgeExpiredTrash},
		{"quota_reservations", s.Quotas.DeleteExpiredReservations},
		{"account_deletions", s.FinishAccountDeletions},
		{TaskOrphansHot, s.SweepHotOrphans},
		{TaskOrphansCold, s.SweepColdOrphans},
		{"old_sessions", s.DeleteOldSessions},
		{TaskUsage, s.ReconcileUsage},
	}
}

// Run runs every task once and logs what each did. A failing or panicking
// task does not stop the others; each is idempotent and is retried by the
// next Run.
func (s *Service) Run(ctx context.Context) Report {
	var rep Report
	for _, t := range s.tasks() {
		n, err := safe(ctx, t.run)
		r := Result{Task: t.name, Done: n}
		switch {
		case err != nil && ctx.Err() == nil:
			r.Error = err.Error()
			s.Logger.ErrorContext(ctx, "maintenance", "task", t.name, "done", n, "error", r.Error)
		case err != nil:
			r.Error = err.Error()
		case n > 0:
			s.Logger.InfoContext(ctx, "maintenance", "task", t.name, "done", n)
		}
		rep.Results = append(rep.Results, r)
	}
	if s.OnRun != nil {
		s.OnRun(ctx, rep)
	}
	return rep
}

// Done is what task did in the run (0 when it did not run).
func (r Report) Done(task string) int {
	for _, t := range r.Results {
		if t.Task == task {
			return t.Done
		}
	}
	return 0
}

// Loop calls Run at once and then every interval until ctx ends (the
// local server).
func (s *Service) Loop(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.Run(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// safe runs f with a panic recovered as an error.
func safe(ctx context.Context, f func(context.Context) (int, error)) (n int, err error) {
	defer func() {
		if p := recover(); p != nil {
			n, err = 0, fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return f(ctx)
}
