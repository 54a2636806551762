// Package httpapi is the HTTP API of the file store: one handler per
// endpoint, the function table (functions.go: every function, HTTP or not,
// with its trigger, handler, auth, grants and settings), the JSON error
// format and the middleware every route runs behind. The local server
// mounts every route; each Lambda function mounts one.
package httpapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/auth"
	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
	"github.com/hybrid-storage/hybrid-storage/shared/storage"
)

// userStore is what the auth endpoints need of the database.
type userStore interface {
	CreateUser(ctx context.Context, email, passwordHash string) (core.User, error)
	UserByEmail(ctx context.Context, email string) (core.User, error)
	UserByID(ctx context.Context, id int64) (core.User, error)
	MarkUserDeleting(ctx context.Context, id int64) error
}

// fileStore is what the file endpoints need of the database.
type fileStore interface {
	RecordUpload(ctx context.Context, f *core.File, reservation string) error
	FileForUser(ctx context.Context, userID, id int64) (core.File, error)
	ListFiles(ctx context.Context, userID int64, p postgres.ListParams) ([]core.File, string, error)
	DeleteFile(ctx context.Context, userID, id int64, removeObjects func(core.File) error) (core.File, error)
	UpdateFile(ctx context.Context, userID, id int64, c postgres.FileChange) (core.File, error)

	// The trash (trash.go, purge.go).
	TrashFile(ctx context.Context, userID, id int64, retention time.Duration) (core.File, error)
	RestoreFile(ctx context.Context, userID, id int64) (core.File, error)
	ListTrash(ctx context.Context, userID int64, limit int, cursor string) ([]postgres.TrashEntry, string, error)
	BeginPurge(ctx context.Context, userID, id int64) (core.File, error)
	BeginPurgeTrash(ctx context.Context, userID int64) (int, error)

	// Bulk actions (bulk.go).
	TrashFiles(ctx context.Context, userID int64, ids []int64, retention time.Duration) ([]int64, error)
	RestoreFiles(ctx context.Context, userID int64, ids []int64) ([]int64, error)
	MoveFiles(ctx context.Context, userID int64, ids []int64, folder *int64) ([]int64, error)

	folderStore
}

// folderStore is what the folder endpoints need of the database
// (folders.go).
type folderStore interface {
	FolderForUser(ctx context.Context, userID, id int64) (core.Folder, error)
	CreateFolder(ctx context.Context, userID int64, parentID *int64, name string) (core.Folder, error)
	ListFolders(ctx context.Context, userID int64, parentID *int64) ([]core.Folder, error)
	FolderPath(ctx context.Context, userID, id int64) (core.Folder, []core.PathItem, error)
	UpdateFolder(ctx context.Context, userID, id int64, c postgres.FolderChange) (core.Folder, error)
	TrashFolder(ctx context.Context, userID, id int64, retention time.Duration, purge bool) error
	RestoreFolder(ctx context.Context, userID, id int64) (core.Folder, error)
	BeginPurgeFolder(ctx context.Context, userID, id int64) error
}

// maintainer finishes what a request starts: purges, account deletions and
// the end of upload sessions (shared/maintenance, which also finishes
// whatever a request left undone).
type maintainer interface {
	Purge(ctx context.Context, f core.File) error
	PurgeAllPurging(ctx context.Context, userID int64) error
	FinishAccountDeletion(ctx context.Context, uid int64) error
	EndUpload(ctx context.Context, userID int64, id string) error
	EndHeldUpload(ctx context.Context, userID int64, id string) error
	Discard(ctx context.Context, u core.UploadSession) error
}

// tier is what the file endpoints need of an object tier.
type tier interface {
	Put(ctx context.Context, key string, r io.Reader, size int64, o storage.PutOptions) (storage.ObjectInfo, error)
	Open(ctx context.Context, key string, offset int64) (io.ReadCloser, error)
	OpenRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)
	Stat(ctx context.Context, key string) (storage.ObjectInfo, error)
	PresignGet(ctx context.Context, key, filename string, ttl time.Duration) (string, error)
	Delete(ctx context.Context, key string) error
	URL(key string) string
}

// pinger is a dependency readyz checks.
type pinger interface {
	Ping(ctx context.Context) error
}

