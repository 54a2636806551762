package stacks

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/triggers"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-storage/hybrid-storage/shared/hosted"
	"github.com/hybrid-storage/hybrid-storage/shared/httpapi"
)

// Environment variables carrying the ARNs of the secrets. The functions read
// the secret values once at cold start (SECRET_KEY, DATABASE_URL,
// MINIO_ACCESS_KEY/MINIO_SECRET_KEY, SYNC_TRIGGER_TOKEN).
const (
	EnvSecretKeySecretARN        = "SECRET_KEY_SECRET_ARN"
	EnvDatabaseURLSecretARN      = "DATABASE_URL_SECRET_ARN"
	EnvMinioCredentialsSecretARN = "MINIO_CREDENTIALS_SECRET_ARN"
	EnvSyncTriggerTokenSecretARN = "SYNC_TRIGGER_TOKEN_SECRET_ARN"
)

// NightlySchedule is when EventBridge invokes the sync function: 00:00 UTC.
var NightlySchedule = awsevents.CronOptions{Minute: jsii.String("0"), Hour: jsii.String("0")}

// Throttle is an API Gateway token bucket: steady requests per second and burst.
type Throttle struct {
	Rate  float64
	Burst float64
}

// Settings is the plain (non-secret) configuration of the functions.
type Settings struct {
	MinioEndpoint       string // host:port of the hot tier, reachable from Lambda
	MinioPublicEndpoint string // host:port browsers use for presigned URLs; empty: MinioEndpoint
	MinioBucket         string
	MinioSecure         bool

	AccessTokenExpireMinutes int    // default 1440
	MaxFileSizeMB            int    // default 100
	AllowedContentTypes      string // comma-separated; empty allows all
	SyncBatchSize            int    // default 10
	SyncMaxRetries           int    // default 3
	DeleteFromMinioAfterSync bool
	SyncVerify               string // checksum (default) or readback
	ColdStorageClass         string // default STANDARD
	// SyncWorkers is the sync worker function's MaximumConcurrency on its
	// queue (SYNC_WORKERS): size it to the connections PostgreSQL takes.
	// Default hosted.DefaultSyncWorkers; AWS accepts 2..1000.
	SyncWorkers int
}

// MinioPublic is the hot tier's endpoint for browsers: MinioPublicEndpoint,
// or MinioEndpoint when it is empty.
func (s Settings) MinioPublic() string {
	if s.MinioPublicEndpoint != "" {
		return s.MinioPublicEndpoint
	}
	return s.MinioEndpoint
}

// APIProps configures the API stack.
type APIProps struct {
	awscdk.StackProps

	FunctionsDir string          // the repo's functions/ directory
	DistDir      string          // holds <name>/bootstrap for every function (make lambdas)
	Routes       []httpapi.Route // normally httpapi.Routes
	Data         *Stateful
	Settings     Settings

	CORSOrigins  []string // the SPA origin(s), e.g. https://dxxxx.cloudfront.net
	Throttle     Throttle // stage default; zero: 50 rps, burst 100
	AuthThrottle Throttle // signup/login routes, a cost guard only (see NewAPI); zero: 50 rps, burst 100
	LogRetention awslogs.RetentionDays
}

// API is the HTTP API and its functions.
type API struct {
	awscdk.Stack
	HTTPAPI   awsapigatewayv2.HttpApi
	Functions map[string]awslambda.Function // by functions/ directory name
	SyncRule  awsevents.Rule                // nil when functions/sync does not exist yet
	SyncDLQ   awssqs.Queue                  // the rule target's dead-letter queue
	// The fan-out (functions/sync-dispatch and functions/sync-worker); nil without them.
	SyncQueue     awssqs.Queue          // tickets: the worker's event source
	SyncTicketDLQ awssqs.Queue          // tickets delivered SyncMaxReceiveCount times
	SyncAlarms    []awscloudwatch.Alarm // a message in either dead-letter queue; a failed run, sync lag, no run for 26 h
	APIErrorAlarm awscloudwatch.Alarm   // the API's 5xx rate
	Migrate       triggers.Trigger      // runs functions/migrate on every deploy; nil without functions/migrate
	URL           *string
}

