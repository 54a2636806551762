package main

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/emf"
	"github.com/hybrid-storage/hybrid-storage/shared/hosted"
	"github.com/hybrid-storage/hybrid-storage/shared/httpapi"
)

// yw writes YAML line by line: the template is short enough to read as
// the output it is, and its order is the code's.
type yw struct{ b strings.Builder }

func (w *yw) l(indent int, format string, args ...any) {
	w.b.WriteString(strings.Repeat("  ", indent))
	fmt.Fprintf(&w.b, format, args...)
	w.b.WriteString("\n")
}

func (w *yw) blank() { w.b.WriteString("\n") }

var plainYAML = regexp.MustCompile(`^[A-Za-z_/][A-Za-z0-9_ ./(),:-]*$`)

// q is s as a YAML scalar: plain when that reads back as the same string,
// else double-quoted (JSON's quoting is YAML's).
func q(s string) string {
	switch strings.ToLower(s) {
	case "true", "false", "yes", "no", "on", "off", "null", "~", "y", "n":
		return strconv.Quote(s)
	}
	if plainYAML.MatchString(s) && !strings.Contains(s, ": ") && !strings.HasSuffix(s, ":") && !strings.Contains(s, " #") {
		return s
	}
	return strconv.Quote(s)
}

func list(items []string) string {
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = q(s)
	}
	return "[" + strings.Join(out, ", ") + "]"
}

// samTemplate is template.yaml: the SAM shape of the function table.
func samTemplate() (string, error) {
	w := &yw{}
	w.l(0, "# %s", generatedHeader)
	w.l(0, "#")
	w.l(0, "# AWS SAM template of hybrid-storage: one Lambda function per entry of the function")
	w.l(0, "# table (built by `make lambdas` into dist/<name>/bootstrap), its HTTP API route or")
	w.l(0, "# its trigger, and the nightly sync at 00:00 UTC. Parameter ranges, allowed values")
	w.l(0, "# and defaults are shared/config's; the settings the deploy gives are shared/hosted's.")
	w.l(0, "#")
	w.l(0, "#   make lambdas")
	w.l(0, "#   sam deploy --guided          # asks for the parameters below")
	w.l(0, "#   sam remote invoke MigrateFunction --stack-name <stack> --event '{}'")
	w.l(0, "#")
	w.l(0, "# The CDK app in infra/ deploys the same functions and more (secrets created for you,")
	w.l(0, "# the SPA on CloudFront); use one or the other.")
	w.l(0, `AWSTemplateFormatVersion: "2010-09-09"`)
	w.l(0, "Transform: AWS::Serverless-2016-10-31")
	w.l(0, "Description: hybrid-storage API, Lambda functions and nightly hot-to-cold sync")
	w.blank()

	w.l(0, "Parameters:")
	for _, s := range hosted.Secrets {
		w.l(1, "%s:", s.Param)
		w.l(2, "Type: String")
		w.l(2, "Description: %s", q(s.Doc))
	}
	for _, p := range hosted.Params {
		spec := config.Lookup(p.Var)
		w.l(1, "%s: # %s", p.Name, p.Var)
		if spec.Int {
			w.l(2, "Type: Number")
		} else {
			w.l(2, "Type: String")
		}
		if !p.Required {
			d := p.DefaultValue()
			if spec.Int {
				w.l(2, "Default: %s", d)
			} else {
				w.l(2, "Default: %s", strconv.Quote(d))
			}
		}
		if spec.Int {
			w.l(2, "MinValue: %d", spec.Min)
			w.l(2, "MaxValue: %d", spec.Max)
		}
		if len(spec.Allowed) > 0 {
			w.l(2, "AllowedValues: %s", list(spec.Allowed))
		}
		doc := p.Doc
		if doc == "" {
			doc = spec.Doc
		}
		w.l(2, "Description: %s", q(doc))
	}
	w.l(1, "CorsOrigins:")
	w.l(2, "Type: String")
	w.l(2, "Description: Comma-separated origins of the SPA, e.g. https://files.example.com")
	w.l(1, "ColdBucketName:")
	w.l(2, "Type: String")
	w.l(2, `Default: ""`)
	w.l(2, "Description: Name of the cold-tier bucket to create (empty = generated)")
	w.blank()
	w.l(0, "Conditions:")
	w.l(1, `HasColdBucketName: !Not [!Equals [!Ref ColdBucketName, ""]]`)
	w.blank()

	w.l(0, "Globals:")
	w.l(1, "Function:")
	w.l(2, "Runtime: provided.al2023")
	w.l(2, "Architectures: [arm64]")
	w.l(2, "Handler: bootstrap")
	w.l(2, "MemorySize: %d", httpapi.DefaultMemoryMB)
	w.l(2, "Timeout: %d # the HTTP API waits 30 s at most", int(httpapi.DefaultTimeout.Seconds()))
	w.l(2, "LoggingConfig:")
	w.l(3, "LogFormat: JSON")
	w.l(2, "Environment:")
	w.l(3, "Variables:")
	w.l(4, "# Secrets by ARN: the functions read them at cold start (shared/secrets).")
	for _, s := range hosted.Secrets {
		w.l(4, "%s: !Ref %s", s.Env, s.Param)
	}
	for _, p := range hosted.Params {
		w.l(4, "%s: !Ref %s", p.Var, p.Name)
	}
	w.l(4, "S3_BUCKET: !Ref ColdBucket")
	w.l(4, "CORS_ORIGINS: !Ref CorsOrigins")
	w.l(4, "SYNC_QUEUE_URL: !Ref SyncTicketQueue")
	for _, k := range sortedKeys(hosted.FunctionEnv) {
		w.l(4, "%s: %s", k, q(hosted.FunctionEnv[k]))
	}
	w.l(4, "# Left to config's defaults on Lambda: %s.", strings.Join(sortedKeys(hosted.UnsetOnLambda), ", "))
	w.blank()

	w.l(0, "Resources:")
	coldBucket(w)
	w.l(1, "SecretsReadPolicy:")
	w.l(2, "Type: AWS::IAM::ManagedPolicy")
	w.l(2, "Properties:")
	w.l(3, "Description: Read the hybrid-storage secrets at cold start")
	w.l(3, "PolicyDocument:")
	w.l(4, `Version: "2012-10-17"`)
	w.l(4, "Statement:")
	w.l(5, "- Effect: Allow")
	w.l(6, "Action: [secretsmanager:GetSecretValue, secretsmanager:DescribeSecret]")
	w.l(6, "Resource:")
	for _, s := range hosted.Secrets {
		w.l(7, "- !Ref %s", s.Param)
	}
	w.blank()
	httpAPI(w)
	for _, f := range httpapi.Functions {
		if err := samFunction(w, f); err != nil {
			return "", err
		}
	}
	syncQueueAndAlarms(w)
	w.l(0, "Outputs:")
	w.l(1, "ApiUrl:")
	w.l(2, `Value: !Sub "https://${HttpApi}.execute-api.${AWS::Region}.amazonaws.com"`)
	w.l(1, "ColdBucketName:")
	w.l(2, "Value: !Ref ColdBucket")
	return w.b.String(), nil
}

