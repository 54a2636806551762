package stacks

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/hosted"
	"github.com/hybrid-storage/hybrid-storage/shared/httpapi"
)

// must runs CDK assertions, which panic on failure, and turns a panic into
// a test failure naming what was checked.
func must(tb testing.TB, what string, f func()) {
	tb.Helper()
	defer func() {
		if r := recover(); r != nil {
			tb.Fatalf("%s: %v", what, r)
		}
	}()
	f()
}

// fixture lays out a fake repository: functions/<name>/main.go and
// dist/<name>/bootstrap for every name, and frontend/dist/index.html.
func fixture(tb testing.TB, names ...string) (root string) {
	tb.Helper()
	root = tb.TempDir()
	write := func(path, body string) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	for _, n := range names {
		write(filepath.Join(root, "functions", n, "main.go"), "package main\n")
		write(filepath.Join(root, "dist", n, "bootstrap"), "fake bootstrap of "+n+"\n")
	}
	write(filepath.Join(root, "frontend", "dist", "index.html"), "<!doctype html><title>x</title>\n")
	return root
}

// The functions the behaviour checks look at.
const (
	SyncFunction         = "sync"
	SyncDispatchFunction = "sync-dispatch"
	SyncWorkerFunction   = "sync-worker"
	MigrateFunction      = "migrate"
)

// tableNames is the name of every entry of the function table.
func tableNames() []string {
	var out []string
	for _, f := range httpapi.Functions {
		out = append(out, f.Name)
	}
	return out
}

// testSettings are a deploy's settings in the tests.
var testSettings = Settings{"MINIO_ENDPOINT": "minio.example.com:9000", "MINIO_BUCKET": "local-files", "MINIO_SECURE": "true"}

// synthesized is one app built from a fixture, with each stack's template
// as an assertions.Template and as plain JSON.
type synthesized struct {
	root                string
	stateful, api, web  assertions.Template
	statefulJSON, apiJS template
	webJSON             template
}

type template struct {
	Resources map[string]resource `json:"Resources"`
}

type resource struct {
	Type           string         `json:"Type"`
	Properties     map[string]any `json:"Properties"`
	DeletionPolicy string         `json:"DeletionPolicy"`
	DependsOn      any            `json:"DependsOn"`
}

func (t template) ofType(typ string) map[string]resource {
	out := map[string]resource{}
	for id, r := range t.Resources {
		if r.Type == typ {
			out[id] = r
		}
	}
	return out
}

func toTemplate(tb testing.TB, tmpl assertions.Template) template {
	tb.Helper()
	raw, err := json.Marshal(tmpl.ToJSON())
	if err != nil {
		tb.Fatal(err)
	}
	var t template
	if err := json.Unmarshal(raw, &t); err != nil {
		tb.Fatal(err)
	}
	return t
}

func synth(tb testing.TB, root string, statefulProps StatefulProps) *synthesized {
	tb.Helper()
	s := &synthesized{root: root}
	must(tb, "synth", func() {
		app := awscdk.NewApp(nil)
		web := NewWeb(app, "Web", &WebProps{WebDir: filepath.Join(root, "frontend", "dist"), ConnectSources: testConnectSources,
			APIURL: "https://abc123.execute-api.us-east-1.amazonaws.com"})
		statefulProps.CORSOrigins = []string{web.URL}
		data := NewStateful(app, "Stateful", &statefulProps)
		api, err := NewAPI(app, "Api", &APIProps{
			DistDir:     filepath.Join(root, "dist"),
			Data:        data,
			Settings:    testSettings,
			CORSOrigins: []string{web.URL},
		})
		if err != nil {
			tb.Fatalf("NewAPI: %v", err)
		}
		s.stateful = assertions.Template_FromStack(data.Stack, nil)
		s.api = assertions.Template_FromStack(api.Stack, nil)
		s.web = assertions.Template_FromStack(web.Stack, nil)
	})
	s.statefulJSON = toTemplate(tb, s.stateful)
	s.apiJS = toTemplate(tb, s.api)
	s.webJSON = toTemplate(tb, s.web)
	return s
}

// functionsByName maps a functions/ directory name to the logical ID of its
// AWS::Lambda::Function, through the FunctionTag tag.
func functionsByName(tb testing.TB, t template) map[string]string {
	tb.Helper()
	out := map[string]string{}
	for id, r := range t.ofType("AWS::Lambda::Function") {
		tags, _ := r.Properties["Tags"].([]any)
		for _, tag := range tags {
			m, _ := tag.(map[string]any)
			if m["Key"] == FunctionTag {
				name, _ := m["Value"].(string)
				if prev, dup := out[name]; dup {
					tb.Fatalf("two functions tagged %s: %s and %s", name, prev, id)
				}
				out[name] = id
			}
		}
	}
	return out
}

