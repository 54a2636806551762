// Package hosted holds the deployed shape's settings: what the CDK app
// (infra/stacks), the SAM template (template.yaml), docs/deploy.md and
// `make dev-aws` (local/devaws) must agree on. The CDK app builds from these
// values; tests keep template.yaml, docs/deploy.md, frontend/nginx.conf and
// the local stand-ins equal to them, so changing the infrastructure without
// changing `make dev-aws` fails a test.
package hosted

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/httpapi"
	"github.com/hybrid-storage/hybrid-storage/shared/storage"
)

// CORS is one CORS configuration: the HTTP API's CorsPreflight, or one
// bucket CORS rule (S3's CORSRule, which storage.EnsureBucket sets).
type CORS = storage.CORSRule

// ColdBucketCORS is the cold bucket's CORS (the stateful stack and
// template.yaml set it): browsers on origins GET and HEAD presigned URLs.
func ColdBucketCORS(origins []string) []CORS {
	return []CORS{downloadCORS(origins)}
}

// downloadCORS is a bucket's rule for presigned downloads: GET and HEAD.
func downloadCORS(origins []string) CORS {
	return CORS{
		AllowedOrigins: slices.Clone(origins),
		AllowedMethods: []string{"GET", "HEAD"},
		AllowedHeaders: []string{"*"},
		ExposeHeaders:  []string{"Content-Disposition", "Content-Length", "Content-Range", "ETag"},
		MaxAgeSeconds:  3600,
	}
}

// HotBucketCORS is the hot bucket's CORS as docs/deploy.md tells operators
// to set it on their S3-compatible server: PUT of presigned upload parts
// (the SPA reads each part's ETag), and GET/HEAD of presigned downloads.
func HotBucketCORS(origins []string) []CORS {
	return []CORS{
		{
			AllowedOrigins: slices.Clone(origins),
			AllowedMethods: []string{"PUT"},
			AllowedHeaders: []string{"*"},
			ExposeHeaders:  []string{"ETag"},
			MaxAgeSeconds:  3600,
		},
		downloadCORS(origins),
	}
}

// ReferrerPolicy is the SPA's Referrer-Policy: no URL (a presigned URL
// or a file id in a path) leaves in a Referer header.
const ReferrerPolicy = "no-referrer"

// CSP is the SPA's Content-Security-Policy. connect lists the origins the
// SPA talks to besides its own: the API and both tiers' public endpoints.
// Styles are 'self' too: the build emits no inline style or script.
func CSP(connect []string) string {
	src := []string{"'self'"}
	for _, o := range connect {
		if o != "" && !slices.Contains(src, o) {
			src = append(src, o)
		}
	}
	return strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self' data:",
		"font-src 'self'",
		"connect-src " + strings.Join(src, " "),
		"object-src 'none'",
		"base-uri 'self'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}, "; ")
}

// Security headers of the SPA (besides the CSP), as CloudFront's
// ResponseHeadersPolicy, nginx and the local servers send them.
const (
	FrameOptions        = "DENY"
	ContentTypeOptions  = "nosniff"
	StrictTransportDays = 365 // with includeSubDomains; HTTPS origins only (CloudFront)
)

// SPAHeaders are the response headers of every SPA response for the
// connect-src origins (Strict-Transport-Security excluded: only an HTTPS
// origin sends it).
func SPAHeaders(connect []string) map[string]string {
	return map[string]string{
		"Content-Security-Policy": CSP(connect),
		"X-Frame-Options":         FrameOptions,
		"X-Content-Type-Options":  ContentTypeOptions,
		"Referrer-Policy":         ReferrerPolicy,
	}
}

// Origin returns scheme://host[:port] of an endpoint given as a URL or as
// host:port (then secure picks the scheme); "" when endpoint is empty.
func Origin(endpoint string, secure bool) string {
	if endpoint == "" {
		return ""
	}
	if strings.Contains(endpoint, "://") {
		if u, err := url.Parse(endpoint); err == nil {
			return u.Scheme + "://" + u.Host
		}
		return endpoint
	}
	if secure {
		return "https://" + strings.TrimSuffix(endpoint, ":443")
	}
	return "http://" + strings.TrimSuffix(endpoint, ":80")
}