// Deps are the API's dependencies, built once per process.
type Deps struct {
	Users userStore
	Files fileStore
	DB    pinger
	Hot   interface {
		tier
		pinger
		OpenMatch(ctx context.Context, key, etag string, offset, length int64) (io.ReadCloser, error)
	}
	Cold interface {
		tier
		pinger
	}
	Sync        syncRunner // the sync job, for POST /api/sync/run
	SyncStatus  syncStatusStore
	Limits      rateCounter   // the auth rate limits' counters
	Uploads     uploadStore   // presigned multipart upload sessions
	Quotas      quotaStore    // storage quotas and usage (quota.go)
	Shares      shareStore    // share links (shares.go)
	Sessions    sessionStore  // sessions and their refresh tokens (sessions.go)
	Passwords   passwordStore // password changes and reset tokens (password.go)
	TOTP        totpStore     // two-factor login (totp.go)
	Mail        Mailer        // nil: no SMTP_URL (password reset links are logged in dev mode, else 503)
	HotParts    multipartTier // the hot tier's multipart calls
	Maintenance maintainer    // purges, account deletions, ended uploads
	Auth        *auth.Auth
	Config      config.Config
	Logger      *slog.Logger
	Metrics     Observer // nil: nothing is counted (the local server's /metrics sets it)
}

// Observer records what the API serves (shared/metrics.Metrics).
type Observer interface {
	ObserveRequest(route, method string, status int, d time.Duration)
	AddUploaded(path string, n int64)
	AddDownloaded(n int64)
}

// API serves the endpoints of the function table.
type API struct {
	Deps
	tiers     map[core.Tier]tier
	authLimit func(http.Handler) http.Handler
	now       func() time.Time
	// bulkBudget is how long a bulk delete without a trash starts purges
	// (bulk.go); tests shorten it.
	bulkBudget time.Duration
	timeouts   timeouts
	streams    *streamSlots // streamed uploads under way (streams.go)
	// finishHook, when set (tests), is called with the request's context
	// as a completion starts to read the assembled object.
	finishHook func(ctx context.Context)
	// completeHook, when set (tests), is called at each step of a
	// completion (stepAssembling...), so that a test can run an abort or
	// an account deletion between two steps.
	completeHook func(ctx context.Context, step string)
}

// New returns the API over deps.
func New(d Deps) *API {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	a := &API{
		Deps:       d,
		tiers:      map[core.Tier]tier{core.TierHot: d.Hot, core.TierCold: d.Cold},
		now:        time.Now,
		timeouts:   defaultTimeouts,
		bulkBudget: defaultBulkBudget,
		streams:    newStreamSlots(d.Config.MaxStreamedUploads, d.Config.MaxStreamedUploadsPerUser),
	}
	a.authLimit = a.newAuthLimiter()
	return a
}

// Handler returns the endpoints of the named functions (every route when
// none is named) on one ServeMux, behind the common middleware. Unknown
// paths answer 404 and wrong methods 405, both in the JSON error format.
func (a *API) Handler(functions ...string) http.Handler {
	want := map[string]bool{}
	for _, f := range functions {
		want[f] = true
	}
	mux := http.NewServeMux()
	mounted := 0
	overlapping := map[string]http.Handler{"download": nil, "get-upload": nil}
	for _, f := range Functions {
		rt, ok := f.Route()
		if !ok || len(want) > 0 && !want[f.Name] {
			continue
		}
		h := a.route(f, func(w http.ResponseWriter, r *http.Request) { f.Handler(a, w, r) })
		if _, ok := overlapping[f.Name]; ok {
			overlapping[f.Name] = h
		} else {
			mux.Handle(rt.Pattern(), h)
		}
		mounted++
	}
	if mounted == 0 {
		panic(fmt.Sprintf("httpapi: no route for functions %v", functions))
	}
	a.mountOverlapping(mux, overlapping)
	return a.middleware(jsonNotFound(mux, a))
}

// mountOverlapping mounts GET /api/files/{id}/download and GET
// /api/files/uploads/{upload_id}. Both match /api/files/uploads/download and
// neither is more specific, which ServeMux refuses; when both are mounted
// they share GET /api/files/{id}/{sub} and the first segment decides (file
// ids are integers, never "uploads").
func (a *API) mountOverlapping(mux *http.ServeMux, h map[string]http.Handler) {
	if h["download"] == nil || h["get-upload"] == nil {
		for _, rt := range Routes {
			if hh := h[rt.Function]; hh != nil {
				mux.Handle(rt.Pattern(), hh)
			}
		}
		return
	}
	mux.HandleFunc("GET /api/files/{id}/{sub}", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.PathValue("id") == "uploads":
			r.SetPathValue("upload_id", r.PathValue("sub"))
			h["get-upload"].ServeHTTP(w, r)
		case r.PathValue("sub") == "download":
			h["download"].ServeHTTP(w, r)
		default:
			a.writeError(w, r, core.Errorf(core.CodeNotFound, "no such endpoint"))
		}
	})
}

// route wraps one endpoint with what its table entry asks for.
func (a *API) route(f Function, h http.HandlerFunc) http.Handler {
	var next http.Handler = h
	if f.Auth == User {
		next = a.Auth.Require(withUserLogged(next), a.liveSession, a.writeError)
	}
	if f.Limit == AuthLimit {
		next = a.authLimit(next)
	}
	return next
}
