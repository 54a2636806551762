package stacks

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
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
	EnvSMTPURLSecretARN          = "SMTP_URL_SECRET_ARN"
)

// Throttle is an API Gateway token bucket: steady requests per second and burst.
type Throttle struct {
	Rate  float64
	Burst float64
}

// APIProps configures the API stack.
type APIProps struct {
	awscdk.StackProps

	DistDir  string // holds <name>/bootstrap for every function of httpapi.Functions (make lambdas)
	Data     *Stateful
	Settings Settings

	CORSOrigins  []string // the SPA origin(s), e.g. https://dxxxx.cloudfront.net
	Throttle     Throttle // stage default; zero: hosted.ThrottleRate, hosted.ThrottleBurst
	AuthThrottle Throttle // the AuthLimit routes without auth (signup, login), a cost guard only (see NewAPI); zero: hosted.AuthThrottle*
	LogRetention awslogs.RetentionDays
}

// API is the HTTP API and its functions.
type API struct {
	awscdk.Stack
	HTTPAPI   awsapigatewayv2.HttpApi
	Functions map[string]awslambda.Function // by name (httpapi.Functions; the construct ID)
	SyncRule  awsevents.Rule                // the nightly schedule
	SyncDLQ   awssqs.Queue                  // the rule target's dead-letter queue
	// The fan-out (functions/sync-dispatch and functions/sync-worker).
	SyncQueue     awssqs.Queue          // tickets: the worker's event source
	SyncTicketDLQ awssqs.Queue          // tickets delivered SyncMaxReceiveCount times
	SyncAlarms    []awscloudwatch.Alarm // a message in either dead-letter queue; a failed run, sync lag, no run for 26 h
	APIErrorAlarm awscloudwatch.Alarm   // the API's 5xx rate
	Migrate       triggers.Trigger      // runs the Deploy function (functions/migrate) on every deploy
	URL           *string
}

