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
	"sort"
	"strings"

	"github.com/hybrid-storage/hybrid-storage/shared/hosted"
	"github.com/hybrid-storage/hybrid-storage/shared/httpapi"
)

// SyncFunction is the directory under functions/ of the nightly sync job. It
// is the only function allowed to exist without a route in httpapi.Routes:
// EventBridge invokes it. When it also has routes it gets them as well.
const SyncFunction = hosted.SyncFunction

// MigrateFunction is the directory under functions/ of the function that
// applies the database migrations. It never gets a route: a CDK Trigger
// invokes it on every deploy (NewAPI).
const MigrateFunction = hosted.MigrateFunction

// Function is one Lambda function: a directory under functions/.
type Function struct {
	Name      string          // directory name under functions/
	Routes    []httpapi.Route // HTTP routes it serves, in table order
	Scheduled bool            // invoked by the nightly EventBridge rule
	OnDeploy  bool            // invoked by a CDK Trigger on every deploy (migrations)
}

// Discover lists the function directories under functionsDir and joins them
// with routes. It returns an error when functionsDir cannot be read, when a
// route names a function whose directory is missing, or when a directory
// other than SyncFunction and MigrateFunction serves no route, or when a
// route names MigrateFunction. The result is sorted by name.
func Discover(functionsDir string, routes []httpapi.Route) ([]Function, error) {
	dirs, err := FunctionDirs(functionsDir)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]*Function, len(dirs))
	fns := make([]Function, len(dirs))
	for i, d := range dirs {
		fns[i] = Function{Name: d, Scheduled: d == SyncFunction, OnDeploy: d == MigrateFunction}
		byName[d] = &fns[i]
	}
	for _, r := range routes {
		if r.Function == MigrateFunction {
			return nil, fmt.Errorf("route %q names function %q, which runs the migrations on deploy and must not be reachable over HTTP",
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
		if len(f.Routes) == 0 && !f.Scheduled && !f.OnDeploy {
			return nil, fmt.Errorf("%s serves no route of httpapi.Routes and is neither the %q nor the %q function",
				filepath.Join(functionsDir, f.Name), SyncFunction, MigrateFunction)
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
// (GET /api/files...) read (presign, stream); DELETE /api/files/{id}, the
// purges (DELETE /api/trash...) and DELETE /api/auth/me also delete; /readyz checks the bucket. Uploads only touch the hot tier.
func coldAccessFor(f Function) coldAccess {
	if f.Name == SyncFunction {
		return coldReadWrite
	}
	acc := coldNone
	for _, r := range f.Routes {
		switch {
		case r.Path == "/readyz":
			acc = max(acc, coldRead)
		case strings.HasPrefix(r.Path, "/api/files/upload"): // upload, uploads/...: hot tier only
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
