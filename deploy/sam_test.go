package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/hosted"
	"github.com/hybrid-storage/hybrid-storage/shared/httpapi"
)

// The functions the behaviour checks look at.
const (
	syncFunction         = "sync"
	syncDispatchFunction = "sync-dispatch"
	syncWorkerFunction   = "sync-worker"
	migrateFunction      = "migrate"
)

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

// Every function of the table is in the template, with its bootstrap.
func TestSAMEveryFunction(t *testing.T) {
	fns := samFunctions(t, readTemplate(t, "template.yaml"))
	for _, f := range httpapi.Functions {
		if _, ok := fns[f.Name]; !ok {
			t.Errorf("template.yaml has no function with CodeUri dist/%s/", f.Name)
		}
	}
	if len(fns) != len(httpapi.Functions) {
		t.Errorf("template.yaml has %d functions, the table %d", len(fns), len(httpapi.Functions))
	}
}

// The auth routes' throttle is one bucket for every caller (no WAF on HTTP
// APIs): a cost guard that must not be what users meet, so it admits 300
// clients each spending the whole per-client budget.
func TestSAMAuthThrottle(t *testing.T) {
	tmpl := readTemplate(t, "template.yaml")
	rs := getMap(tmpl, "Resources", "HttpApi", "Properties", "RouteSettings")
	for _, key := range []string{"POST /api/auth/signup", "POST /api/auth/login"} {
		set := getMap(rs, key)
		rate, _ := set["ThrottlingRateLimit"].(int)
		burst, _ := set["ThrottlingBurstLimit"].(int)
		if floor := authThrottleFloor(t); float64(rate) < floor || burst < rate {
			t.Errorf("RouteSettings[%q] rate %d burst %d, want rate at least %.0f and burst at least the rate", key, rate, burst, floor)
		}
	}
	if getString(tmpl, "Resources", "HttpApi", "Properties", "StageName") != "$default" {
		t.Error("HttpApi StageName, want $default")
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
	// Above 1: a manual run while one goes must reach the advisory lock
	// (409 SYNC_RUNNING), not a throttle.
	sync := fns[syncFunction]
	if r, _ := sync.props["ReservedConcurrentExecutions"].(int); r < 2 || sync.props["Timeout"] != 900 {
		t.Errorf("sync: reserved concurrency %v timeout %v, want at least 2 and 900", sync.props["ReservedConcurrentExecutions"], sync.props["Timeout"])
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
	// The range config.Load enforces: a value SAM accepts must not fail
	// every function at cold start.
	spec := config.Lookup("SYNC_WORKERS")
	if param["MinValue"] != spec.Min || param["MaxValue"] != spec.Max || fmt.Sprint(param["Default"]) != spec.Default {
		t.Errorf("SyncWorkers parameter %v, want %d..%d, default %s (config's SYNC_WORKERS)", param, spec.Min, spec.Max, spec.Default)
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

// TestSAMDispatcherMayPurge: the nightly dispatcher runs the maintenance,
// which purges expired trash and deleted accounts from the cold bucket; the
// sync functions copy into it. (Every grant comes from the function table;
// these are the ones the nightly path needs.)
func TestSAMDispatcherMayPurge(t *testing.T) {
	fns := samFunctions(t, readTemplate(t, "template.yaml"))
	access := func(name string) string {
		var got []string
		policies, _ := fns[name].props["Policies"].([]any)
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
		return strings.Join(got, "+")
	}
	for name, want := range map[string]string{syncDispatchFunction: "read+delete", syncWorkerFunction: "crud", syncFunction: "crud", "login": ""} {
		if got := access(name); got != want {
			t.Errorf("%s: cold bucket access %q, want %q", name, got, want)
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