// ConnectSources are the origins a SPA served with cfg talks to besides
// its own: the hot tier's public endpoint (presigned part PUTs, downloads)
// and the cold tier's (presigned downloads in redirect mode; on AWS S3 the
// bucket's virtual-hosted regional endpoint, as the SDK presigns).
func ConnectSources(cfg config.Config) []string {
	hot := cfg.Hot.PublicEndpoint
	if hot == "" {
		hot = cfg.Hot.Endpoint
	}
	out := []string{Origin(hot, cfg.Hot.Secure)}
	cold := cfg.Cold.PublicEndpoint
	if cold == "" {
		cold = cfg.Cold.Endpoint
	}
	switch {
	case cold != "":
		out = append(out, Origin(cold, true))
	case cfg.Cold.Bucket != "" && cfg.Cold.Region != "":
		out = append(out, "https://"+cfg.Cold.Bucket+".s3."+cfg.Cold.Region+".amazonaws.com")
	}
	return slices.DeleteFunc(out, func(s string) bool { return s == "" })
}

// How the deployed shape gives every function each variable config reads
// (TestLambdaEnvCoversConfig holds config.Names to these lists): a deploy
// parameter (Params), a fixed value (FunctionEnv), a secret (Secrets), a
// resource of the stack (StackEnv), the Lambda runtime (RuntimeEnv), or
// config's default on purpose (UnsetOnLambda). Ranges, allowed values and
// defaults are config's (config.Lookup): nothing here repeats them.

// Param is one setting of a deploy: the SAM parameter Name, the CDK
// context key LowerCamel(Name), given to every function as Var.
type Param struct {
	Name     string
	Var      string
	Default  string // the deployed shape's default, where it is not config's
	Required bool   // no default: the deploy must give it
	Doc      string // "": config's
}

// Params are the deploy's settings, in the order SAM asks for them.
var Params = []Param{
	{Name: "MinioEndpoint", Var: "MINIO_ENDPOINT", Required: true, Doc: "host:port of the hot tier (MinIO), reachable from Lambda"},
	{Name: "MinioPublicEndpoint", Var: "MINIO_PUBLIC_ENDPOINT", Doc: "host:port browsers use for presigned URLs (empty = MinioEndpoint)"},
	{Name: "MinioBucket", Var: "MINIO_BUCKET"},
	{Name: "MinioSecure", Var: "MINIO_SECURE", Default: "true"}, // a hot tier reached over the internet
	{Name: "AccessTokenExpireMinutes", Var: "ACCESS_TOKEN_EXPIRE_MINUTES"},
	{Name: "SessionIdleDays", Var: "SESSION_IDLE_DAYS"},
	{Name: "SessionMaxDays", Var: "SESSION_MAX_DAYS"},
	{Name: "MailFrom", Var: "MAIL_FROM", Doc: "sender of password reset mail: an identity SES has verified, e.g. no-reply@example.com"},
	{Name: "MaxFileSizeMb", Var: "MAX_FILE_SIZE_MB"},
	{Name: "AllowedContentTypes", Var: "ALLOWED_CONTENT_TYPES"},
	{Name: "TrashRetentionDays", Var: "TRASH_RETENTION_DAYS"}, // the nightly dispatcher purges expired trash
	{Name: "UserQuotaMb", Var: "USER_QUOTA_MB"},
	{Name: "SyncWorkers", Var: "SYNC_WORKERS", Doc: "sync workers at once: the ticket queue's MaximumConcurrency (SYNC_WORKERS); size it to the connections PostgreSQL takes (docs/sync-at-scale.md)"},
	{Name: "SyncBatchSize", Var: "SYNC_BATCH_SIZE"},
	{Name: "SyncMaxRetries", Var: "SYNC_MAX_RETRIES"},
	{Name: "SyncVerify", Var: "SYNC_VERIFY"},
	{Name: "ColdStorageClass", Var: "COLD_STORAGE_CLASS"},
	{Name: "DeleteFromMinioAfterSync", Var: "DELETE_FROM_MINIO_AFTER_SYNC"},
}