// getAttArn returns X of {"Fn::GetAtt": [X, "Arn"]}, or "".
func getAttArn(v any) string {
	m, _ := v.(map[string]any)
	ga, _ := m["Fn::GetAtt"].([]any)
	if len(ga) == 2 && ga[1] == "Arn" {
		id, _ := ga[0].(string)
		return id
	}
	return ""
}

// integrationRef returns X of {"Fn::Join": ["", ["integrations/", {"Ref": X}]]}.
func integrationRef(v any) string {
	m, _ := v.(map[string]any)
	j, _ := m["Fn::Join"].([]any)
	if len(j) != 2 {
		return ""
	}
	parts, _ := j[1].([]any)
	if len(parts) != 2 || parts[0] != "integrations/" {
		return ""
	}
	ref, _ := parts[1].(map[string]any)
	id, _ := ref["Ref"].(string)
	return id
}

// fullOnce is built by the first test that needs it, in a directory that
// outlives that test (removed by TestMain).
var (
	fullOnce *synthesized
	fullDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fullDir != "" {
		os.RemoveAll(fullDir)
	}
	os.Exit(code)
}

// keepDir is a testing.TB whose TempDir outlives the test.
type keepDir struct{ testing.TB }

func (k keepDir) TempDir() string {
	d, err := os.MkdirTemp("", "infra-stacks-")
	if err != nil {
		k.Fatal(err)
	}
	fullDir = d
	return d
}

// full is the app built from the function table.
func full(tb testing.TB) *synthesized {
	tb.Helper()
	if fullOnce == nil {
		fullOnce = synth(tb, fixture(keepDir{tb}, tableNames()...), StatefulProps{})
	}
	return fullOnce
}

// One construct per entry of the function table, named by the entry (so
// searching the route map's name finds it), and no other function but the
// provider of the migrate trigger.
func TestFunctionPerTableEntry(t *testing.T) {
	s := full(t)
	got := functionsByName(t, s.apiJS)
	for _, f := range httpapi.Functions {
		id, ok := got[f.Name]
		if !ok {
			t.Errorf("no Lambda function for %s", f.Name)
			continue
		}
		// The construct ID is the name: CloudFormation's logical ID is it
		// without the hyphens, and a hash.
		if !strings.HasPrefix(id, strings.ReplaceAll(f.Name, "-", "")) {
			t.Errorf("%s: logical ID of %s, want the construct ID %s", id, f.Name, f.Name)
		}
	}
	ours := 0
	for id := range s.apiJS.ofType("AWS::Lambda::Function") {
		if !strings.HasPrefix(id, "AWSCDKTriggerCustomResourceProvider") {
			ours++
		}
	}
	if ours != len(httpapi.Functions) {
		t.Errorf("got %d AWS::Lambda::Function resources (besides the trigger provider), want %d", ours, len(httpapi.Functions))
	}
}

func TestFunctionRuntime(t *testing.T) {
	s := full(t)
	for name, id := range functionsByName(t, s.apiJS) {
		p := s.apiJS.Resources[id].Properties
		if p["Runtime"] != "provided.al2023" {
			t.Errorf("%s: Runtime got %v, want provided.al2023", name, p["Runtime"])
		}
		if arch, _ := p["Architectures"].([]any); len(arch) != 1 || arch[0] != "arm64" {
			t.Errorf("%s: Architectures got %v, want [arm64]", name, p["Architectures"])
		}
		if p["Handler"] != "bootstrap" {
			t.Errorf("%s: Handler got %v, want bootstrap", name, p["Handler"])
		}
		env, _ := p["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		if vars["DOWNLOAD_MODE"] != "redirect" {
			t.Errorf("%s: DOWNLOAD_MODE got %v, want redirect", name, vars["DOWNLOAD_MODE"])
		}
		for _, k := range []string{EnvSecretKeySecretARN, EnvDatabaseURLSecretARN, EnvMinioCredentialsSecretARN, EnvSyncTriggerTokenSecretARN, "S3_BUCKET", "MINIO_ENDPOINT", "MINIO_BUCKET", "CORS_ORIGINS"} {
			if _, ok := vars[k]; !ok {
				t.Errorf("%s: environment has no %s", name, k)
			}
		}
		for _, k := range []string{"SECRET_KEY", "DATABASE_URL", "MINIO_ACCESS_KEY", "MINIO_SECRET_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "SYNC_TRIGGER_TOKEN", "AWS_REGION"} {
			if _, ok := vars[k]; ok {
				t.Errorf("%s: environment sets %s; secrets go by ARN and AWS_* come from the runtime", name, k)
			}
		}
		logCfg, _ := p["LoggingConfig"].(map[string]any)
		lg, _ := logCfg["LogGroup"].(map[string]any)
		ref, _ := lg["Ref"].(string)
		if r, ok := s.apiJS.Resources[ref]; !ok || r.Type != "AWS::Logs::LogGroup" || r.Properties["RetentionInDays"] == nil {
			t.Errorf("%s: log group %q has no retention", name, ref)
		}
	}
}