func coldBucket(w *yw) {
	w.l(1, "ColdBucket:")
	w.l(2, "Type: AWS::S3::Bucket")
	w.l(2, "DeletionPolicy: Retain")
	w.l(2, "UpdateReplacePolicy: Retain")
	w.l(2, "Properties:")
	w.l(3, "BucketName: !If [HasColdBucketName, !Ref ColdBucketName, !Ref AWS::NoValue]")
	w.l(3, "PublicAccessBlockConfiguration:")
	for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
		w.l(4, "%s: true", k)
	}
	w.l(3, "OwnershipControls:")
	w.l(4, "Rules:")
	w.l(5, "- ObjectOwnership: BucketOwnerEnforced")
	w.l(3, "BucketEncryption:")
	w.l(4, "ServerSideEncryptionConfiguration:")
	w.l(5, "- ServerSideEncryptionByDefault:")
	w.l(7, "SSEAlgorithm: AES256")
	w.l(3, "VersioningConfiguration:")
	w.l(4, "Status: Enabled")
	w.l(3, "# Browsers on the SPA's origins GET presigned downloads (shared/hosted.ColdBucketCORS).")
	w.l(3, "CorsConfiguration:")
	w.l(4, "CorsRules:")
	for _, r := range hosted.ColdBucketCORS(nil) {
		w.l(5, `- AllowedOrigins: !Split [",", !Ref CorsOrigins]`)
		w.l(6, "AllowedMethods: %s", list(r.AllowedMethods))
		w.l(6, "AllowedHeaders: %s", list(r.AllowedHeaders))
		w.l(6, "ExposedHeaders: %s", list(r.ExposeHeaders))
		w.l(6, "MaxAge: %d", r.MaxAgeSeconds)
	}
	w.l(3, "LifecycleConfiguration:")
	w.l(4, "Rules:")
	w.l(5, "- Id: abort-incomplete-multipart-uploads")
	w.l(6, "Status: Enabled")
	w.l(6, "AbortIncompleteMultipartUpload:")
	w.l(7, "DaysAfterInitiation: 7")
	w.l(5, "- Id: expire-noncurrent-versions")
	w.l(6, "Status: Enabled")
	w.l(6, "NoncurrentVersionExpiration:")
	w.l(7, "NoncurrentDays: 30")
	w.blank()
	w.l(1, "ColdBucketPolicy:")
	w.l(2, "Type: AWS::S3::BucketPolicy")
	w.l(2, "Properties:")
	w.l(3, "Bucket: !Ref ColdBucket")
	w.l(3, "PolicyDocument:")
	w.l(4, `Version: "2012-10-17"`)
	w.l(4, "Statement:")
	w.l(5, "- Sid: DenyInsecureTransport")
	w.l(6, "Effect: Deny")
	w.l(6, `Principal: "*"`)
	w.l(6, `Action: "s3:*" # a Deny: refuses every request that is not TLS`)
	w.l(6, "Resource:")
	w.l(7, "- !GetAtt ColdBucket.Arn")
	w.l(7, `- !Sub "${ColdBucket.Arn}/*"`)
	w.l(6, "Condition:")
	w.l(7, "Bool:")
	w.l(8, `aws:SecureTransport: "false"`)
	w.blank()
}