// DefaultValue is p's default in the deployed shape.
func (p Param) DefaultValue() string {
	if p.Default != "" || p.Required {
		return p.Default
	}
	return config.Lookup(p.Var).Default
}

// ContextKey is p's CDK context key: minioEndpoint for MinioEndpoint.
func (p Param) ContextKey() string { return strings.ToLower(p.Name[:1]) + p.Name[1:] }

// Secret is one Secrets Manager secret: the functions get its ARN as Env
// (shared/secrets reads it at cold start into Vars); SAM takes the ARN as
// the parameter Param.
type Secret struct {
	Env   string
	Param string
	Vars  []string
	Doc   string
}

// Secrets are the secrets every function reads at cold start.
var Secrets = []Secret{
	{Env: "SECRET_KEY_SECRET_ARN", Param: "SecretKeySecretArn", Vars: []string{"SECRET_KEY"}, Doc: "ARN of a Secrets Manager secret holding SECRET_KEY (plain string, at least 32 bytes)"},
	{Env: "DATABASE_URL_SECRET_ARN", Param: "DatabaseUrlSecretArn", Vars: []string{"DATABASE_URL"}, Doc: "ARN of a secret holding DATABASE_URL (plain postgres:// URL)"},
	{Env: "MINIO_CREDENTIALS_SECRET_ARN", Param: "MinioCredentialsSecretArn", Vars: []string{"MINIO_ACCESS_KEY", "MINIO_SECRET_KEY"}, Doc: `ARN of a secret holding the hot-tier credentials as JSON {"accessKey": "...", "secretKey": "..."}`},
	{Env: "SYNC_TRIGGER_TOKEN_SECRET_ARN", Param: "SyncTriggerTokenSecretArn", Vars: []string{"SYNC_TRIGGER_TOKEN"}, Doc: "ARN of a secret holding SYNC_TRIGGER_TOKEN (operator token of POST /api/sync/run)"},
	{Env: "SMTP_URL_SECRET_ARN", Param: "SmtpUrlSecretArn", Vars: []string{"SMTP_URL"}, Doc: "ARN of a secret holding SMTP_URL, the mail server of password resets: SES's SMTP interface as smtp://USER:PASSWORD@email-smtp.REGION.amazonaws.com:587 (the SMTP credentials, URL-encoded); none: no mail (password reset answers 503)"},
}

// StackEnv are the variables whose value is a resource of the deploy.
var StackEnv = map[string]string{
	"S3_BUCKET":      "the cold bucket's name",
	"SYNC_QUEUE_URL": "the ticket queue's URL",
	"CORS_ORIGINS":   "the SPA's origins (the CloudFront site and extraCorsOrigins; SAM: the CorsOrigins parameter)",
}