// NewAPI builds the API stack: one Lambda function per functions/<dir>, the
// HTTP API routes generated from props.Routes, the $default stage with
// throttling and access logs, the nightly schedule of the sync function
// when functions/sync exists, and a CDK Trigger running functions/migrate
// (the database migrations) on every deploy when it exists. It returns an error when the functions
// directory and the route table disagree or a bootstrap is missing.
func NewAPI(scope constructs.Construct, id string, props *APIProps) (*API, error) {
	if props.Data == nil {
		return nil, fmt.Errorf("api stack: Data (the stateful stack) is required")
	}
	fns, err := Discover(props.FunctionsDir, props.Routes)
	if err != nil {
		return nil, fmt.Errorf("api stack: %w", err)
	}
	for _, f := range fns {
		bootstrap := filepath.Join(props.DistDir, f.Name, "bootstrap")
		if _, err := os.Stat(bootstrap); err != nil {
			return nil, fmt.Errorf("api stack: function %s: %w (run make lambdas)", f.Name, err)
		}
	}
	throttle := withDefault(props.Throttle, Throttle{Rate: 50, Burst: 100})
	// The auth routes' throttle is one bucket shared by every caller (HTTP
	// APIs cannot have AWS WAF, so there is no per-IP rule to put here): a
	// cost guard only, high enough that users meet the per-client limit the
	// functions count in PostgreSQL first.
	authThrottle := withDefault(props.AuthThrottle, Throttle{Rate: 50, Burst: 100})
	retention := props.LogRetention
	if retention == "" {
		retention = awslogs.RetentionDays_ONE_MONTH
	}

	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	a := &API{Stack: stack, Functions: map[string]awslambda.Function{}}

	cors := hosted.APICORS(props.CORSOrigins) // make dev-aws's gateway answers the same
	methods := make([]awsapigatewayv2.CorsHttpMethod, len(cors.AllowedMethods))
	for i, m := range cors.AllowedMethods {
		methods[i] = awsapigatewayv2.CorsHttpMethod(m)
	}
	a.HTTPAPI = awsapigatewayv2.NewHttpApi(stack, jsii.String("HttpApi"), &awsapigatewayv2.HttpApiProps{
		Description:        jsii.String("hybrid-storage API: one Lambda function per route group"),
		CreateDefaultStage: jsii.Bool(false), // the stage below sets throttling per route
		CorsPreflight: &awsapigatewayv2.CorsPreflightOptions{
			AllowOrigins:  jsii.Strings(cors.AllowedOrigins...),
			AllowMethods:  &methods,
			AllowHeaders:  jsii.Strings(cors.AllowedHeaders...),
			ExposeHeaders: jsii.Strings(cors.ExposeHeaders...),
			MaxAge:        awscdk.Duration_Seconds(jsii.Number(float64(cors.MaxAgeSeconds))),
		},
	})

	workers := orDefault(props.Settings.SyncWorkers, hosted.DefaultSyncWorkers)
	if workers < 2 || workers > 1000 {
		return nil, fmt.Errorf("api stack: SyncWorkers %d: an SQS event source's MaximumConcurrency is 2..1000", workers)
	}
	queueURL := ""
	if slices.ContainsFunc(fns, func(f Function) bool { return f.Queued }) {
		a.SyncTicketDLQ = awssqs.NewQueue(stack, jsii.String("SyncTicketDeadLetterQueue"), &awssqs.QueueProps{
			Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
			EnforceSSL:      jsii.Bool(true),
			RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		})
		a.SyncQueue = awssqs.NewQueue(stack, jsii.String("SyncTicketQueue"), &awssqs.QueueProps{
			Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
			EnforceSSL:        jsii.Bool(true),
			VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(hosted.SyncQueueVisibility.Seconds())),
			RetentionPeriod:   awscdk.Duration_Days(jsii.Number(1)),
			DeadLetterQueue: &awssqs.DeadLetterQueue{
				Queue:           a.SyncTicketDLQ,
				MaxReceiveCount: jsii.Number(hosted.SyncMaxReceiveCount),
			},
		})
		queueURL = *a.SyncQueue.QueueUrl()
	}
	env := functionEnv(props, workers, queueURL)
	var routeResources []constructs.IDependable
	authRouteSettings := map[string]interface{}{}
	for _, f := range fns {
		fn := newGoFunction(stack, f, props, env, retention)
		a.Functions[f.Name] = fn
		if len(f.Routes) == 0 {
			continue
		}
		integration := awsapigatewayv2integrations.NewHttpLambdaIntegration(
			jsii.String(camel(f.Name)+"Integration"), fn,
			&awsapigatewayv2integrations.HttpLambdaIntegrationProps{
				PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0(),
			})
		for _, r := range f.Routes {
			routes := a.HTTPAPI.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
				Path:        jsii.String(r.Path),
				Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod(r.Method)},
				Integration: integration,
			})
			for _, hr := range *routes {
				routeResources = append(routeResources, hr)
			}
			if isAuthRoute(r) {
				// RouteSettings is a JSON map: CloudFormation's own key names.
				authRouteSettings[routeKey(r)] = map[string]interface{}{
					"ThrottlingRateLimit":  authThrottle.Rate,
					"ThrottlingBurstLimit": authThrottle.Burst,
				}
			}
		}
	}

	accessLogs := awslogs.NewLogGroup(stack, jsii.String("AccessLogs"), &awslogs.LogGroupProps{
		Retention:     retention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	stage := awsapigatewayv2.NewCfnStage(stack, jsii.String("DefaultStage"), &awsapigatewayv2.CfnStageProps{
		ApiId:      a.HTTPAPI.ApiId(),
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		DefaultRouteSettings: &awsapigatewayv2.CfnStage_RouteSettingsProperty{
			ThrottlingRateLimit:  jsii.Number(throttle.Rate),
			ThrottlingBurstLimit: jsii.Number(throttle.Burst),
		},
		RouteSettings: authRouteSettings,
		AccessLogSettings: &awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
			DestinationArn: accessLogs.LogGroupArn(),
			Format: jsii.String(`{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",` +
				`"time":"$context.requestTime","routeKey":"$context.routeKey","status":"$context.status",` +
				`"latencyMs":"$context.responseLatency","integrationError":"$context.integrationErrorMessage"}`),
		},
	})
	// Route settings name routes by key: the routes must exist first.
	stage.Node().AddDependency(routeResources...)
	a.URL = a.HTTPAPI.ApiEndpoint()
	a.APIErrorAlarm = apiErrorAlarm(stack, a.HTTPAPI.ApiId())

	var scheduled awslambda.Function
	for _, f := range fns {
		switch {
		case f.Scheduled:
			scheduled = a.Functions[f.Name]
		case f.Queued:
			// One ticket per invocation, at most SYNC_WORKERS at once; a
			// failed ticket is reported, not the batch.
			a.Functions[f.Name].AddEventSource(awslambdaeventsources.NewSqsEventSource(a.SyncQueue, &awslambdaeventsources.SqsEventSourceProps{
				BatchSize:               jsii.Number(1),
				MaxConcurrency:          jsii.Number(float64(workers)),
				ReportBatchItemFailures: jsii.Bool(true),
			}))
			a.SyncQueue.GrantSendMessages(a.Functions[f.Name]) // successor tickets
		}
	}
	if a.SyncQueue != nil {
		a.SyncQueue.GrantSendMessages(a.Functions[SyncDispatchFunction])
	}
	if fn := scheduled; fn != nil {
		a.SyncDLQ = awssqs.NewQueue(stack, jsii.String("SyncDeadLetterQueue"), &awssqs.QueueProps{
			Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
			EnforceSSL:      jsii.Bool(true),
			RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		})
		a.SyncRule = awsevents.NewRule(stack, jsii.String("NightlySync"), &awsevents.RuleProps{
			Description: jsii.String("Moves files from the hot tier (MinIO) to the cold tier (S3) at 00:00 UTC"),
			Schedule:    awsevents.Schedule_Cron(&NightlySchedule),
		})
		a.SyncRule.AddTarget(awseventstargets.NewLambdaFunction(fn, &awseventstargets.LambdaFunctionProps{
			RetryAttempts:   jsii.Number(2),
			MaxEventAge:     awscdk.Duration_Hours(jsii.Number(2)),
			DeadLetterQueue: a.SyncDLQ,
		}))
		dlqs := map[string]awssqs.Queue{"SyncDeadLetterAlarm": a.SyncDLQ}
		if a.SyncTicketDLQ != nil {
			dlqs["SyncTicketDeadLetterAlarm"] = a.SyncTicketDLQ
		}
		for _, id := range slices.Sorted(maps.Keys(dlqs)) {
			a.SyncAlarms = append(a.SyncAlarms, awscloudwatch.NewAlarm(stack, jsii.String(id), &awscloudwatch.AlarmProps{
				AlarmDescription: jsii.String("A nightly sync invocation or ticket failed for good and waits in a dead-letter queue"),
				Metric: dlqs[id].MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
					Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Maximum"),
				}),
				Threshold:          jsii.Number(0),
				ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
				EvaluationPeriods:  jsii.Number(1),
				TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
			}))
		}
		a.SyncAlarms = append(a.SyncAlarms, syncRunAlarms(stack)...)
	} else {
		awscdk.Annotations_Of(stack).AddWarningV2(jsii.String("hybrid-storage:no-sync"),
			jsii.String(fmt.Sprintf("%s has no %s/: no nightly schedule is created",
				props.FunctionsDir, SyncFunction)), nil)
	}

	if fn, ok := a.Functions[MigrateFunction]; ok {
		// Every deploy applies the pending migrations once the migrate function
		// and the stateful stack (database, secrets) are in place; a failed
		// migration fails the deploy.
		after := []constructs.Construct{fn, props.Data.Stack}
		if props.Data.Database != nil {
			after = append(after, props.Data.Database)
		}
		a.Migrate = triggers.NewTrigger(stack, jsii.String("MigrateOnDeploy"), &triggers.TriggerProps{
			Handler:                fn,
			ExecuteAfter:           &after,
			ExecuteOnHandlerChange: jsii.Bool(true),
			InvocationType:         triggers.InvocationType_REQUEST_RESPONSE,
			Timeout:                awscdk.Duration_Minutes(jsii.Number(5)),
		})
	} else {
		awscdk.Annotations_Of(stack).AddWarningV2(jsii.String("hybrid-storage:no-migrate"),
			jsii.String(fmt.Sprintf("%s has no %s/: nothing runs the database migrations on deploy",
				props.FunctionsDir, MigrateFunction)), nil)
	}

	awscdk.NewCfnOutput(stack, jsii.String("ApiUrl"), &awscdk.CfnOutputProps{Value: a.URL})
	return a, nil
}

