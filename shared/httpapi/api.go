// Package httpapi is the HTTP API of the file store: one handler per
// endpoint, the route table (routes.go), the JSON error format and the
// middleware every route runs behind. The local server mounts every route;
// each Lambda function mounts one.
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
	UsersDeleting(ctx context.Context, afterID int64, limit int) ([]int64, error)
	UploadsOfUser(ctx context.Context, userID int64) ([]string, error)
	DeleteUser(ctx context.Context, id int64) error
}

// fileStore is what the file endpoints need of the database.
type fileStore interface {
	CreateFile(ctx context.Context, f *core.File) error
	FileForUser(ctx context.Context, userID, id int64) (core.File, error)
	ListFiles(ctx context.Context, userID int64, p postgres.ListParams) ([]core.File, string, error)
	DeleteFile(ctx context.Context, userID, id int64, removeObjects func(core.File) error) (core.File, error)

	// The trash (trash.go, purge.go).
	TrashFile(ctx context.Context, userID, id int64, retention time.Duration) (core.File, error)
	RestoreFile(ctx context.Context, userID, id int64) (core.File, error)
	ListTrash(ctx context.Context, userID int64, limit int, cursor string) ([]core.File, string, error)
	BeginPurge(ctx context.Context, userID, id int64) (core.File, error)
	BeginPurgeTrash(ctx context.Context, userID int64) (int, error)
	BeginPurgeAll(ctx context.Context, userID int64) (int, error)
	BeginPurgeExpired(ctx context.Context, afterID int64, limit int) ([]core.File, error)
	PurgingFiles(ctx context.Context, userID, afterID int64, limit int) ([]core.File, error)
	DeletePurged(ctx context.Context, id int64) error
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
	Sync       syncRunner // the sync job, for POST /api/sync/run
	SyncStatus syncStatusStore
	Limits     rateCounter   // the auth rate limits' counters
	Uploads    uploadStore   // presigned multipart upload sessions
	Quotas     quotaStore    // storage quotas and usage (quota.go)
	Shares     shareStore    // share links (shares.go)
	HotParts   multipartTier // the hot tier's multipart calls
	Auth       *auth.Auth
	Config     config.Config
	Logger     *slog.Logger
	Metrics    Observer // nil: nothing is counted (the local server's /metrics sets it)
}

// Observer records what the API serves (shared/metrics.Metrics).
type Observer interface {
	ObserveRequest(route, method string, status int, d time.Duration)
	AddUploaded(path string, n int64)
	AddDownloaded(n int64)
}

// API serves the endpoints of the route table.
type API struct {
	Deps
	tiers     map[core.Tier]tier
	handlers  map[string]http.HandlerFunc
	authLimit func(http.Handler) http.Handler
	now       func() time.Time
	timeouts  timeouts
	// finishHook, when set (tests), is called with the request's context
	// as a completion starts to read the assembled object.
	finishHook func(ctx context.Context)
}

// New returns the API over deps.
func New(d Deps) *API {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	a := &API{
		Deps:     d,
		tiers:    map[core.Tier]tier{core.TierHot: d.Hot, core.TierCold: d.Cold},
		now:      time.Now,
		timeouts: defaultTimeouts,
	}
	a.authLimit = a.newAuthLimiter()
	a.handlers = map[string]http.HandlerFunc{
		"healthz":     a.healthz,
		"readyz":      a.readyz,
		"config":      a.publicConfig,
		"openapi":     a.openAPI,
		"signup":      a.signup,
		"login":       a.login,
		"me":          a.me,
		"upload":      a.upload,
		"list-files":  a.listFiles,
		"get-file":    a.getFile,
		"download":    a.download,
		"delete-file": a.deleteFile,
		"sync":        a.syncRun,
		"sync-status": a.syncStatus,

		"create-upload":   a.createUpload,
		"complete-upload": a.completeUpload,
		"abort-upload":    a.abortUpload,
		"get-upload":      a.getUpload,

		"list-trash":     a.listTrash,
		"restore-file":   a.restoreFile,
		"purge-file":     a.purgeFile,
		"empty-trash":    a.emptyTrash,
		"delete-account": a.deleteAccount,
		"usage":          a.usage,

		"create-share":   a.createShare,
		"list-shares":    a.listShares,
		"revoke-share":   a.revokeShare,
		"public-share":   a.publicShare,
		"download-share": a.downloadShare,
	}
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
	for _, rt := range Routes {
		if len(want) > 0 && !want[rt.Function] {
			continue
		}
		h, ok := a.handlers[rt.Function]
		if !ok {
			panic(fmt.Sprintf("httpapi: no handler for route %s (%s)", rt.Pattern(), rt.Function))
		}
		if _, ok := overlapping[rt.Function]; ok {
			overlapping[rt.Function] = a.route(rt, h)
		} else {
			mux.Handle(rt.Pattern(), a.route(rt, h))
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
func (a *API) route(rt Route, h http.HandlerFunc) http.Handler {
	var next http.Handler = h
	if rt.Auth {
		next = a.Auth.Require(withUserLogged(next), a.liveUser, a.writeError)
	}
	if rt.Function == "signup" || rt.Function == "login" || rt.Function == "delete-account" {
		next = a.authLimit(next)
	}
	return next
}