func TestEveryRouteHasIntegrationToItsFunction(t *testing.T) {
	s := full(t)
	fnIDs := functionsByName(t, s.apiJS)
	routes := map[string]string{} // route key → integration logical ID
	for id, r := range s.apiJS.ofType("AWS::ApiGatewayV2::Route") {
		key, _ := r.Properties["RouteKey"].(string)
		if _, dup := routes[key]; dup {
			t.Errorf("route %q defined twice (%s)", key, id)
		}
		routes[key] = integrationRef(r.Properties["Target"])
	}
	if len(routes) != len(httpapi.Routes) {
		t.Errorf("got %d routes, want %d (httpapi.Routes)", len(routes), len(httpapi.Routes))
	}
	for _, r := range httpapi.Routes {
		key := r.Method + " " + r.Path
		integ, ok := routes[key]
		if !ok {
			t.Errorf("route %q missing", key)
			continue
		}
		ir, ok := s.apiJS.Resources[integ]
		if !ok || ir.Type != "AWS::ApiGatewayV2::Integration" {
			t.Errorf("route %q: target %q is not an integration", key, integ)
			continue
		}
		if got := getAttArn(ir.Properties["IntegrationUri"]); got != fnIDs[r.Function] {
			t.Errorf("route %q: integration calls %q, want %q (functions/%s)", key, got, fnIDs[r.Function], r.Function)
		}
		if ir.Properties["PayloadFormatVersion"] != "2.0" || ir.Properties["IntegrationType"] != "AWS_PROXY" {
			t.Errorf("route %q: integration %v %v, want AWS_PROXY 2.0", key, ir.Properties["IntegrationType"], ir.Properties["PayloadFormatVersion"])
		}
	}
}

func TestStageThrottling(t *testing.T) {
	s := full(t)
	stages := s.apiJS.ofType("AWS::ApiGatewayV2::Stage")
	if len(stages) != 1 {
		t.Fatalf("got %d stages, want 1", len(stages))
	}
	for _, st := range stages {
		p := st.Properties
		if p["StageName"] != "$default" || p["AutoDeploy"] != true {
			t.Errorf("stage %v autoDeploy %v, want $default true", p["StageName"], p["AutoDeploy"])
		}
		def, _ := p["DefaultRouteSettings"].(map[string]any)
		stageRate, _ := def["ThrottlingRateLimit"].(float64)
		if stageRate <= 0 || def["ThrottlingBurstLimit"] == nil {
			t.Errorf("default route settings %v: want throttling", def)
		}
		rs, _ := p["RouteSettings"].(map[string]any)
		var authKeys []string
		for _, f := range httpapi.Functions {
			if r, ok := f.Route(); ok && f.Limit == httpapi.AuthLimit && f.Auth == httpapi.None {
				authKeys = append(authKeys, r.Pattern())
			}
		}
		if !slices.Contains(authKeys, "POST /api/auth/login") || !slices.Contains(authKeys, "POST /api/auth/signup") {
			t.Fatalf("auth routes got %v, want signup and login among them", authKeys)
		}
		if len(rs) != len(authKeys) {
			t.Errorf("route settings for %d routes, want %d (%v)", len(rs), len(authKeys), authKeys)
		}
		// One bucket for every caller (HTTP APIs have no AWS WAF): a cost
		// guard only, admitting 300 clients each at the default per-client
		// limit, which PostgreSQL counts and users meet first.
		floor := 0.0
		for _, d := range config.Docs() {
			if d.Name == "AUTH_RATE_LIMIT_PER_MINUTE" {
				n, _ := strconv.Atoi(d.Default)
				floor = 300 * float64(n) / 60
			}
		}
		for _, k := range authKeys {
			set, _ := rs[k].(map[string]any)
			rate, _ := set["ThrottlingRateLimit"].(float64)
			burst, _ := set["ThrottlingBurstLimit"].(float64)
			if floor <= 0 || rate < floor || burst < rate {
				t.Errorf("%s: throttling rate %v burst %v, want rate at least %v and burst at least the rate", k, rate, burst, floor)
			}
		}
		if als, _ := p["AccessLogSettings"].(map[string]any); als["DestinationArn"] == nil {
			t.Errorf("stage has no access logs")
		}
	}
}

func TestCORSIsTheSiteOnly(t *testing.T) {
	s := full(t)
	for id, r := range s.apiJS.ofType("AWS::ApiGatewayV2::Api") {
		cors, _ := r.Properties["CorsConfiguration"].(map[string]any)
		origins, _ := cors["AllowOrigins"].([]any)
		if len(origins) != 1 {
			t.Fatalf("%s: AllowOrigins got %v, want the site only", id, origins)
		}
		raw, _ := json.Marshal(origins[0])
		if !strings.Contains(string(raw), "https://") || !strings.Contains(string(raw), "Fn::ImportValue") {
			t.Errorf("%s: AllowOrigins[0] got %s, want https:// + the distribution's domain", id, raw)
		}
	}
}

