// Package stacks defines the AWS deployment of hybrid-storage as CDK
// constructs: the stateful resources (cold-tier bucket, secrets, optional
// database), the HTTP API with one Lambda function per functions/<dir>, the
// nightly sync schedule, and the SPA behind CloudFront.
//
// Nothing here reads the environment or CDK context: infra/main.go does and
// passes everything in as props, so tests can build the stacks from fixtures.
package stacks

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/hybrid-storage/hybrid-storage/shared/hosted"
	"github.com/hybrid-storage/hybrid-storage/shared/httpapi"
)

// SyncFunction is the directory under functions/ of the nightly sync job. It
// is the only function allowed to exist without a route in httpapi.Routes:
// EventBridge invokes it. When it also has routes it gets them as well.
const SyncFunction = hosted.SyncFunction

// SyncDispatchFunction and SyncWorkerFunction are the AWS fan-out of the
// sync job: the nightly rule invokes the dispatcher, which sends tickets to
// an SQS queue whose event source mapping invokes the worker. Neither has a
// route. With them, the rule targets the dispatcher; without, functions/sync.
const (
	SyncDispatchFunction = hosted.SyncDispatchFunction
	SyncWorkerFunction   = hosted.SyncWorkerFunction
)

// MigrateFunction is the directory under functions/ of the function that
// applies the database migrations. It never gets a route: a CDK Trigger
// invokes it on every deploy (NewAPI).
const MigrateFunction = hosted.MigrateFunction

// Function is one Lambda function: a directory under functions/.
type Function struct {
	Name      string          // directory name under functions/
	Routes    []httpapi.Route // HTTP routes it serves, in table order
	Scheduled bool            // invoked by the nightly EventBridge rule
	Queued    bool            // invoked by the sync ticket queue's event source mapping
	OnDeploy  bool            // invoked by a CDK Trigger on every deploy (migrations)
}

// Discover lists the function directories under functionsDir and joins them
// with routes. It returns an error when functionsDir cannot be read, when a
// route names a function whose directory is missing, or when a directory
// other than SyncFunction, SyncDispatchFunction, SyncWorkerFunction and
// MigrateFunction serves no route, or when a route names MigrateFunction,
// or when only one of the dispatcher and the worker exists. The nightly
// rule's function (Scheduled) is the dispatcher when it exists, else
// SyncFunction. The result is sorted by name.
func Discover(functionsDir string, routes []httpapi.Route) ([]Function, error) {
	dirs, err := FunctionDirs(functionsDir)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]*Function, len(dirs))
	fns := make([]Function, len(dirs))
	fanout := slices.Contains(dirs, SyncDispatchFunction)
	if fanout != slices.Contains(dirs, SyncWorkerFunction) {
		return nil, fmt.Errorf("%s and %s go together (the sync fan-out): only one of them exists in %s",
			SyncDispatchFunction, SyncWorkerFunction, functionsDir)
	}
	for i, d := range dirs {
		scheduled := d == SyncDispatchFunction || d == SyncFunction && !fanout
		fns[i] = Function{Name: d, Scheduled: scheduled, Queued: d == SyncWorkerFunction, OnDeploy: d == MigrateFunction}
		byName[d] = &fns[i]
	}
	for _, r := range routes {
		if r.Function == MigrateFunction || r.Function == SyncDispatchFunction || r.Function == SyncWorkerFunction {
			return nil, fmt.Errorf("route %q names function %q, which runs the migrations on deploy or the sync fan-out and must not be reachable over HTTP",
				r.Pattern(), r.Function)
		}
		f, ok := byName[r.Function]
		if !ok {
			return nil, fmt.Errorf("route %q names function %q, but %s does not exist",
				r.Pattern(), r.Function, filepath.Join(functionsDir, r.Function))
		}
		f.Routes = append(f.Routes, r)
	}
	for _, f := range fns {
		if len(f.Routes) == 0 && !f.Scheduled && !f.Queued && !f.OnDeploy && f.Name != SyncFunction {
			return nil, fmt.Errorf("%s serves no route of httpapi.Routes and is none of the %q, %q, %q and %q functions",
				filepath.Join(functionsDir, f.Name), SyncFunction, SyncDispatchFunction, SyncWorkerFunction, MigrateFunction)
		}
	}
	return fns, nil
}

// FunctionDirs returns the sorted names of the directories directly under
// functionsDir, skipping hidden ones, "_"-prefixed ones and testdata.
func FunctionDirs(functionsDir string) ([]string, error) {
	entries, err := os.ReadDir(functionsDir)
	if err != nil {
		return nil, fmt.Errorf("list functions: %w", err)
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() || strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") || n == "testdata" {
			continue
		}
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// coldAccess is what a function may do with the cold-tier bucket.
type coldAccess int

const (
	coldNone coldAccess = iota
	coldRead
	coldReadDelete
	coldReadWrite
)

// coldAccessFor derives least privilege on the cold bucket from the routes a
// function serves: the sync job writes; routes reading a stored file
// (GET /api/files..., a share's download) read (presign, stream); a file's
// share links only touch rows; DELETE /api/files/{id}, the
// purges (DELETE /api/trash...) and DELETE /api/auth/me also delete; /readyz checks the bucket. Uploads only touch the hot tier.
func coldAccessFor(f Function) coldAccess {
	if f.Name == SyncFunction || f.Name == SyncWorkerFunction {
		return coldReadWrite
	}
	acc := coldNone
	for _, r := range f.Routes {
		switch {
		case r.Path == "/readyz":
			acc = max(acc, coldRead)
		case strings.HasPrefix(r.Path, "/api/files/upload"): // upload, uploads/...: hot tier only
		case strings.HasSuffix(r.Path, "/shares"): // a file's share links: rows only
		case r.Path == "/api/public/shares/{token}/download":
			acc = max(acc, coldRead) // presigns the shared file in its tier
		case strings.HasPrefix(r.Path, "/api/files") && r.Method == "GET":
			acc = max(acc, coldRead)
		case r.Method == "DELETE" && (strings.HasPrefix(r.Path, "/api/files") || strings.HasPrefix(r.Path, "/api/trash") || r.Path == "/api/auth/me"):
			acc = max(acc, coldReadDelete) // a delete without trash, a purge, an account deletion
		}
	}
	return acc
}

// isAuthRoute reports whether r is an unauthenticated auth endpoint
// (signup, login): those get tighter API Gateway throttling.
func isAuthRoute(r httpapi.Route) bool {
	return !r.Auth && strings.HasPrefix(r.Path, "/api/auth/")
}

// routeKey is the API Gateway route key, "METHOD /path".
func routeKey(r httpapi.Route) string { return r.Method + " " + r.Path }
