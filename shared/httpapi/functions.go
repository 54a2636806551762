package httpapi

import (
	"net/http"
	"strings"
	"time"
)

//go:generate go run ../../deploy/gen

// Functions is every function of the product, one entry per
// functions/<Name> (one Lambda on AWS). The local server's mux, each
// functions/<name>/main.go, the CDK app (infra/stacks), template.yaml and
// the README's route map are built from it: after editing it, run
// `go generate ./...` (deploy/gen writes the mains, template.yaml and the
// route map; a test fails while they are stale).
//
// Zero values are the HTTP defaults: 512 MB, 29 s (API Gateway waits 30 s),
// no reserved concurrency, no tier access, no rate limit.
var Functions = []Function{
	{Name: "healthz", Trigger: "GET /healthz", Handler: (*API).healthz},
	{Name: "readyz", Trigger: "GET /readyz", Handler: (*API).readyz, Hot: Read, Cold: Read}, // pings both tiers
	{Name: "config", Trigger: "GET /api/config", Handler: (*API).publicConfig},
	{Name: "openapi", Trigger: "GET /api/openapi.json", Handler: (*API).openAPI},
	{Name: "signup", Trigger: "POST /api/auth/signup", Handler: (*API).signup, Limit: AuthLimit, MemoryMB: bcryptMemory},
	{Name: "login", Trigger: "POST /api/auth/login", Handler: (*API).login, Limit: AuthLimit, MemoryMB: bcryptMemory},
	{Name: "me", Trigger: "GET /api/auth/me", Handler: (*API).me, Auth: User},
	// Sessions (sessions.go, password.go, totp.go): the refresh cookie is
	// the credential of refresh; a token of 256 bits needs no guess limit.
	{Name: "refresh", Trigger: "POST /api/auth/refresh", Handler: (*API).refresh},
	{Name: "logout", Trigger: "POST /api/auth/logout", Handler: (*API).logout, Auth: User}, // {scope}
	{Name: "list-sessions", Trigger: "GET /api/auth/sessions", Handler: (*API).listSessions, Auth: User},
	{Name: "end-session", Trigger: "DELETE /api/auth/sessions/{id}", Handler: (*API).endSession, Auth: User},
	{Name: "change-password", Trigger: "POST /api/auth/password", Handler: (*API).changePassword, Auth: User, Limit: AuthLimit, MemoryMB: bcryptMemory},
	{Name: "request-password-reset", Trigger: "POST /api/auth/password-reset", Handler: (*API).requestPasswordReset, Limit: AuthLimit}, // mails over SMTP_URL
	{Name: "confirm-password-reset", Trigger: "POST /api/auth/password-reset/confirm", Handler: (*API).confirmPasswordReset, Limit: AuthLimit, MemoryMB: bcryptMemory},
	{Name: "password-blocklist", Trigger: "GET /api/auth/password-blocklist", Handler: (*API).passwordBlocklist},
	{Name: "totp-setup", Trigger: "POST /api/auth/totp/setup", Handler: (*API).totpSetup, Auth: User},
	{Name: "totp-enable", Trigger: "POST /api/auth/totp/enable", Handler: (*API).totpEnable, Auth: User, Limit: AuthLimit},
	{Name: "totp-disable", Trigger: "POST /api/auth/totp/disable", Handler: (*API).totpDisable, Auth: User, Limit: AuthLimit, MemoryMB: bcryptMemory},
	{Name: "upload", Trigger: "POST /api/files/upload", Handler: (*API).upload, Auth: User, Hot: Write},
	{Name: "list-files", Trigger: "GET /api/files", Handler: (*API).listFiles, Auth: User, Cold: Read},
	{Name: "get-file", Trigger: "GET /api/files/{id}", Handler: (*API).getFile, Auth: User, Hot: Read, Cold: Read},
	{Name: "download", Trigger: "GET /api/files/{id}/download", Handler: (*API).download, Auth: User, Hot: Read, Cold: Read},
	{Name: "update-file", Trigger: "PATCH /api/files/{id}", Handler: (*API).updateFile, Auth: User},                                    // {filename?, folder_id?}: rename, move; metadata only
	{Name: "delete-file", Trigger: "DELETE /api/files/{id}", Handler: (*API).deleteFile, Auth: User, Hot: Delete, Cold: Read | Delete}, // purges at once without a trash
	{Name: "sync", Trigger: "POST /api/sync/run", Handler: (*API).syncRun, Lambda: LambdaSync, Auth: Operator, Hot: Read | Delete, Cold: Read | Write | Delete,
		MemoryMB: 1024, Timeout: 15 * time.Minute, Reserved: 3, // above 1: a manual run while one goes reaches the advisory lock and answers 409 SYNC_RUNNING, not a throttle
		Settings: syncSettings},
	{Name: "sync-status", Trigger: "GET /api/sync/status", Handler: (*API).syncStatus, Auth: User},
	{Name: "create-upload", Trigger: "POST /api/files/uploads", Handler: (*API).createUpload, Auth: User, Hot: Write},
	{Name: "complete-upload", Trigger: "POST /api/files/uploads/{upload_id}/complete", Handler: (*API).completeUpload, Auth: User, Hot: Read | Write | Delete},
	{Name: "abort-upload", Trigger: "DELETE /api/files/uploads/{upload_id}", Handler: (*API).abortUpload, Auth: User, Hot: Delete},
	{Name: "get-upload", Trigger: "GET /api/files/uploads/{upload_id}", Handler: (*API).getUpload, Auth: User, Hot: Read},
	{Name: "bulk-files", Trigger: "POST /api/files/bulk", Handler: (*API).bulk, Auth: User, Hot: Delete, Cold: Read | Delete},                // {action: delete|restore|move, file_ids, folder_ids, target_folder_id}; delete purges at once without a trash
	{Name: "create-folder", Trigger: "POST /api/folders", Handler: (*API).createFolder, Auth: User},                                          // {name, parent_id}
	{Name: "list-folders", Trigger: "GET /api/folders", Handler: (*API).listFolders, Auth: User},                                             // ?parent_id=<id|root>
	{Name: "get-folder", Trigger: "GET /api/folders/{id}", Handler: (*API).getFolder, Auth: User},                                            // with its path, for breadcrumbs
	{Name: "update-folder", Trigger: "PATCH /api/folders/{id}", Handler: (*API).updateFolder, Auth: User},                                    // {name?, parent_id?}: rename, move
	{Name: "delete-folder", Trigger: "DELETE /api/folders/{id}", Handler: (*API).deleteFolder, Auth: User, Hot: Delete, Cold: Read | Delete}, // to the trash as one entry; purges at once without a trash
	{Name: "restore-folder", Trigger: "POST /api/trash/folders/{id}/restore", Handler: (*API).restoreFolder, Auth: User},
	{Name: "purge-folder", Trigger: "DELETE /api/trash/folders/{id}", Handler: (*API).purgeFolder, Auth: User, Hot: Delete, Cold: Read | Delete},
	{Name: "list-trash", Trigger: "GET /api/trash", Handler: (*API).listTrash, Auth: User},
	{Name: "restore-file", Trigger: "POST /api/trash/{id}/restore", Handler: (*API).restoreFile, Auth: User},
	{Name: "purge-file", Trigger: "DELETE /api/trash/{id}", Handler: (*API).purgeFile, Auth: User, Hot: Delete, Cold: Read | Delete},
	{Name: "empty-trash", Trigger: "DELETE /api/trash", Handler: (*API).emptyTrash, Auth: User, Hot: Delete, Cold: Read | Delete},
	{Name: "delete-account", Trigger: "DELETE /api/auth/me", Handler: (*API).deleteAccount, Auth: User, Limit: AuthLimit, Hot: Delete, Cold: Read | Delete}, // {password}
	{Name: "usage", Trigger: "GET /api/usage", Handler: (*API).usage, Auth: User},
	{Name: "create-share", Trigger: "POST /api/files/{id}/shares", Handler: (*API).createShare, Auth: User, MemoryMB: bcryptMemory}, // hashes the share's password
	{Name: "list-shares", Trigger: "GET /api/files/{id}/shares", Handler: (*API).listShares, Auth: User},
	{Name: "revoke-share", Trigger: "DELETE /api/shares/{share_id}", Handler: (*API).revokeShare, Auth: User},
	{Name: "public-share", Trigger: "GET /api/public/shares/{token}", Handler: (*API).publicShare},                                                                                 // the token is the credential
	{Name: "download-share", Trigger: "POST /api/public/shares/{token}/download", Handler: (*API).downloadShare, Limit: ShareLimit, Hot: Read, Cold: Read, MemoryMB: bcryptMemory}, // {password?}

	// Not HTTP: lambdafn runs these on AWS; locally the scheduler, make sync and the migrations at start-up do their work.
	{Name: "sync-dispatch", Trigger: Nightly, Lambda: LambdaDispatch, Hot: Delete, Cold: Read | Delete, // the maintenance (shared/maintenance) purges
		Timeout: 5 * time.Minute, Settings: []string{"SYNC_QUEUE_URL", "SYNC_WORKERS", "TRASH_RETENTION_DAYS"}},
	{Name: "sync-worker", Trigger: Tickets, Lambda: LambdaWorker, Hot: Read | Delete, Cold: Read | Write | Delete,
		MemoryMB: 1024, Timeout: SyncWorkerTimeout, Settings: syncSettings}, // no reserved concurrency: the mapping's MaximumConcurrency (SYNC_WORKERS) caps it
	{Name: "migrate", Trigger: Deploy, Lambda: LambdaMigrate, Timeout: 5 * time.Minute, Settings: []string{"DATABASE_URL"}}, // the deploy waits as long
}