func TestNightlySyncRule(t *testing.T) {
	s := full(t)
	dispatchID := functionsByName(t, s.apiJS)[SyncDispatchFunction]
	syncID := functionsByName(t, s.apiJS)[SyncFunction]
	rules := s.apiJS.ofType("AWS::Events::Rule")
	if len(rules) != 1 {
		t.Fatalf("got %d rules, want 1", len(rules))
	}
	for id, r := range rules {
		if got := r.Properties["ScheduleExpression"]; got != "cron(0 0 * * ? *)" {
			t.Errorf("%s: schedule got %v, want cron(0 0 * * ? *)", id, got)
		}
		targets, _ := r.Properties["Targets"].([]any)
		if len(targets) != 1 {
			t.Fatalf("%s: got %d targets, want 1", id, len(targets))
		}
		tg, _ := targets[0].(map[string]any)
		if got := getAttArn(tg["Arn"]); got != dispatchID {
			t.Errorf("target calls %q, want the sync-dispatch function %q", got, dispatchID)
		}
		retry, _ := tg["RetryPolicy"].(map[string]any)
		if n, _ := retry["MaximumRetryAttempts"].(float64); n < 1 {
			t.Errorf("target retry policy %v, want retries", retry)
		}
		dlc, _ := tg["DeadLetterConfig"].(map[string]any)
		if q := getAttArn(dlc["Arn"]); s.apiJS.Resources[q].Type != "AWS::SQS::Queue" {
			t.Errorf("target dead-letter %v, want an SQS queue", dlc)
		}
	}
	p := s.apiJS.Resources[syncID].Properties
	if r, _ := p["ReservedConcurrentExecutions"].(float64); r < 2 {
		t.Errorf("sync reserved concurrency got %v, want over 1: a manual run while one goes must reach the lock", p["ReservedConcurrentExecutions"])
	}
	if p["Timeout"] != 900.0 {
		t.Errorf("sync timeout got %v, want 900", p["Timeout"])
	}
	must(t, "lambda permission for events", func() {
		s.api.HasResourceProperties(jsii.String("AWS::Lambda::Permission"), &map[string]any{
			"Principal":    "events.amazonaws.com",
			"FunctionName": map[string]any{"Fn::GetAtt": []any{dispatchID, "Arn"}},
		})
	})
}