func httpAPI(w *yw) {
	c := httpapi.CORS(nil)
	w.l(1, "HttpApi:")
	w.l(2, "Type: AWS::Serverless::HttpApi")
	w.l(2, "Properties:")
	w.l(3, "StageName: $default")
	w.l(3, "# httpapi.CORS: the local server and make dev-aws answer the same.")
	w.l(3, "CorsConfiguration:")
	w.l(4, `AllowOrigins: !Split [",", !Ref CorsOrigins]`)
	w.l(4, "AllowMethods: %s", list(c.AllowedMethods))
	w.l(4, "AllowHeaders: %s", list(c.AllowedHeaders))
	w.l(4, "ExposeHeaders: %s", list(c.ExposeHeaders))
	w.l(4, "MaxAge: %d", c.MaxAgeSeconds)
	w.l(3, "DefaultRouteSettings:")
	w.l(4, "ThrottlingRateLimit: %d", hosted.ThrottleRate)
	w.l(4, "ThrottlingBurstLimit: %d", hosted.ThrottleBurst)
	w.l(3, "# One bucket shared by every caller (HTTP APIs cannot have AWS WAF): a")
	w.l(3, "# cost guard only, sized above what users meet first, the per-client")
	w.l(3, "# limit the functions count in PostgreSQL (the AuthLimit routes without auth).")
	w.l(3, "RouteSettings:")
	for _, f := range httpapi.Functions {
		if r, ok := f.Route(); ok && throttledRoute(f) {
			w.l(4, "%s:", strconv.Quote(r.Pattern()))
			w.l(5, "ThrottlingRateLimit: %d", hosted.AuthThrottleRate)
			w.l(5, "ThrottlingBurstLimit: %d", hosted.AuthThrottleBurst)
		}
	}
	w.blank()
}

// throttledRoute reports whether f's route gets its own API Gateway
// throttle: the auth limiter's routes anyone may call.
func throttledRoute(f httpapi.Function) bool {
	return f.Limit == httpapi.AuthLimit && f.Auth == httpapi.None
}

// sendsTickets reports whether f sends sync tickets (the dispatcher, and
// the worker its successors).
func sendsTickets(f httpapi.Function) bool {
	return f.Lambda == httpapi.LambdaDispatch || f.Lambda == httpapi.LambdaWorker
}

