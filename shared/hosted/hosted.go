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
	"github.com/hybrid-storage/hybrid-storage/shared/storage"
)

// CORS is one CORS configuration: the HTTP API's CorsPreflight, or one
// bucket CORS rule (S3's CORSRule, which storage.EnsureBucket sets).
type CORS = storage.CORSRule

// APICORS is the HTTP API's CORS configuration for the SPA's origins.
func APICORS(origins []string) CORS {
	return CORS{
		AllowedOrigins: slices.Clone(origins),
		AllowedMethods: []string{"GET", "POST", "DELETE", "HEAD"},
		AllowedHeaders: []string{"Authorization", "Content-Type", "Range"},
		ExposeHeaders:  []string{"Content-Disposition", "Content-Length", "ETag", "Retry-After"},
		MaxAgeSeconds:  3600,
	}
}

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

// FunctionEnv is the plain (non-secret, non-site-specific) environment the
// API stack and template.yaml give every function, besides the endpoints,
// buckets, origins, limits and the *_SECRET_ARN variables.
var FunctionEnv = map[string]string{
	"ALGORITHM":              "HS256",
	"MULTIPART_THRESHOLD_MB": "4",
	"DOWNLOAD_MODE":          "redirect", // Lambda responses stop at 6 MB
	"MAX_OPEN_UPLOADS":       "10",
	"MAX_OPEN_UPLOAD_MB":     "20480",
	"TRASH_RETENTION_DAYS":   "30", // the sync function purges expired trash before each nightly run
	"USER_QUOTA_MB":          "0",  // unlimited; users.quota_bytes overrides it per user
}

// UnsetOnLambda are the variables config reads that the API stack leaves
// to their defaults on purpose, with the reason. The infra tests and
// `make dev-aws`'s tests hold the functions' environment to it.
var UnsetOnLambda = map[string]string{
	"DEV_MODE":                           "never in production",
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
}

// Function is one function's runtime settings.
type Function struct {
	MemoryMB int
	Timeout  time.Duration
	// ReservedConcurrency caps the function's instances; 0 is none (the
	// account's unreserved pool).
	ReservedConcurrency int
}

// Names of the functions with settings of their own.
const (
	SyncFunction         = "sync"          // POST /api/sync/run: an inline run
	SyncDispatchFunction = "sync-dispatch" // the nightly rule's target: opens the run, sends tickets
	SyncWorkerFunction   = "sync-worker"   // the ticket queue's event source mapping's target
	MigrateFunction      = "migrate"
)

// The sync fan-out on AWS (see syncjob.Fanout).
const (
	// SyncWorkerTimeout is the worker function's timeout, the Lambda
	// maximum: a worker claims until a tenth of it (at most 2 minutes) is
	// left, then hands over to a successor ticket.
	SyncWorkerTimeout = 15 * time.Minute
	// SyncQueueVisibility is the ticket queue's visibility timeout: 6× the
	// worker's timeout, as AWS advises for an event source mapping, so a
	// message is never delivered again while its worker may still run. A
	// crashed worker's ticket comes back after it, long after its leases
	// (2 minutes) expired.
	SyncQueueVisibility = 6 * SyncWorkerTimeout
	// SyncMaxReceiveCount is how often a ticket is delivered before it goes
	// to the dead-letter queue (whose alarm then fires).
	SyncMaxReceiveCount = 3
	// DefaultSyncWorkers is the mapping's MaximumConcurrency unless the
	// deploy says (SYNC_WORKERS; AWS accepts 2..1000).
	DefaultSyncWorkers = 4
)

// BcryptFunctions are the functions other than signup and login that hash
// or compare a password on their routes' common path: a share's password
// (create-share hashes it, download-share compares it).
var BcryptFunctions = []string{"create-share", "download-share"}

// SyncReservedConcurrency is the sync function's reserved concurrency.
// Runs never overlap because the job takes a PostgreSQL advisory lock, not
// because of this cap; it must stay above 1 so that a manual
// POST /api/sync/run while a run goes reaches the function and the lock
// answers 409 SYNC_RUNNING (a Lambda throttle would be a 500 from API
// Gateway). The cap bounds the database connections sync invocations hold.
const SyncReservedConcurrency = 3

// FunctionSettings returns the settings of functions/name; auth tells it
// serves an unauthenticated auth route (signup, login: bcrypt-bound);
// BcryptFunctions get the same memory.
func FunctionSettings(name string, auth bool) Function {
	f := Function{MemoryMB: 512, Timeout: 29 * time.Second} // HTTP API waits 30 s at most
	if auth || slices.Contains(BcryptFunctions, name) {
		f.MemoryMB = 1024 // bcrypt cost 12 is CPU-bound; Lambda CPU grows with memory
	}
	switch name {
	case SyncFunction:
		f = Function{MemoryMB: 1024, Timeout: 15 * time.Minute, ReservedConcurrency: SyncReservedConcurrency}
	case SyncDispatchFunction:
		f.Timeout = 5 * time.Minute // the upload janitor, a count and a few sends
	case SyncWorkerFunction:
		// No reserved concurrency: the mapping's MaximumConcurrency caps it.
		f = Function{MemoryMB: 1024, Timeout: SyncWorkerTimeout}
	case MigrateFunction:
		f.Timeout = 5 * time.Minute // the deploy trigger waits as long
	}
	return f
}

// Limits of API Gateway HTTP APIs and Lambda that the API meets.
const (
	MaxRequestBody     = 10 << 20         // HTTP API request payload
	MaxPayload         = 6291456          // Lambda synchronous invocation request and response
	IntegrationTimeout = 30 * time.Second // HTTP API waits for the function at most this long
)

// SPA fallback of the distribution: these statuses of the site bucket
// answer /index.html with 200 (with origin access control, S3 answers 403
// for a missing key).
var (
	SPAFallbackStatuses = []int{403, 404}
	SPAFallbackPage     = "/index.html"
)