// The fan-out: a ticket queue whose visibility timeout is at least 6× the
// worker's timeout, redriven to a dead-letter queue after
// SyncMaxReceiveCount deliveries, with an alarm on it; the worker's event
// source mapping takes one ticket at a time, at most SYNC_WORKERS at once,
// and reports failed items; the dispatcher and the worker may send to the
// queue, and both know its URL.
func TestSyncFanout(t *testing.T) {
	s := full(t)
	fns := functionsByName(t, s.apiJS)
	dispatchID, workerID := fns[SyncDispatchFunction], fns[SyncWorkerFunction]
	var ticketQ, ticketDLQ string
	for id, q := range s.apiJS.ofType("AWS::SQS::Queue") {
		if q.Properties["RedrivePolicy"] != nil {
			ticketQ = id
		}
	}
	if ticketQ == "" {
		t.Fatal("no queue with a redrive policy (the ticket queue)")
	}
	qp := s.apiJS.Resources[ticketQ].Properties
	worker := s.apiJS.Resources[workerID].Properties
	if vis, _ := qp["VisibilityTimeout"].(float64); vis < 6*worker["Timeout"].(float64) || worker["Timeout"].(float64) != httpapi.SyncWorkerTimeout.Seconds() {
		t.Errorf("visibility timeout %v, worker timeout %v: want at least 6× the worker's %v s", qp["VisibilityTimeout"], worker["Timeout"], httpapi.SyncWorkerTimeout.Seconds())
	}
	redrive, _ := qp["RedrivePolicy"].(map[string]any)
	ticketDLQ = getAttArn(redrive["deadLetterTargetArn"])
	if s.apiJS.Resources[ticketDLQ].Type != "AWS::SQS::Queue" || redrive["maxReceiveCount"] != float64(hosted.SyncMaxReceiveCount) {
		t.Errorf("redrive policy %v, want the dead-letter queue after %d deliveries", redrive, hosted.SyncMaxReceiveCount)
	}
	if qp["SqsManagedSseEnabled"] != true {
		t.Errorf("ticket queue encryption %v, want SQS-managed", qp["SqsManagedSseEnabled"])
	}
	esms := s.apiJS.ofType("AWS::Lambda::EventSourceMapping")
	if len(esms) != 1 {
		t.Fatalf("%d event source mappings, want 1", len(esms))
	}
	for id, m := range esms {
		p := m.Properties
		scaling, _ := p["ScalingConfig"].(map[string]any)
		types, _ := p["FunctionResponseTypes"].([]any)
		if p["BatchSize"] != 1.0 || fmt.Sprint(scaling["MaximumConcurrency"]) != config.Lookup("SYNC_WORKERS").Default ||
			len(types) != 1 || types[0] != "ReportBatchItemFailures" {
			t.Errorf("%s: %v, want batch size 1, MaximumConcurrency %s, ReportBatchItemFailures", id, p, config.Lookup("SYNC_WORKERS").Default)
		}
		if getAttArn(p["EventSourceArn"]) != ticketQ {
			t.Errorf("%s: source %v, want the ticket queue", id, p["EventSourceArn"])
		}
		if ref, _ := p["FunctionName"].(map[string]any); ref["Ref"] != workerID {
			t.Errorf("%s: function %v, want the worker %s", id, p["FunctionName"], workerID)
		}
	}
	alarmed := map[string]bool{}
	for _, a := range s.apiJS.ofType("AWS::CloudWatch::Alarm") {
		p := a.Properties
		dims, _ := p["Dimensions"].([]any)
		for _, d := range dims {
			dm, _ := d.(map[string]any)
			if ga, _ := dm["Value"].(map[string]any)["Fn::GetAtt"].([]any); len(ga) == 2 && p["MetricName"] == "ApproximateNumberOfMessagesVisible" &&
				p["Threshold"] == 0.0 && p["ComparisonOperator"] == "GreaterThanThreshold" {
				alarmed[ga[0].(string)] = true
			}
		}
	}
	if !alarmed[ticketDLQ] {
		t.Errorf("no alarm on the ticket dead-letter queue %s (alarms on %v)", ticketDLQ, alarmed)
	}
	for _, fn := range []string{dispatchID, workerID} {
		vars := s.apiJS.Resources[fn].Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
		if ref, _ := vars["SYNC_QUEUE_URL"].(map[string]any); ref["Ref"] != ticketQ {
			t.Errorf("%s: SYNC_QUEUE_URL %v, want the ticket queue's URL", fn, vars["SYNC_QUEUE_URL"])
		}
		if vars["SYNC_WORKERS"] != config.Lookup("SYNC_WORKERS").Default {
			t.Errorf("%s: SYNC_WORKERS %v", fn, vars["SYNC_WORKERS"])
		}
		if !canSend(s.apiJS, fn, ticketQ) {
			t.Errorf("%s may not send to the ticket queue", fn)
		}
	}
	if p := s.apiJS.Resources[workerID].Properties; p["ReservedConcurrentExecutions"] != nil {
		t.Errorf("worker reserved concurrency %v, want none (the mapping's MaximumConcurrency caps it)", p["ReservedConcurrentExecutions"])
	}
}

// canSend reports whether a policy attached to function fn's role allows
// sqs:SendMessage on queue q.
func canSend(t template, fn, q string) bool {
	role := ""
	if r, _ := t.Resources[fn].Properties["Role"].(map[string]any); r != nil {
		role = getAttArn(r)
	}
	for _, pol := range t.ofType("AWS::IAM::Policy") {
		roles, _ := pol.Properties["Roles"].([]any)
		attached := false
		for _, r := range roles {
			if m, _ := r.(map[string]any); m["Ref"] == role {
				attached = true
			}
		}
		if !attached {
			continue
		}
		doc, _ := pol.Properties["PolicyDocument"].(map[string]any)
		stmts, _ := doc["Statement"].([]any)
		for _, st := range stmts {
			m, _ := st.(map[string]any)
			actions := fmt.Sprint(m["Action"])
			if strings.Contains(actions, "sqs:SendMessage") && getAttArn(m["Resource"]) == q {
				return true
			}
		}
	}
	return false
}

// SyncWorkers outside config's SYNC_WORKERS range is refused at synth:
// the functions would fail at cold start (SyncWorkers=100 used to pass the
// 2..1000 of the event source, then every function refused config's 1..64).
// Both ends of config's range synthesize.
func TestSyncWorkersRangeIsConfigs(t *testing.T) {
	root := fixture(t, tableNames()...)
	spec := config.Lookup("SYNC_WORKERS")
	for n, ok := range map[int]bool{spec.Min - 1: false, spec.Min: true, spec.Max: true, spec.Max + 1: false, 1000: false} {
		must(t, "synth", func() {
			app := awscdk.NewApp(nil)
			data := NewStateful(app, "Stateful", &StatefulProps{CORSOrigins: []string{"https://example.com"}})
			_, err := NewAPI(app, "Api", &APIProps{DistDir: filepath.Join(root, "dist"), Data: data,
				Settings: Settings{"MINIO_ENDPOINT": "m:9000", "SYNC_WORKERS": strconv.Itoa(n)}, CORSOrigins: []string{"https://example.com"}})
			if (err == nil) != ok || err != nil && !strings.Contains(err.Error(), "SYNC_WORKERS") {
				t.Errorf("SyncWorkers %d: %v, want accepted=%v (config's %d..%d)", n, err, ok, spec.Min, spec.Max)
			}
		})
	}
}

