package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/hosted"
	"github.com/hybrid-storage/hybrid-storage/shared/httpapi"
)

// syncFunction is functions/sync: the nightly job. It is in template.yaml
// with its schedule whether or not the directory exists yet.
const syncFunction = "sync"

// The sync fan-out's functions: the nightly rule's target and the ticket
// queue's.
const (
	syncDispatchFunction = "sync-dispatch"
	syncWorkerFunction   = "sync-worker"
)

// migrateFunction is functions/migrate: the database migrations, invoked
// after each deploy (SAM has no deploy-time trigger). It has no route.
const migrateFunction = "migrate"

// functionDirs lists functions/<dir>; it fails the test when functions/ is
// missing: there is nothing to deploy then.
func functionDirs(tb testing.TB) []string {
	tb.Helper()
	entries, err := os.ReadDir(filepath.Join(repoRoot, "functions"))
	if err != nil {
		tb.Fatalf("functions/ is missing (%v): the deployment files describe functions that do not exist", err)
	}
	var dirs []string
	for _, e := range entries {
		if n := e.Name(); e.IsDir() && !strings.HasPrefix(n, ".") && !strings.HasPrefix(n, "_") && n != "testdata" {
			dirs = append(dirs, n)
		}
	}
	sort.Strings(dirs)
	return dirs
}

type samFunction struct {
	id    string
	name  string // from CodeUri dist/<name>/
	props map[string]any
}

func samFunctions(tb testing.TB, tmpl map[string]any) map[string]samFunction {
	tb.Helper()
	out := map[string]samFunction{}
	for id, r := range getMap(tmpl, "Resources") {
		if getString(r, "Type") != "AWS::Serverless::Function" {
			continue
		}
		props := getMap(r, "Properties")
		uri := getString(props, "CodeUri")
		name := strings.TrimSuffix(strings.TrimPrefix(uri, "dist/"), "/")
		if uri != "dist/"+name+"/" || strings.Contains(name, "/") {
			tb.Errorf("%s: CodeUri %q, want dist/<name>/", id, uri)
			continue
		}
		if prev, dup := out[name]; dup {
			tb.Errorf("functions %s and %s both deploy dist/%s/", prev.id, id, name)
		}
		out[name] = samFunction{id: id, name: name, props: props}
	}
	return out
}

func TestSAMFunctionsMatchDirectories(t *testing.T) {
	dirs := functionDirs(t)
	fns := samFunctions(t, readTemplate(t, "template.yaml"))
	var got []string
	for name := range fns {
		got = append(got, name)
	}
	sort.Strings(got)
	want := slices.Clone(dirs)
	if !slices.Contains(want, syncFunction) {
		t.Logf("functions/%s does not exist yet; template.yaml deploys it already", syncFunction)
		want = append(want, syncFunction)
		sort.Strings(want)
	}
	if !slices.Equal(got, want) {
		t.Errorf("template.yaml functions got %v, want %v (functions/ dirs)", got, want)
	}
}

func TestSAMRoutesMatchRouteTable(t *testing.T) {
	tmpl := readTemplate(t, "template.yaml")
	fns := samFunctions(t, tmpl)
	type route struct{ fn, method, path string }
	var got, want []route
	for _, f := range fns {
		for evName, ev := range getMap(f.props, "Events") {
			if getString(ev, "Type") != "HttpApi" {
				continue
			}
			p := getMap(ev, "Properties")
			if api := getMap(p, "ApiId"); api["Ref"] != "HttpApi" {
				t.Errorf("%s event %s: ApiId %v, want !Ref HttpApi", f.id, evName, api)
			}
			got = append(got, route{f.name, getString(p, "Method"), getString(p, "Path")})
		}
	}
	for _, r := range httpapi.Routes {
		want = append(want, route{r.Function, r.Method, r.Path})
	}
	less := func(a, b route) int { return strings.Compare(a.method+" "+a.path, b.method+" "+b.path) }
	slices.SortFunc(got, less)
	slices.SortFunc(want, less)
	if !slices.Equal(got, want) {
		t.Errorf("template.yaml HttpApi events got\n%v\nwant (httpapi.Routes)\n%v", got, want)
	}
	// The auth routes' throttle is one bucket for every caller (no WAF on
	// HTTP APIs): a cost guard that must not be what users meet, so it
	// admits 300 clients each spending the whole per-client budget.
	rs := getMap(tmpl, "Resources", "HttpApi", "Properties", "RouteSettings")
	for _, r := range httpapi.Routes {
		if r.Auth || !strings.HasPrefix(r.Path, "/api/auth/") {
			continue
		}
		set := getMap(rs, r.Method+" "+r.Path)
		rate, _ := set["ThrottlingRateLimit"].(int)
		burst, _ := set["ThrottlingBurstLimit"].(int)
		if floor := authThrottleFloor(t); float64(rate) < floor || burst < rate {
			t.Errorf("RouteSettings[%q] rate %d burst %d, want rate at least %.0f and burst at least the rate", r.Method+" "+r.Path, rate, burst, floor)
		}
	}
	if getString(tmpl, "Resources", "HttpApi", "Properties", "StageName") != "$default" {
		t.Error("HttpApi StageName, want $default")
	}
}