// newGoFunction is the one helper that builds every function: a Go binary
// named bootstrap (make lambdas: linux/arm64, -tags lambda.norpc, -s -w) on
// provided.al2023, with its log group, secrets and cold-bucket grants.
func newGoFunction(scope constructs.Construct, f Function, props *APIProps, env map[string]*string, retention awslogs.RetentionDays) awslambda.Function {
	id := camel(f.Name)
	logs := awslogs.NewLogGroup(scope, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention:     retention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	auth := slices.ContainsFunc(f.Routes, isAuthRoute)
	set := hosted.FunctionSettings(f.Name, auth) // memory, timeout, reserved concurrency
	memory, timeout := float64(set.MemoryMB), awscdk.Duration_Seconds(jsii.Number(set.Timeout.Seconds()))
	var reserved *float64
	if set.ReservedConcurrency > 0 {
		reserved = jsii.Number(float64(set.ReservedConcurrency))
	}
	fnProps := &awslambda.FunctionProps{
		Description:                  jsii.String(describe(f)),
		Runtime:                      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:                 awslambda.Architecture_ARM_64(),
		Handler:                      jsii.String("bootstrap"),
		Code:                         awslambda.Code_FromAsset(jsii.String(filepath.Join(props.DistDir, f.Name)), nil),
		MemorySize:                   jsii.Number(memory),
		Timeout:                      timeout,
		ReservedConcurrentExecutions: reserved,
		Environment:                  &env,
		LogGroup:                     logs,
		LoggingFormat:                awslambda.LoggingFormat_JSON,
	}
	if d := props.Data; d.Vpc != nil {
		fnProps.Vpc = d.Vpc
		fnProps.VpcSubnets = &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS}
		fnProps.SecurityGroups = &[]awsec2.ISecurityGroup{d.AppSecurityGroup}
	}
	fn := awslambda.NewFunction(scope, jsii.String(id), fnProps)
	awscdk.Tags_Of(fn).Add(jsii.String(FunctionTag), jsii.String(f.Name), nil)

	// Every function loads the whole configuration at cold start, so every
	// function reads every secret.
	d := props.Data
	for _, s := range []awssecretsmanager.ISecret{d.SecretKey, d.DatabaseURL, d.MinioCredentials, d.SyncTriggerToken} {
		s.GrantRead(fn, nil)
	}
	switch coldAccessFor(f) {
	case coldRead:
		d.ColdBucket.GrantRead(fn, nil)
	case coldReadDelete:
		d.ColdBucket.GrantRead(fn, nil)
		d.ColdBucket.GrantDelete(fn, nil)
	case coldReadWrite:
		d.ColdBucket.GrantReadWrite(fn, nil)
	}
	return fn
}