func samFunction(w *yw, f httpapi.Function) error {
	id := samID(f)
	switch f.Lambda {
	case httpapi.LambdaSync:
		w.l(1, "# An inline run: SYNC_WORKERS loops in this one invocation (the nightly run is")
		w.l(1, "# the fan-out of sync-dispatch and sync-worker).")
	case httpapi.LambdaDispatch:
		w.l(1, "# The nightly fan-out (shared/syncjob.Fanout): the dispatcher runs the maintenance,")
		w.l(1, "# opens the run and sends one ticket per worker; the worker claims leases until")
		w.l(1, "# its time budget is nearly spent and sends a successor ticket if work remains;")
		w.l(1, "# the last ticket closes the run.")
	case httpapi.LambdaMigrate:
		w.l(1, "# Applies the database migrations; no route, no schedule. SAM has no")
		w.l(1, "# deploy-time trigger: invoke it after every deploy (docs/deploy.md):")
		w.l(1, "#   sam remote invoke MigrateFunction --stack-name <stack> --event '{}'")
		w.l(1, "# It answers {\"applied\": n}; a failed migration fails the invocation.")
	}
	if f.Auth == httpapi.None && f.Cold == 0 && f.Limit == httpapi.NoLimit && strings.Contains(string(f.Trigger), "{token}") {
		w.l(1, "# No authorizer (no route has one): the token in the path is the credential, checked by the function.")
	}
	w.l(1, "%s:", id)
	w.l(2, "Type: AWS::Serverless::Function")
	w.l(2, "Properties:")
	w.l(3, "CodeUri: dist/%s/", f.Name)
	w.l(3, "Description: %s", strconv.Quote("hybrid-storage "+f.Name+": "+string(f.Trigger)))
	if m := f.Memory(); m != httpapi.DefaultMemoryMB {
		w.l(3, "MemorySize: %d", m)
	}
	if t := f.Deadline(); t != httpapi.DefaultTimeout {
		w.l(3, "Timeout: %d", int(t.Seconds()))
	}
	if f.Reserved > 0 {
		w.l(3, "ReservedConcurrentExecutions: %d # why: shared/httpapi/functions.go", f.Reserved)
	}
	w.l(3, "Policies:")
	w.l(4, "- !Ref SecretsReadPolicy")
	switch f.Cold {
	case 0:
	case httpapi.Read:
		w.l(4, "- S3ReadPolicy:")
		w.l(6, "BucketName: !Ref ColdBucket")
	case httpapi.Read | httpapi.Delete:
		w.l(4, "- S3ReadPolicy:")
		w.l(6, "BucketName: !Ref ColdBucket")
		w.l(4, "- Statement:")
		w.l(6, "- Effect: Allow")
		w.l(7, `Action: ["s3:DeleteObject", "s3:DeleteObjectVersion"]`)
		w.l(7, `Resource: !Sub "${ColdBucket.Arn}/*"`)
	case httpapi.Read | httpapi.Write | httpapi.Delete:
		w.l(4, "- S3CrudPolicy:")
		w.l(6, "BucketName: !Ref ColdBucket")
	default:
		return fmt.Errorf("function %s: cold access %s has no SAM policy here (deploy/gen/sam.go)", f.Name, f.Cold)
	}
	if sendsTickets(f) {
		w.l(4, "- SQSSendMessagePolicy:")
		w.l(6, "QueueName: !GetAtt SyncTicketQueue.QueueName")
	}
	if r, ok := f.Route(); ok {
		w.l(3, "Events:")
		w.l(4, "Api:")
		w.l(5, "Type: HttpApi")
		w.l(5, "Properties:")
		w.l(6, "ApiId: !Ref HttpApi")
		w.l(6, "Method: %s", r.Method)
		w.l(6, "Path: %s", r.Path)
	}
	switch f.Trigger {
	case httpapi.Nightly:
		w.l(3, "Events:")
		w.l(4, "Nightly:")
		w.l(5, "Type: Schedule")
		w.l(5, "Properties:")
		w.l(6, "Description: Moves files from the hot tier (MinIO) to the cold tier (S3) at 00:00 UTC")
		w.l(6, "Schedule: %s", httpapi.NightlyCron)
		w.l(6, "RetryPolicy:")
		w.l(7, "MaximumRetryAttempts: 2")
		w.l(7, "MaximumEventAgeInSeconds: 7200")
		w.l(6, "DeadLetterConfig:")
		w.l(7, "Type: SQS")
	case httpapi.Tickets:
		w.l(3, "Events:")
		w.l(4, "Tickets:")
		w.l(5, "Type: SQS")
		w.l(5, "Properties:")
		w.l(6, "Queue: !GetAtt SyncTicketQueue.Arn")
		w.l(6, "BatchSize: 1")
		w.l(6, "ScalingConfig:")
		w.l(7, "MaximumConcurrency: !Ref SyncWorkers")
		w.l(6, "FunctionResponseTypes: [ReportBatchItemFailures]")
	}
	w.blank()
	return nil
}