// RuntimeEnv are set by the Lambda runtime (the execution role's
// temporary credentials, the region).
var RuntimeEnv = []string{"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}

// FunctionEnv are the fixed values the deployed shape chooses, each for a
// Lambda limit, not config's default.
var FunctionEnv = map[string]string{
	"DOWNLOAD_MODE":          "redirect", // Lambda responses stop at 6 MB
	"MULTIPART_THRESHOLD_MB": "4",        // Lambda requests stop at 6 MB, base64 included
}

// UnsetOnLambda are the variables config reads that the deployed shape
// leaves to their defaults on purpose, with the reason.
var UnsetOnLambda = map[string]string{
	"DEV_MODE":                           "never in production",
	"ALGORITHM":                          "HS256 is the only one",
	"S3_ENDPOINT":                        "the cold tier is real AWS S3",
	"S3_PUBLIC_ENDPOINT":                 "the cold tier is real AWS S3",
	"SYNC_SCHEDULE":                      "EventBridge schedules the sync-dispatch function",
	"SQS_ENDPOINT":                       "the ticket queue is real Amazon SQS",
	"SYNC_LOG_FILE":                      "stdout goes to CloudWatch Logs",
	"PORT":                               "no local server",
	"WEB_DIR":                            "the SPA is on CloudFront",
	"BCRYPT_COST":                        "default 12 is the contract",
	"AUTH_RATE_LIMIT_PER_MINUTE":         "default; counted in PostgreSQL per client address",
	"AUTH_RATE_LIMIT_PER_EMAIL_PER_HOUR": "default",
	"TRUSTED_PROXIES":                    "on Lambda the client is API Gateway's sourceIp",
	"BCRYPT_QUEUE_MAX":                   "a Lambda instance serves one request at a time",
	"BIND_ADDR":                          "no local server",
	"METRICS_TOKEN":                      "no local server: on AWS the sync figures are CloudWatch metrics",
	"METRICS_ADDR":                       "no local server: on AWS the sync figures are CloudWatch metrics",
	"BEHIND_TLS":                         "no local server: API Gateway and CloudFront serve HTTPS only",
	"UPLOAD_MIN_BYTES_PER_SEC":           "API Gateway reads a request's whole body before invoking, and bounds its time",
	"MAX_STREAMED_UPLOADS":               "a Lambda instance serves one request at a time",
	"MAX_STREAMED_UPLOADS_PER_USER":      "a Lambda instance serves one request at a time",
	"MAX_OPEN_UPLOADS":                   "default",
	"MAX_OPEN_UPLOAD_MB":                 "default",
	"ACCESS_TOKEN_EXPIRE_SECONDS":        "end-to-end tests only: ACCESS_TOKEN_EXPIRE_MINUTES sets the deploy's",
}

// The sync fan-out on AWS (see syncjob.Fanout).
const (
	// SyncQueueVisibility is the ticket queue's visibility timeout: 6× the
	// worker's timeout, as AWS advises for an event source mapping, so a
	// message is never delivered again while its worker may still run. A
	// crashed worker's ticket comes back after it, long after its leases
	// (2 minutes) expired.
	SyncQueueVisibility = 6 * httpapi.SyncWorkerTimeout
	// SyncMaxReceiveCount is how often a ticket is delivered before it goes
	// to the dead-letter queue (whose alarm then fires).
	SyncMaxReceiveCount = 3
)

// Throttling of the HTTP API's stage, and of each route of the
// AuthLimit class without auth (signup, login): one bucket shared by every
// caller (HTTP APIs cannot have AWS WAF), a cost guard only, sized above
// what users meet first, the per-client limit the functions count in
// PostgreSQL.
const (
	ThrottleRate      = 50
	ThrottleBurst     = 100
	AuthThrottleRate  = 50
	AuthThrottleBurst = 100
)

// Limits of API Gateway HTTP APIs and Lambda that the API meets.
const (
	MaxRequestBody     = 10 << 20         // HTTP API request payload
	MaxPayload         = 6291456          // Lambda synchronous invocation request and response
	IntegrationTimeout = 30 * time.Second // HTTP API waits for the function at most this long
)

// One origin for the SPA and the API (issue 22): the distribution serves
// APIPathPattern from the HTTP API (caching disabled, every viewer header
// but Host forwarded: the managed policies CachingDisabled and
// AllViewerExceptHostHeader), everything else from the site bucket. The
// refresh cookie (SameSite=Strict, Path=/api/auth) needs the SPA and the
// API on one site, and the SPA makes no CORS preflight. make dev-aws's
// stand-in (local/devaws) proxies the same way.
const APIPathPattern = "/api/*"

// SPAFallbackPage is what a client-side route of the SPA is served: a
// viewer-request function (SPARewriteFunction) rewrites, on the default
// behavior only, every path whose last segment has no dot to it. (Not the
// distribution's custom error responses: they apply to every behavior, and
// would turn the API's 403 and 404 into the SPA's page.)
const SPAFallbackPage = "/index.html"

// SPAFallback reports whether the distribution serves SPAFallbackPage for
// path (SPARewriteFunction's rule; paths of APIPathPattern never reach it).
func SPAFallback(path string) bool {
	last := path[strings.LastIndexByte(path, '/')+1:]
	return !strings.Contains(last, ".")
}

// SPARewriteFunction is the CloudFront Function (cloudfront-js-2.0,
// viewer request) of the default behavior: SPAFallback in JavaScript.
const SPARewriteFunction = `function handler(event) {
  var request = event.request;
  var last = request.uri.substring(request.uri.lastIndexOf('/') + 1);
  if (last.indexOf('.') === -1) {
    request.uri = '` + SPAFallbackPage + `';
  }
  return request;
}`