func TestColdBucket(t *testing.T) {
	s := full(t)
	b, ok := s.statefulJSON.Resources[ColdBucketID]
	if !ok || b.Type != "AWS::S3::Bucket" {
		t.Fatalf("no AWS::S3::Bucket with logical ID %s", ColdBucketID)
	}
	if b.DeletionPolicy != "Retain" {
		t.Errorf("DeletionPolicy got %q, want Retain", b.DeletionPolicy)
	}
	must(t, "cold bucket private, encrypted, versioned, aborts multipart uploads", func() {
		s.stateful.HasResourceProperties(jsii.String("AWS::S3::Bucket"), &map[string]any{
			"PublicAccessBlockConfiguration": map[string]any{
				"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
			},
			"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{
				map[string]any{"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "AES256"}},
			}},
			"VersioningConfiguration": map[string]any{"Status": "Enabled"},
			"LifecycleConfiguration": map[string]any{"Rules": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{
					"AbortIncompleteMultipartUpload": map[string]any{"DaysAfterInitiation": 7},
					"Status":                         "Enabled",
				}),
			})},
		})
	})
	must(t, "cold bucket TLS only", func() {
		s.stateful.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), &map[string]any{
			"Bucket": map[string]any{"Ref": ColdBucketID},
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{
					"Effect":    "Deny",
					"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
				}),
			})},
		})
	})
}

func TestPinnedLogicalIDs(t *testing.T) {
	s := full(t)
	want := map[string]string{
		ColdBucketID:             "AWS::S3::Bucket",
		SecretKeySecretID:        "AWS::SecretsManager::Secret",
		MinioCredentialsSecretID: "AWS::SecretsManager::Secret",
		DatabaseURLSecretID:      "AWS::SecretsManager::Secret",
		SyncTriggerTokenSecretID: "AWS::SecretsManager::Secret",
		SMTPURLSecretID:          "AWS::SecretsManager::Secret",
	}
	// The literal IDs too: renaming a constant must fail here.
	for _, id := range []string{"ColdBucket", "SecretKeySecret", "MinioCredentialsSecret", "DatabaseUrlSecret", "SyncTriggerTokenSecret", "SmtpUrlSecret"} {
		if _, ok := want[id]; !ok {
			t.Errorf("logical ID %s is no longer pinned", id)
		}
	}
	for id, typ := range want {
		r, ok := s.statefulJSON.Resources[id]
		if !ok || r.Type != typ {
			t.Errorf("logical ID %s: got %q, want a %s", id, r.Type, typ)
			continue
		}
		if r.DeletionPolicy != "Retain" {
			t.Errorf("%s: DeletionPolicy got %q, want Retain", id, r.DeletionPolicy)
		}
	}
	for id, r := range s.statefulJSON.ofType("AWS::SecretsManager::Secret") {
		if _, plain := r.Properties["SecretString"]; plain {
			t.Errorf("%s: secret value in the template", id)
		}
	}
}

func TestCreateDatabase(t *testing.T) {
	s := synth(t, fixture(t, tableNames()...), StatefulProps{CreateDatabase: true})
	for id, typ := range map[string]string{DatabaseID: "AWS::RDS::DBInstance", DatabaseSecretID: "AWS::SecretsManager::Secret"} {
		r, ok := s.statefulJSON.Resources[id]
		if !ok || r.Type != typ {
			t.Errorf("logical ID %s: got %q, want a %s", id, r.Type, typ)
		}
	}
	if r := s.statefulJSON.Resources[DatabaseID]; r.DeletionPolicy != "Retain" || r.Properties["StorageEncrypted"] != true || r.Properties["PubliclyAccessible"] == true {
		t.Errorf("database: DeletionPolicy %q StorageEncrypted %v PubliclyAccessible %v, want Retain, true, not true",
			r.DeletionPolicy, r.Properties["StorageEncrypted"], r.Properties["PubliclyAccessible"])
	}
	if _, ok := s.statefulJSON.Resources[DatabaseURLSecretID]; ok {
		t.Errorf("placeholder %s created although the database secret is used", DatabaseURLSecretID)
	}
	for name, id := range functionsByName(t, s.apiJS) {
		if s.apiJS.Resources[id].Properties["VpcConfig"] == nil {
			t.Errorf("%s: not in the database's VPC", name)
		}
	}
}