// syncSettings are the variables a sync run reads.
var syncSettings = []string{"SYNC_WORKERS", "SYNC_QUEUE_URL", "SYNC_BATCH_SIZE", "SYNC_MAX_RETRIES", "SYNC_VERIFY", "COLD_STORAGE_CLASS", "DELETE_FROM_MINIO_AFTER_SYNC"}

// bcryptMemory is the memory of functions that hash or compare a password
// on their common path: bcrypt cost 12 is CPU-bound, and Lambda's CPU grows
// with memory.
const bcryptMemory = 1024

// Function is one function: functions/<Name>/main.go, one Lambda on AWS.
type Function struct {
	Name    string  // functions/<Name>; the SAM resource is Camel(Name)+"Function", the CDK construct Camel(Name)
	Trigger Trigger // what invokes it
	// Handler serves the route of an HTTP trigger (Lambda is LambdaHTTP
	// or LambdaSync).
	Handler func(*API, http.ResponseWriter, *http.Request)
	Lambda  Lambda // the lambdafn entry point its main calls
	Auth    Auth
	Limit   Limit
	// What it may do to each tier. Cold access becomes the IAM grants of
	// the CDK app and template.yaml; the hot tier (an S3-compatible server
	// outside AWS) has one key for all, so Hot documents.
	Hot, Cold Access
	MemoryMB  int           // 0: DefaultMemoryMB
	Timeout   time.Duration // 0: DefaultTimeout
	Reserved  int           // reserved concurrency; 0: none (the account's pool)
	// Settings are the variables (config.Names) this function reads
	// beyond those every function reads (database, secrets, tiers).
	Settings []string
}