// NewAPI builds the API stack from the function table
// (httpapi.Functions): one construct per entry, named by the entry's name,
// with the grants its tier access declares; its HTTP API route, or the
// nightly schedule, the ticket queue's event source or the deploy's
// Trigger; the $default stage with throttling and access logs. It returns
// an error when a setting is one config.Load would refuse or a bootstrap
// is missing.
func NewAPI(scope constructs.Construct, id string, props *APIProps) (*API, error) {
	if props.Data == nil {
		return nil, fmt.Errorf("api stack: Data (the stateful stack) is required")
	}
	if err := props.Settings.Check(); err != nil {
		return nil, fmt.Errorf("api stack: %w", err)
	}
	for _, f := range httpapi.Functions {
		bootstrap := filepath.Join(props.DistDir, f.Name, "bootstrap")
		if _, err := os.Stat(bootstrap); err != nil {
			return nil, fmt.Errorf("api stack: function %s: %w (run make lambdas)", f.Name, err)
		}
	}
	throttle := withDefault(props.Throttle, Throttle{Rate: hosted.ThrottleRate, Burst: hosted.ThrottleBurst})
	// The auth routes' throttle is one bucket shared by every caller (HTTP
	// APIs cannot have AWS WAF, so there is no per-IP rule to put here): a
	// cost guard only, high enough that users meet the per-client limit the
	// functions count in PostgreSQL first.
	authThrottle := withDefault(props.AuthThrottle, Throttle{Rate: hosted.AuthThrottleRate, Burst: hosted.AuthThrottleBurst})
	retention := props.LogRetention
	if retention == "" {
		retention = awslogs.RetentionDays_ONE_MONTH
	}

	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	a := &API{Stack: stack, Functions: map[string]awslambda.Function{}}

	cors := httpapi.CORS(props.CORSOrigins) // the local server and make dev-aws's gateway answer the same
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

	// The ticket queue of the sync fan-out (the Tickets trigger).
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
	a.SyncDLQ = awssqs.NewQueue(stack, jsii.String("SyncDeadLetterQueue"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
	a.SyncRule = awsevents.NewRule(stack, jsii.String("NightlySync"), &awsevents.RuleProps{
		Description: jsii.String("Moves files from the hot tier (MinIO) to the cold tier (S3) at 00:00 UTC"),
		Schedule:    awsevents.Schedule_Expression(jsii.String(httpapi.NightlyCron)),
	})

	env := functionEnv(props, *a.SyncQueue.QueueUrl())
	var routeResources []constructs.IDependable
	authRouteSettings := map[string]interface{}{}
	for _, f := range httpapi.Functions {
		fn := newGoFunction(stack, f, props, env, retention)
		a.Functions[f.Name] = fn
		if f.Lambda == httpapi.LambdaDispatch || f.Lambda == httpapi.LambdaWorker {
			a.SyncQueue.GrantSendMessages(fn) // the night's tickets; a worker's successors
		}
		switch f.Trigger {
		case httpapi.Nightly:
			a.SyncRule.AddTarget(awseventstargets.NewLambdaFunction(fn, &awseventstargets.LambdaFunctionProps{
				RetryAttempts:   jsii.Number(2),
				MaxEventAge:     awscdk.Duration_Hours(jsii.Number(2)),
				DeadLetterQueue: a.SyncDLQ,
			}))
		case httpapi.Tickets:
			// One ticket per invocation, at most SYNC_WORKERS at once; a
			// failed ticket is reported, not the batch.
			fn.AddEventSource(awslambdaeventsources.NewSqsEventSource(a.SyncQueue, &awslambdaeventsources.SqsEventSourceProps{
				BatchSize:               jsii.Number(1),
				MaxConcurrency:          jsii.Number(float64(props.Settings.SyncWorkers())),
				ReportBatchItemFailures: jsii.Bool(true),
			}))
		case httpapi.Deploy:
			// Every deploy runs it (the migrations) once the function and the
			// stateful stack (database, secrets) are in place; a failure fails
			// the deploy.
			after := []constructs.Construct{fn, props.Data.Stack}
			if props.Data.Database != nil {
				after = append(after, props.Data.Database)
			}
			a.Migrate = triggers.NewTrigger(stack, jsii.String(f.Name+"-on-deploy"), &triggers.TriggerProps{
				Handler:                fn,
				ExecuteAfter:           &after,
				ExecuteOnHandlerChange: jsii.Bool(true),
				InvocationType:         triggers.InvocationType_REQUEST_RESPONSE,
				Timeout:                awscdk.Duration_Seconds(jsii.Number(f.Deadline().Seconds())),
			})
		}
		r, ok := f.Route()
		if !ok {
			continue
		}
		integration := awsapigatewayv2integrations.NewHttpLambdaIntegration(
			jsii.String(f.Name+"-integration"), fn,
			&awsapigatewayv2integrations.HttpLambdaIntegrationProps{
				PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0(),
			})
		routes := a.HTTPAPI.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(r.Path),
			Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod(r.Method)},
			Integration: integration,
		})
		for _, hr := range *routes {
			routeResources = append(routeResources, hr)
		}
		if f.Limit == httpapi.AuthLimit && f.Auth == httpapi.None {
			// RouteSettings is a JSON map: CloudFormation's own key names.
			authRouteSettings[r.Pattern()] = map[string]interface{}{
				"ThrottlingRateLimit":  authThrottle.Rate,
				"ThrottlingBurstLimit": authThrottle.Burst,
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

	dlqs := map[string]awssqs.Queue{"SyncDeadLetterAlarm": a.SyncDLQ, "SyncTicketDeadLetterAlarm": a.SyncTicketDLQ}
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
	a.SyncAlarms = append(a.SyncAlarms, metricAlarms(stack)...)

	awscdk.NewCfnOutput(stack, jsii.String("ApiUrl"), &awscdk.CfnOutputProps{Value: a.URL})
	return a, nil
}

// newGoFunction is the one helper that builds every function: a Go binary
// named bootstrap (make lambdas: linux/arm64, -tags lambda.norpc, -s -w) on
// provided.al2023, with its log group and secrets, and the cold-bucket
// grants f.Cold declares. Its construct ID is f's name, so searching the
// route map's name finds it (HybridStorageApi/<name>).
func newGoFunction(scope constructs.Construct, f httpapi.Function, props *APIProps, env map[string]*string, retention awslogs.RetentionDays) awslambda.Function {
	logs := awslogs.NewLogGroup(scope, jsii.String(f.Name+"-logs"), &awslogs.LogGroupProps{
		Retention:     retention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	var reserved *float64
	if f.Reserved > 0 {
		reserved = jsii.Number(float64(f.Reserved))
	}
	fnProps := &awslambda.FunctionProps{
		Description:                  jsii.String("hybrid-storage " + f.Name + ": " + string(f.Trigger)),
		Runtime:                      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:                 awslambda.Architecture_ARM_64(),
		Handler:                      jsii.String("bootstrap"),
		Code:                         awslambda.Code_FromAsset(jsii.String(filepath.Join(props.DistDir, f.Name)), nil),
		MemorySize:                   jsii.Number(float64(f.Memory())),
		Timeout:                      awscdk.Duration_Seconds(jsii.Number(f.Deadline().Seconds())),
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
	fn := awslambda.NewFunction(scope, jsii.String(f.Name), fnProps)
	awscdk.Tags_Of(fn).Add(jsii.String(FunctionTag), jsii.String(f.Name), nil)

	// Every function loads the whole configuration at cold start, so every
	// function reads every secret.
	d := props.Data
	for _, s := range []awssecretsmanager.ISecret{d.SecretKey, d.DatabaseURL, d.MinioCredentials, d.SyncTriggerToken, d.SMTPURL} {
		s.GrantRead(fn, nil)
	}
	if f.Cold.Has(httpapi.Read) {
		d.ColdBucket.GrantRead(fn, nil)
	}
	if f.Cold.Has(httpapi.Write) {
		d.ColdBucket.GrantPut(fn, nil)
	}
	if f.Cold.Has(httpapi.Delete) {
		d.ColdBucket.GrantDelete(fn, nil)
	}
	return fn
}

// FunctionTag is the tag naming the functions/ directory of each function.
const FunctionTag = "hybrid-storage:function"

// functionEnv is the environment every function gets (hosted: Secrets by
// ARN, Params, StackEnv, FunctionEnv; the rest is left to config's
// defaults or comes from the Lambda runtime).
func functionEnv(props *APIProps, queueURL string) map[string]*string {
	d := props.Data
	arns := map[string]awssecretsmanager.ISecret{
		EnvSecretKeySecretARN: d.SecretKey, EnvDatabaseURLSecretARN: d.DatabaseURL,
		EnvMinioCredentialsSecretARN: d.MinioCredentials, EnvSyncTriggerTokenSecretARN: d.SyncTriggerToken,
		EnvSMTPURLSecretARN: d.SMTPURL,
	}
	env := map[string]string{
		"S3_BUCKET":      *d.ColdBucket.BucketName(),
		"SYNC_QUEUE_URL": queueURL,
		"CORS_ORIGINS":   strings.Join(props.CORSOrigins, ","),
	}
	for _, s := range hosted.Secrets {
		env[s.Env] = *arns[s.Env].SecretArn()
	}
	for _, p := range hosted.Params {
		env[p.Var] = props.Settings.Get(p.Var)
	}
	for k, v := range hosted.FunctionEnv { // DOWNLOAD_MODE=redirect, ...
		env[k] = v
	}
	out := make(map[string]*string, len(env))
	for k, v := range env {
		out[k] = jsii.String(v)
	}
	return out
}

func withDefault(t, def Throttle) Throttle {
	if t.Rate == 0 && t.Burst == 0 {
		return def
	}
	return t
}