func syncQueueAndAlarms(w *yw) {
	if !slices.ContainsFunc(httpapi.Functions, func(f httpapi.Function) bool { return f.Trigger == httpapi.Tickets }) {
		return
	}
	w.l(1, "SyncTicketQueue:")
	w.l(2, "Type: AWS::SQS::Queue")
	w.l(2, "Properties:")
	w.l(3, "# 6x the worker's %d s timeout (shared/hosted.SyncQueueVisibility).", int(httpapi.SyncWorkerTimeout.Seconds()))
	w.l(3, "VisibilityTimeout: %d", int(hosted.SyncQueueVisibility.Seconds()))
	w.l(3, "MessageRetentionPeriod: 86400")
	w.l(3, "SqsManagedSseEnabled: true")
	w.l(3, "RedrivePolicy:")
	w.l(4, "deadLetterTargetArn: !GetAtt SyncTicketDeadLetterQueue.Arn")
	w.l(4, "maxReceiveCount: %d", hosted.SyncMaxReceiveCount)
	w.blank()
	w.l(1, "SyncTicketDeadLetterQueue:")
	w.l(2, "Type: AWS::SQS::Queue")
	w.l(2, "Properties:")
	w.l(3, "MessageRetentionPeriod: 1209600")
	w.l(3, "SqsManagedSseEnabled: true")
	w.blank()
	w.l(1, "SyncTicketDeadLetterAlarm:")
	w.l(2, "Type: AWS::CloudWatch::Alarm")
	w.l(2, "Properties:")
	w.l(3, "AlarmDescription: A nightly sync ticket failed for good and waits in the dead-letter queue")
	w.l(3, "Namespace: AWS/SQS")
	w.l(3, "MetricName: ApproximateNumberOfMessagesVisible")
	w.l(3, "Dimensions:")
	w.l(4, "- Name: QueueName")
	w.l(5, "Value: !GetAtt SyncTicketDeadLetterQueue.QueueName")
	w.l(3, "Statistic: Maximum")
	w.l(3, "Period: 300")
	w.l(3, "EvaluationPeriods: 1")
	w.l(3, "Threshold: 0")
	w.l(3, "ComparisonOperator: GreaterThanThreshold")
	w.l(3, "TreatMissingData: notBreaching")
	w.blank()
	w.l(1, "# The functions write their figures in their logs (embedded metric")
	w.l(1, "# format, namespace %s): shared/hosted.MetricAlarms; docs/operations.md.", emf.Namespace)
	for _, a := range hosted.MetricAlarms {
		w.l(1, "%s:", a.ID)
		w.l(2, "Type: AWS::CloudWatch::Alarm")
		w.l(2, "Properties:")
		w.l(3, "AlarmDescription: %s", q(a.Description))
		w.l(3, "Namespace: %s", emf.Namespace)
		w.l(3, "MetricName: %s", a.Metric)
		w.l(3, "Statistic: %s", a.Statistic)
		w.l(3, "Period: %d", int(a.Period.Seconds()))
		w.l(3, "EvaluationPeriods: %d", a.EvaluationPeriods)
		if a.DatapointsToAlarm > 0 {
			w.l(3, "DatapointsToAlarm: %d", a.DatapointsToAlarm)
		}
		w.l(3, "Threshold: %s", strconv.FormatFloat(a.Threshold, 'f', -1, 64))
		w.l(3, "ComparisonOperator: %s", a.Comparison())
		w.l(3, "TreatMissingData: %s", a.TreatMissingData())
		w.blank()
	}
	w.l(1, "ApiErrorRateAlarm:")
	w.l(2, "Type: AWS::CloudWatch::Alarm")
	w.l(2, "Properties:")
	w.l(3, "AlarmDescription: %s", q(hosted.APIErrorRateDescription()))
	w.l(3, "EvaluationPeriods: %d", hosted.APIErrorRatePeriods)
	w.l(3, "DatapointsToAlarm: %d", hosted.APIErrorRatePeriods)
	w.l(3, "Threshold: %d", hosted.APIErrorRatePercent)
	w.l(3, "ComparisonOperator: GreaterThanThreshold")
	w.l(3, "TreatMissingData: notBreaching")
	w.l(3, "Metrics:")
	w.l(4, "- Id: rate")
	w.l(5, "Label: 5xx rate (%%)")
	w.l(5, "Expression: IF(requests >= %d, 100 * errors / requests, 0)", hosted.APIErrorRateMinRequests)
	w.l(5, "ReturnData: true")
	for _, m := range []struct{ id, metric string }{{"errors", "5xx"}, {"requests", "Count"}} {
		w.l(4, "- Id: %s", m.id)
		w.l(5, "ReturnData: false")
		w.l(5, "MetricStat:")
		w.l(6, "Stat: Sum")
		w.l(6, "Period: %d", int(hosted.APIErrorRatePeriod.Seconds()))
		w.l(6, "Metric:")
		w.l(7, "Namespace: AWS/ApiGateway")
		w.l(7, "MetricName: %s", q(m.metric))
		w.l(7, "Dimensions:")
		w.l(8, "- Name: ApiId")
		w.l(9, "Value: !Ref HttpApi")
	}
	w.blank()
}