func TestSAMGlobals(t *testing.T) {
	tmpl := readTemplate(t, "template.yaml")
	g := getMap(tmpl, "Globals", "Function")
	for k, want := range map[string]string{"Runtime": "provided.al2023", "Handler": "bootstrap"} {
		if got := getString(g, k); got != want {
			t.Errorf("Globals.Function.%s got %q, want %q", k, got, want)
		}
	}
	if arch, _ := g["Architectures"].([]any); len(arch) != 1 || arch[0] != "arm64" {
		t.Errorf("Globals.Function.Architectures got %v, want [arm64]", g["Architectures"])
	}
	vars := getMap(g, "Environment", "Variables")
	if vars["DOWNLOAD_MODE"] != "redirect" {
		t.Errorf("DOWNLOAD_MODE got %v, want redirect", vars["DOWNLOAD_MODE"])
	}
	// Same rule as the CDK app: every variable config reads is set, comes
	// from a secret (by ARN), from the Lambda runtime, or is left to its
	// default on Lambda on purpose.
	secrets := map[string]string{
		"SECRET_KEY": "SECRET_KEY_SECRET_ARN", "DATABASE_URL": "DATABASE_URL_SECRET_ARN",
		"MINIO_ACCESS_KEY": "MINIO_CREDENTIALS_SECRET_ARN", "MINIO_SECRET_KEY": "MINIO_CREDENTIALS_SECRET_ARN",
		"SYNC_TRIGGER_TOKEN": "SYNC_TRIGGER_TOKEN_SECRET_ARN",
	}
	runtime := []string{"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}
	defaults := []string{"DEV_MODE", "S3_ENDPOINT", "S3_PUBLIC_ENDPOINT", "SQS_ENDPOINT", "SYNC_SCHEDULE", "SYNC_LOG_FILE",
		"PORT", "WEB_DIR", "BCRYPT_COST", "AUTH_RATE_LIMIT_PER_MINUTE",
		"BIND_ADDR", "TRUSTED_PROXIES", "AUTH_RATE_LIMIT_PER_EMAIL_PER_HOUR", "BCRYPT_QUEUE_MAX",
		"METRICS_TOKEN", "METRICS_ADDR"}
	for _, name := range config.Names() {
		_, set := vars[name]
		switch arn, secret := secrets[name]; {
		case secret:
			if set {
				t.Errorf("%s set in plain text; it comes from %s", name, arn)
			}
			if _, ok := vars[arn]; !ok {
				t.Errorf("%s not set (for %s)", arn, name)
			}
		case slices.Contains(runtime, name) || slices.Contains(defaults, name):
			if set {
				t.Errorf("%s set; on Lambda it is left to the runtime or its default", name)
			}
		case !set:
			t.Errorf("%s: config reads it but Globals.Function.Environment does not set it", name)
		}
	}
	for _, name := range append(append(slices.Collect(mapKeys(secrets)), runtime...), defaults...) {
		if !slices.Contains(config.Names(), name) {
			t.Errorf("this test lists %s, which config no longer reads", name)
		}
	}
}

// authThrottleFloor is the request rate of 300 clients each at the default
// per-client limit (AUTH_RATE_LIMIT_PER_MINUTE).
func authThrottleFloor(tb testing.TB) float64 {
	tb.Helper()
	for _, d := range config.Docs() {
		if d.Name == "AUTH_RATE_LIMIT_PER_MINUTE" {
			n, err := strconv.Atoi(d.Default)
			if err != nil {
				tb.Fatal(err)
			}
			return 300 * float64(n) / 60
		}
	}
	tb.Fatal("config has no AUTH_RATE_LIMIT_PER_MINUTE")
	return 0
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestSAMSyncSchedule(t *testing.T) {
	fns := samFunctions(t, readTemplate(t, "template.yaml"))
	f, ok := fns[syncDispatchFunction]
	if !ok {
		t.Fatalf("template.yaml has no function with CodeUri dist/%s/", syncDispatchFunction)
	}
	schedules := func(f samFunction) []map[string]any {
		var out []map[string]any
		for _, ev := range getMap(f.props, "Events") {
			if getString(ev, "Type") == "Schedule" {
				out = append(out, getMap(ev, "Properties"))
			}
		}
		return out
	}
	for name, g := range fns {
		if n := len(schedules(g)); name != syncDispatchFunction && n != 0 {
			t.Errorf("%s: %d Schedule events; the nightly run is the dispatcher's", name, n)
		}
	}
	sch := schedules(f)
	if len(sch) != 1 {
		t.Fatalf("sync-dispatch: got %d Schedule events, want 1", len(sch))
	}
	s := sch[0]
	if got := getString(s, "Schedule"); got != "cron(0 0 * * ? *)" {
		t.Errorf("sync schedule got %q, want cron(0 0 * * ? *)", got)
	}
	if n, _ := getMap(s, "RetryPolicy")["MaximumRetryAttempts"].(int); n < 1 {
		t.Errorf("sync schedule retry policy %v, want retries", s["RetryPolicy"])
	}
	if getMap(s, "DeadLetterConfig") == nil {
		t.Error("sync schedule has no DeadLetterConfig")
	}
	sync := fns[syncFunction]
	if sync.props["ReservedConcurrentExecutions"] != hosted.SyncReservedConcurrency || sync.props["Timeout"] != 900 {
		t.Errorf("sync: reserved concurrency %v timeout %v, want %d and 900", sync.props["ReservedConcurrentExecutions"], sync.props["Timeout"], hosted.SyncReservedConcurrency)
	}
}

// The fan-out: the worker's SQS event takes one ticket at a time, at most
// SyncWorkers (a parameter, 2..1000: the event source's range) at once, and
// reports failed items; the ticket queue's visibility timeout is at least
// 6× the worker's timeout and it redrives to a dead-letter queue, which has
// an alarm; the dispatcher and the worker may send tickets and know the
// queue's URL.
func TestSAMSyncFanout(t *testing.T) {
	tmpl := readTemplate(t, "template.yaml")
	fns := samFunctions(t, tmpl)
	w, ok := fns[syncWorkerFunction]
	if !ok {
		t.Fatalf("template.yaml has no function with CodeUri dist/%s/", syncWorkerFunction)
	}
	var sqsEvents []map[string]any
	for _, ev := range getMap(w.props, "Events") {
		if getString(ev, "Type") == "SQS" {
			sqsEvents = append(sqsEvents, getMap(ev, "Properties"))
		}
	}
	if len(sqsEvents) != 1 {
		t.Fatalf("sync-worker: %d SQS events, want 1", len(sqsEvents))
	}
	ev := sqsEvents[0]
	queueID := getAttOf(ev["Queue"], "Arn")
	if getString(tmpl, "Resources", queueID, "Type") != "AWS::SQS::Queue" {
		t.Fatalf("sync-worker event queue %v, want an SQS queue of the template", ev["Queue"])
	}
	if ev["BatchSize"] != 1 || getMap(ev, "ScalingConfig", "MaximumConcurrency")["Ref"] != "SyncWorkers" ||
		strings.Join(toStrings(ev["FunctionResponseTypes"]), ",") != "ReportBatchItemFailures" {
		t.Errorf("sync-worker event %v, want BatchSize 1, MaximumConcurrency !Ref SyncWorkers, ReportBatchItemFailures", ev)
	}
	param := getMap(tmpl, "Parameters", "SyncWorkers")
	if param["MinValue"] != 2 || param["MaxValue"] != 1000 || param["Default"] != hosted.DefaultSyncWorkers {
		t.Errorf("SyncWorkers parameter %v, want 2..1000, default %d", param, hosted.DefaultSyncWorkers)
	}
	if getMap(tmpl, "Globals", "Function", "Environment", "Variables", "SYNC_WORKERS")["Ref"] != "SyncWorkers" ||
		getMap(tmpl, "Globals", "Function", "Environment", "Variables", "SYNC_QUEUE_URL")["Ref"] != queueID {
		t.Error("Globals: SYNC_WORKERS and SYNC_QUEUE_URL must be !Ref SyncWorkers and !Ref of the ticket queue")
	}
	q := getMap(tmpl, "Resources", queueID, "Properties")
	timeout, _ := w.props["Timeout"].(int)
	if vis, _ := q["VisibilityTimeout"].(int); vis < 6*timeout || time.Duration(vis)*time.Second != hosted.SyncQueueVisibility {
		t.Errorf("ticket queue visibility %v, want 6× the worker's timeout %d s (hosted.SyncQueueVisibility)", q["VisibilityTimeout"], timeout)
	}
	redrive := getMap(q, "RedrivePolicy")
	dlq := getAttOf(redrive["deadLetterTargetArn"], "Arn")
	if getString(tmpl, "Resources", dlq, "Type") != "AWS::SQS::Queue" || redrive["maxReceiveCount"] != hosted.SyncMaxReceiveCount {
		t.Errorf("ticket queue redrive %v, want a dead-letter queue after %d deliveries", redrive, hosted.SyncMaxReceiveCount)
	}
	alarmed := false
	for _, r := range getMap(tmpl, "Resources") {
		p := getMap(r, "Properties")
		if getString(r, "Type") != "AWS::CloudWatch::Alarm" || getString(p, "MetricName") != "ApproximateNumberOfMessagesVisible" {
			continue
		}
		dims, _ := p["Dimensions"].([]any)
		for _, d := range dims {
			if getAttOf(getMap(d)["Value"], "QueueName") == dlq && p["Threshold"] == 0 && getString(p, "ComparisonOperator") == "GreaterThanThreshold" {
				alarmed = true
			}
		}
	}
	if !alarmed {
		t.Errorf("no alarm on the ticket dead-letter queue %s", dlq)
	}
	for _, name := range []string{syncDispatchFunction, syncWorkerFunction} {
		sends := false
		policies, _ := fns[name].props["Policies"].([]any)
		for _, p := range policies {
			if getAttOf(getMap(p, "SQSSendMessagePolicy")["QueueName"], "QueueName") == queueID {
				sends = true
			}
		}
		if !sends {
			t.Errorf("%s may not send to the ticket queue", name)
		}
	}
}

// getAttOf returns X of {"Fn::GetAtt": [X, attr]} (or "X.attr"), or "".
func getAttOf(v any, attr string) string {
	m, _ := v.(map[string]any)
	switch ga := m["Fn::GetAtt"].(type) {
	case []any:
		if len(ga) == 2 && ga[1] == attr {
			id, _ := ga[0].(string)
			return id
		}
	case string:
		if id, ok := strings.CutSuffix(ga, "."+attr); ok {
			return id
		}
	}
	return ""
}

func TestSAMColdBucket(t *testing.T) {
	tmpl := readTemplate(t, "template.yaml")
	b := getMap(tmpl, "Resources", "ColdBucket")
	if getString(b, "Type") != "AWS::S3::Bucket" || getString(b, "DeletionPolicy") != "Retain" {
		t.Fatalf("ColdBucket: type %q deletion policy %q, want AWS::S3::Bucket Retain", getString(b, "Type"), getString(b, "DeletionPolicy"))
	}
	pab := getMap(b, "Properties", "PublicAccessBlockConfiguration")
	for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
		if pab[k] != true {
			t.Errorf("ColdBucket %s got %v, want true", k, pab[k])
		}
	}
	if _, ok := get(b, "Properties", "BucketEncryption", "ServerSideEncryptionConfiguration"); !ok {
		t.Error("ColdBucket has no encryption")
	}
	// TLS only: a Deny on aws:SecureTransport=false for the bucket.
	tlsOnly := false
	for _, r := range getMap(tmpl, "Resources") {
		if getString(r, "Type") != "AWS::S3::BucketPolicy" || getMap(r, "Properties", "Bucket")["Ref"] != "ColdBucket" {
			continue
		}
		sts, _ := get(r, "Properties", "PolicyDocument", "Statement")
		for _, st := range sts.([]any) {
			if getString(st, "Effect") == "Deny" && getString(st, "Condition", "Bool", "aws:SecureTransport") == "false" {
				tlsOnly = true
			}
		}
	}
	if !tlsOnly {
		t.Error("ColdBucket has no TLS-only bucket policy")
	}
}

// TestSAMNoWildcardAllow: no Allow statement grants "*" or "s3:*".
func TestSAMNoWildcardAllow(t *testing.T) {
	var walk func(v any)
	count := 0
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["Effect"] == "Allow" {
				count++
				acts := x["Action"]
				if s, ok := acts.(string); ok {
					acts = []any{s}
				}
				list, _ := acts.([]any)
				for _, a := range list {
					if a == "*" || a == "s3:*" {
						t.Errorf("Allow statement grants %q: %v", a, x)
					}
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(readTemplate(t, "template.yaml"))
	if count == 0 {
		t.Error("found no Allow statement at all: the walk is broken")
	}
}

// TestSAMColdBucketGrants: the same least privilege as the CDK app
// (infra/stacks coldAccessFor): the sync job reads and writes; routes
// reading stored files (and a share's download) and /readyz read; DELETE /api/files/{id}, the
// purges (DELETE /api/trash...) and DELETE /api/auth/me read and delete; uploads and everything else get nothing on the cold bucket.
func TestSAMColdBucketGrants(t *testing.T) {
	fns := samFunctions(t, readTemplate(t, "template.yaml"))
	want := func(name string) string {
		if name == syncFunction || name == syncWorkerFunction {
			return "crud"
		}
		acc := ""
		for _, r := range httpapi.Routes {
			if r.Function != name {
				continue
			}
			switch {
			case r.Path == "/readyz":
				acc = max(acc, "read")
			case strings.HasPrefix(r.Path, "/api/files/upload"):
			case strings.HasSuffix(r.Path, "/shares"):
			case r.Path == "/api/public/shares/{token}/download":
				acc = max(acc, "read")
			case strings.HasPrefix(r.Path, "/api/files") && r.Method == "GET":
				acc = max(acc, "read")
			case r.Method == "DELETE" && (strings.HasPrefix(r.Path, "/api/files") || strings.HasPrefix(r.Path, "/api/trash") || r.Path == "/api/auth/me"):
				acc = "read+delete"
			}
		}
		return acc
	}
	for name, f := range fns {
		var got []string
		policies, _ := f.props["Policies"].([]any)
		for _, p := range policies {
			m, _ := p.(map[string]any)
			switch {
			case getMap(m, "S3CrudPolicy") != nil:
				got = append(got, "crud")
			case getMap(m, "S3ReadPolicy") != nil:
				got = append(got, "read")
			case m["Statement"] != nil:
				sts, _ := m["Statement"].([]any)
				for _, st := range sts {
					if strings.Contains(strings.Join(toStrings(getMap(st)["Action"]), ","), "s3:DeleteObject") {
						got = append(got, "delete")
					}
				}
			}
		}
		if g := strings.Join(got, "+"); g != want(name) {
			t.Errorf("%s: cold bucket access got %q, want %q", name, g, want(name))
		}
	}
}

// TestSAMMigrateFunction: the migrate function is deployed with the
// secrets it needs, no event source (never an HTTP route), and a timeout
// long enough for migrations; the template tells how to run it.
func TestSAMMigrateFunction(t *testing.T) {
	fns := samFunctions(t, readTemplate(t, "template.yaml"))
	f, ok := fns[migrateFunction]
	if !ok {
		t.Fatalf("template.yaml has no function with CodeUri dist/%s/", migrateFunction)
	}
	if f.id != "MigrateFunction" {
		t.Errorf("logical ID %s, want MigrateFunction (docs/deploy.md invokes it by that name)", f.id)
	}
	if ev := getMap(f.props, "Events"); len(ev) != 0 {
		t.Errorf("migrate function has events %v, want none", ev)
	}
	if timeout, _ := f.props["Timeout"].(int); timeout < 60 {
		t.Errorf("migrate Timeout %v, want at least 60 s", f.props["Timeout"])
	}
	policies, _ := f.props["Policies"].([]any)
	readsSecrets := false
	for _, p := range policies {
		if m, _ := p.(map[string]any); m["Ref"] == "SecretsReadPolicy" {
			readsSecrets = true
		}
	}
	if !readsSecrets {
		t.Errorf("migrate policies %v lack SecretsReadPolicy (it reads DATABASE_URL from its secret)", policies)
	}
	raw, err := os.ReadFile(filepath.Join(repoRoot, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "sam remote invoke MigrateFunction") {
		t.Error("template.yaml does not say to run `sam remote invoke MigrateFunction` after deploying")
	}
}