// Defaults of an HTTP function.
const (
	DefaultMemoryMB = 512
	DefaultTimeout  = 29 * time.Second // API Gateway's HTTP API waits 30 s at most
)

// SyncWorkerTimeout is the worker function's timeout, the Lambda maximum:
// a worker claims until a tenth of it (at most 2 minutes) is left, then
// hands over to a successor ticket.
const SyncWorkerTimeout = 15 * time.Minute

// Memory is the function's memory in MB.
func (f Function) Memory() int {
	if f.MemoryMB == 0 {
		return DefaultMemoryMB
	}
	return f.MemoryMB
}

// Deadline is the function's timeout.
func (f Function) Deadline() time.Duration {
	if f.Timeout == 0 {
		return DefaultTimeout
	}
	return f.Timeout
}

// Route is the function's HTTP route; ok is false for the other triggers.
func (f Function) Route() (r Route, ok bool) {
	method, path, ok := strings.Cut(string(f.Trigger), " ")
	if !ok || !strings.HasPrefix(path, "/") {
		return Route{}, false
	}
	return Route{Function: f.Name, Method: method, Path: path, Auth: f.Auth == User}, true
}

// Trigger is what invokes a function: an HTTP route "METHOD /path" (a Go
// 1.22 ServeMux pattern, wildcards as {name}), or one of the constants.
type Trigger string