// FunctionTag is the tag naming the functions/ directory of each function.
const FunctionTag = "hybrid-storage:function"

// functionEnv is the environment every function gets. Secrets are passed by
// ARN only; AWS_REGION and the credentials come from the Lambda runtime.
func functionEnv(props *APIProps, workers int, queueURL string) map[string]*string {
	s := props.Settings
	env := map[string]string{
		EnvSecretKeySecretARN:          *props.Data.SecretKey.SecretArn(),
		EnvDatabaseURLSecretARN:        *props.Data.DatabaseURL.SecretArn(),
		EnvMinioCredentialsSecretARN:   *props.Data.MinioCredentials.SecretArn(),
		EnvSyncTriggerTokenSecretARN:   *props.Data.SyncTriggerToken.SecretArn(),
		"ACCESS_TOKEN_EXPIRE_MINUTES":  strconv.Itoa(orDefault(s.AccessTokenExpireMinutes, 1440)),
		"MINIO_ENDPOINT":               s.MinioEndpoint,
		"MINIO_PUBLIC_ENDPOINT":        s.MinioPublic(),
		"MINIO_BUCKET":                 s.MinioBucket,
		"MINIO_SECURE":                 strconv.FormatBool(s.MinioSecure),
		"S3_BUCKET":                    *props.Data.ColdBucket.BucketName(),
		"MAX_FILE_SIZE_MB":             strconv.Itoa(orDefault(s.MaxFileSizeMB, 100)),
		"SYNC_BATCH_SIZE":              strconv.Itoa(orDefault(s.SyncBatchSize, 10)),
		"SYNC_MAX_RETRIES":             strconv.Itoa(orDefault(s.SyncMaxRetries, 3)),
		"DELETE_FROM_MINIO_AFTER_SYNC": strconv.FormatBool(s.DeleteFromMinioAfterSync),
		"SYNC_VERIFY":                  orDefaultString(s.SyncVerify, "checksum"),
		"COLD_STORAGE_CLASS":           orDefaultString(s.ColdStorageClass, "STANDARD"),
		"SYNC_WORKERS":                 strconv.Itoa(workers),
		"SYNC_QUEUE_URL":               queueURL, // empty without the fan-out
		"CORS_ORIGINS":                 strings.Join(props.CORSOrigins, ","),
		"ALLOWED_CONTENT_TYPES":        s.AllowedContentTypes, // empty: any type
	}
	for k, v := range hosted.FunctionEnv { // ALGORITHM, DOWNLOAD_MODE=redirect, ...
		env[k] = v
	}
	out := make(map[string]*string, len(env))
	for k, v := range env {
		out[k] = jsii.String(v)
	}
	return out
}

func describe(f Function) string {
	var parts []string
	for _, r := range f.Routes {
		parts = append(parts, routeKey(r))
	}
	if f.Scheduled {
		parts = append(parts, "nightly schedule")
	}
	if f.Queued {
		parts = append(parts, "sync tickets (SQS)")
	}
	if f.OnDeploy {
		parts = append(parts, "database migrations on every deploy")
	}
	return "hybrid-storage " + f.Name + ": " + strings.Join(parts, ", ")
}

// camel turns a functions/ directory name into a construct ID: list-files → ListFiles.
func camel(name string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == '-' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func withDefault(t, def Throttle) Throttle {
	if t.Rate == 0 && t.Burst == 0 {
		return def
	}
	return t
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func orDefaultString(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