// statements returns every statement of t's IAM, bucket and queue policies.
func statements(t template) []map[string]any {
	var out []map[string]any
	for _, r := range t.Resources {
		if r.Type != "AWS::IAM::Policy" && r.Type != "AWS::IAM::ManagedPolicy" && r.Type != "AWS::S3::BucketPolicy" && r.Type != "AWS::SQS::QueuePolicy" {
			continue
		}
		doc, _ := r.Properties["PolicyDocument"].(map[string]any)
		sts, _ := doc["Statement"].([]any)
		for _, st := range sts {
			if m, ok := st.(map[string]any); ok {
				out = append(out, m)
			}
		}
	}
	return out
}

func actions(st map[string]any) []string {
	switch a := st["Action"].(type) {
	case string:
		return []string{a}
	case []any:
		var out []string
		for _, x := range a {
			s, _ := x.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}

func TestNoWildcardActions(t *testing.T) {
	s := full(t)
	allows := 0
	for _, tmpl := range []template{s.apiJS, s.statefulJSON, s.webJSON} {
		for _, st := range statements(tmpl) {
			if st["Effect"] != "Allow" {
				continue // enforceSSL denies s3:* to non-TLS requests: that is the point
			}
			allows++
			for _, a := range actions(st) {
				if a == "*" || a == "s3:*" {
					t.Errorf("statement %v allows %q", st, a)
				}
			}
		}
	}
	if allows < len(httpapi.Routes) {
		t.Errorf("found %d Allow statements, fewer than the functions: the walk is broken", allows)
	}
}

// The cold-bucket grants are the table's tier access, least privilege.
func TestColdBucketGrantsAreTheTable(t *testing.T) {
	s := full(t)
	fnIDs := functionsByName(t, s.apiJS)
	// Which S3 actions on the cold bucket each function's role has.
	roleOf := map[string]string{} // role logical ID → function name
	for name, id := range fnIDs {
		roleOf[getAttArn(s.apiJS.Resources[id].Properties["Role"])] = name
	}
	s3Actions := map[string][]string{}
	for _, r := range s.apiJS.ofType("AWS::IAM::Policy") {
		roles, _ := r.Properties["Roles"].([]any)
		doc, _ := r.Properties["PolicyDocument"].(map[string]any)
		sts, _ := doc["Statement"].([]any)
		for _, role := range roles {
			ref, _ := role.(map[string]any)
			name, ok := roleOf[fmt.Sprint(ref["Ref"])]
			if !ok {
				continue
			}
			for _, st := range sts {
				m, _ := st.(map[string]any)
				res, _ := json.Marshal(m["Resource"])
				if strings.Contains(string(res), "ColdBucket") {
					s3Actions[name] = append(s3Actions[name], actions(m)...)
				}
			}
		}
	}
	if len(roleOf) != len(fnIDs) {
		t.Fatalf("got %d roles for %d functions", len(roleOf), len(fnIDs))
	}
	has := func(name, action string) bool { return slices.Contains(s3Actions[name], action) }
	// Each function's grants are its table entry's cold access.
	for _, f := range httpapi.Functions {
		want := [3]bool{f.Cold.Has(httpapi.Read), f.Cold.Has(httpapi.Delete), f.Cold.Has(httpapi.Write)}
		got := [3]bool{has(f.Name, "s3:GetObject*"), has(f.Name, "s3:DeleteObject*"), has(f.Name, "s3:PutObject")}
		if got != want {
			t.Errorf("%s: cold bucket read/delete/write got %v, want %v (%s; actions %v)", f.Name, got, want, f.Cold, s3Actions[f.Name])
		}
	}
	// The nightly path: the dispatcher's maintenance purges (issue 20).
	if !has(SyncDispatchFunction, "s3:DeleteObject*") || has(SyncDispatchFunction, "s3:PutObject") {
		t.Errorf("sync-dispatch: actions %v, want read and delete, no put", s3Actions[SyncDispatchFunction])
	}
}

func TestWebStack(t *testing.T) {
	s := full(t)
	must(t, "site bucket private", func() {
		s.web.HasResourceProperties(jsii.String("AWS::S3::Bucket"), &map[string]any{
			"PublicAccessBlockConfiguration": map[string]any{
				"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
			},
		})
	})
	must(t, "origin access control", func() {
		s.web.ResourceCountIs(jsii.String("AWS::CloudFront::OriginAccessControl"), jsii.Number(1))
	})
	must(t, "SPA fallback by a viewer-request function, not error responses", func() {
		s.web.HasResourceProperties(jsii.String("AWS::CloudFront::Function"), &map[string]any{
			"FunctionCode": hosted.SPARewriteFunction,
		})
		s.web.HasResourceProperties(jsii.String("AWS::CloudFront::Distribution"), &map[string]any{
			"DistributionConfig": assertions.Match_ObjectLike(&map[string]any{
				"DefaultRootObject":    "index.html",
				"CustomErrorResponses": assertions.Match_Absent(),
				"DefaultCacheBehavior": assertions.Match_ObjectLike(&map[string]any{
					"FunctionAssociations": []any{assertions.Match_ObjectLike(&map[string]any{"EventType": "viewer-request"})},
				}),
			}),
		})
	})
	must(t, "/api/* from the HTTP API: no caching, every viewer header but Host", func() {
		s.web.HasResourceProperties(jsii.String("AWS::CloudFront::Distribution"), &map[string]any{
			"DistributionConfig": assertions.Match_ObjectLike(&map[string]any{
				"CacheBehaviors": []any{assertions.Match_ObjectLike(&map[string]any{
					"PathPattern":           hosted.APIPathPattern,
					"AllowedMethods":        []any{"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"},
					"CachePolicyId":         "4135ea2d-6df8-44a3-9df3-4b5a84be39ad", // Managed-CachingDisabled
					"OriginRequestPolicyId": "b689b0a8-53d0-40ab-baf2-68738e2966ac", // Managed-AllViewerExceptHostHeader
					"ViewerProtocolPolicy":  "https-only",
				})},
				"Origins": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
					"DomainName":         "abc123.execute-api.us-east-1.amazonaws.com",
					"CustomOriginConfig": assertions.Match_ObjectLike(&map[string]any{"OriginProtocolPolicy": "https-only"}),
				})}),
			}),
		})
	})
	must(t, "SPA files deployed", func() {
		s.web.ResourceCountIs(jsii.String("Custom::CDKBucketDeployment"), jsii.Number(1))
	})
}