// The triggers that are not HTTP routes.
const (
	Nightly Trigger = "nightly schedule"  // EventBridge at NightlyCron
	Tickets Trigger = "sync ticket queue" // SQS event source mapping: batch size 1, MaximumConcurrency SYNC_WORKERS
	Deploy  Trigger = "every deploy"      // a CDK Trigger; with SAM, `sam remote invoke` after each deploy
)

// NightlyCron is the nightly schedule: 00:00 UTC.
const NightlyCron = "cron(0 0 * * ? *)"

// Lambda is the lambdafn entry point a function's main calls.
type Lambda int

const (
	LambdaHTTP     Lambda = iota // lambdafn.Main: API Gateway events to Handler
	LambdaSync                   // lambdafn.SyncMain: POST /api/sync/run, and EventBridge's scheduled event (an inline run)
	LambdaDispatch               // lambdafn.DispatchMain: the maintenance, then the night's run and its tickets
	LambdaWorker                 // lambdafn.WorkerMain: one sync ticket per SQS message
	LambdaMigrate                // lambdafn.MigrateMain: the database migrations
)

// Auth is who may call a function's route.
type Auth int

const (
	None     Auth = iota // anyone (a share's token in the path is its own credential)
	User                 // a user's bearer token (auth.Require)
	Operator             // SYNC_TRIGGER_TOKEN, checked by the handler
)

// Limit is a function's rate-limit class.
type Limit int

const (
	NoLimit    Limit = iota
	AuthLimit        // the auth limiter: AUTH_RATE_LIMIT_PER_MINUTE per client address, counted in PostgreSQL; also an API Gateway route throttle when Auth is None
	ShareLimit       // a share's password: per share and client address, counted by the handler
)

// Access is what a function may do to a tier's objects.
type Access int

const (
	Read   Access = 1 << iota // get, stat, presign a GET
	Write                     // put, multipart
	Delete                    // delete
	// Restore (archived objects) comes with the archive tier.
)

// Has reports whether a includes every bit of b.
func (a Access) Has(b Access) bool { return a&b == b }

func (a Access) String() string {
	var s []string
	for _, x := range []struct {
		bit  Access
		name string
	}{{Read, "read"}, {Write, "write"}, {Delete, "delete"}} {
		if a.Has(x.bit) {
			s = append(s, x.name)
		}
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, "+")
}

func (a Auth) String() string { return [...]string{"none", "user", "operator"}[a] }

func (l Limit) String() string { return [...]string{"none", "auth", "share"}[l] }

// Route is one HTTP route of the table, as the gateway stand-in and the
// tests see it.
type Route struct {
	Function string // functions/<Function>/main.go serves this route on Lambda
	Method   string
	Path     string // Go 1.22 ServeMux path, wildcards as {name}
	Auth     bool   // true when a user's bearer token is required
}

// Pattern is the ServeMux pattern "METHOD /path".
func (r Route) Pattern() string { return r.Method + " " + r.Path }

// Routes are the HTTP routes of Functions, in table order.
var Routes = func() []Route {
	var out []Route
	for _, f := range Functions {
		if r, ok := f.Route(); ok {
			out = append(out, r)
		}
	}
	return out
}()

// Lookup returns the function named name.
func Lookup(name string) (Function, bool) {
	for _, f := range Functions {
		if f.Name == name {
			return f, true
		}
	}
	return Function{}, false
}

// Camel is a function's name in CamelCase (list-files → ListFiles): its
// CDK construct ID, and with "Function" its SAM resource.
func Camel(name string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == '-' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}