func TestMissingBootstrap(t *testing.T) {
	root := fixture(t, tableNames()...)
	if err := os.RemoveAll(filepath.Join(root, "dist", httpapi.Functions[0].Name)); err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(nil)
	data := NewStateful(app, "Stateful", nil)
	_, err := NewAPI(app, "Api", &APIProps{DistDir: filepath.Join(root, "dist"), Data: data, Settings: testSettings})
	if err == nil || !strings.Contains(err.Error(), "make lambdas") {
		t.Errorf("got %v, want an error telling to run make lambdas", err)
	}
}

// TestMigrateTrigger: every deploy invokes functions/migrate through one CDK
// Trigger, after the function and the stateful stack, and waits for it.
func TestMigrateTrigger(t *testing.T) {
	s := full(t)
	migrateID := functionsByName(t, s.apiJS)[MigrateFunction]
	if migrateID == "" {
		t.Fatal("no Lambda function for functions/migrate")
	}
	trig := s.apiJS.ofType("Custom::Trigger")
	if len(trig) != 1 {
		t.Fatalf("got %d Custom::Trigger resources, want 1", len(trig))
	}
	for id, r := range trig {
		handler := getAttArn(r.Properties["HandlerArn"])
		if ref, _ := r.Properties["HandlerArn"].(map[string]any); handler == "" && ref != nil {
			// {"Ref": <version>}: the version of the migrate function.
			vid, _ := ref["Ref"].(string)
			v := s.apiJS.Resources[vid]
			fn, _ := v.Properties["FunctionName"].(map[string]any)
			if v.Type == "AWS::Lambda::Version" && fn != nil {
				handler, _ = fn["Ref"].(string)
			}
		}
		if handler != migrateID {
			t.Errorf("trigger %s invokes %v, want the migrate function %s", id, r.Properties["HandlerArn"], migrateID)
		}
		if r.Properties["InvocationType"] != "RequestResponse" {
			t.Errorf("trigger %s InvocationType %v: the deploy must wait for the migrations", id, r.Properties["InvocationType"])
		}
		deps := fmt.Sprint(r.DependsOn)
		if !strings.Contains(deps, migrateID) {
			t.Errorf("trigger %s DependsOn %v, want the migrate function %s", id, r.DependsOn, migrateID)
		}
	}
	// Nothing routes to it.
	for _, r := range s.apiJS.ofType("AWS::ApiGatewayV2::Integration") {
		if getAttArn(r.Properties["IntegrationUri"]) == migrateID {
			t.Errorf("an HTTP API integration targets the migrate function")
		}
	}
	// Its role reads the database URL secret.
	role := getAttArn(s.apiJS.Resources[migrateID].Properties["Role"])
	readsDB := false
	for _, p := range s.apiJS.ofType("AWS::IAM::Policy") {
		if !strings.Contains(fmt.Sprint(p.Properties["Roles"]), role) {
			continue
		}
		doc, _ := p.Properties["PolicyDocument"].(map[string]any)
		stmts, _ := doc["Statement"].([]any)
		for _, st := range stmts {
			m, _ := st.(map[string]any)
			if strings.Contains(fmt.Sprint(m["Action"]), "secretsmanager:GetSecretValue") && strings.Contains(fmt.Sprint(m["Resource"]), "DatabaseUrlSecret") {
				readsDB = true
			}
		}
	}
	if role == "" || !readsDB {
		t.Errorf("the migrate function's role %q cannot read the database URL secret", role)
	}
}
