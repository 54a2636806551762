// Package config loads the service configuration from environment variables.
// It is the only code that reads the environment; the result is validated
// once and passed down as a value.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DevSecretKey is the signing key used only when DEV_MODE is on and no
// SECRET_KEY is set. It is public, so tokens signed with it mean nothing.
const DevSecretKey = "dev-only-insecure-secret-key-change-me"

// Config is the whole configuration of the service.
type Config struct {
	DevMode bool

	DatabaseURL string

	SecretKey []byte
	Algorithm string
	TokenTTL  time.Duration // access tokens (ACCESS_TOKEN_EXPIRE_MINUTES, or ACCESS_TOKEN_EXPIRE_SECONDS)
	// Sessions (issue 22): a refresh token unused for SessionIdle, or a
	// session older than SessionMax, ends the session.
	SessionIdle time.Duration
	SessionMax  time.Duration
	// Mail of password resets: SMTPURL empty is no mail.
	SMTPURL     string
	MailFrom    string
	BcryptCost  int
	AuthRateMin int // signup/login requests per IP per minute

	// Hardening of auth and start-up (issues 10 and 11).
	BindAddr          string       // local server listen address (host only)
	MetricsToken      string       // bearer token of GET /metrics on the local server's address
	MetricsAddr       string       // loopback listener of GET /metrics without a token
	BehindTLS         bool         // the local server is reached over HTTPS through a proxy: send HSTS
	TrustedProxies    []*net.IPNet // peers whose X-Forwarded-For is believed
	AuthEmailRateHour int          // wrong password guesses per account or share per hour
	BcryptQueueMax    int          // password checks allowed to wait for a bcrypt slot
	// KnownSecrets names the variables that hold a public value (the dev
	// key, an .env.example placeholder, minioadmin). Load refuses them
	// outside dev mode; in dev mode DevWarning reports them.
	KnownSecrets []string

	Hot  HotConfig
	Cold ColdConfig

	MaxFileSize         int64
	MultipartThreshold  int64    // bytes; larger files should use presigned multipart uploads
	AllowedContentTypes []string // empty: any type
	CORSOrigins         []string
	DownloadMode        string // "stream" or "redirect"

	SyncBatchSize            int
	SyncMaxRetries           int
	SyncSchedule             string
	SyncTriggerToken         string
	SyncLogFile              string
	DeleteFromMinioAfterSync bool
	SyncVerify               string // checksum or readback
	ColdStorageClass         string // S3 storage class of cold copies
	SyncWorkers              int    // worker loops of a local run; on AWS the worker function's MaximumConcurrency
	SyncQueueURL             string // SQS queue of the fan-out's tickets (AWS: the dispatcher and worker functions)
	SQSEndpoint              string // SQS-compatible endpoint standing in for AWS (tests, dev); empty = AWS

	Port   int
	WebDir string

	// Streamed uploads (POST /api/files/upload) on one server: a body must
	// arrive at UploadMinRate bytes/s at least; at most MaxStreamedUploads
	// run at once, MaxStreamedUploadsPerUser of them one user's.
	UploadMinRate             int
	MaxStreamedUploads        int
	MaxStreamedUploadsPerUser int

	// Caps on one user's open presigned upload sessions.
	MaxOpenUploads     int   // sessions
	MaxOpenUploadBytes int64 // bytes their declared sizes add up to

	// TrashRetentionDays is how long a deleted file stays in the trash; 0
	// is no trash (a DELETE purges at once).
	TrashRetentionDays int

	// UserQuota is each user's storage quota in bytes (USER_QUOTA_MB),
	// unless users.quota_bytes says otherwise; 0 is unlimited.
	UserQuota int64
}

// TrashRetention is TrashRetentionDays as a duration.
func (c Config) TrashRetention() time.Duration {
	return time.Duration(c.TrashRetentionDays) * 24 * time.Hour
}

// HotConfig locates the hot tier (MinIO or any S3-compatible server).
type HotConfig struct {
	Endpoint       string // host:port
	PublicEndpoint string // host:port browsers use for presigned URLs
	AccessKey      string
	SecretKey      string
	Bucket         string
	Secure         bool
	Region         string
}

// ColdConfig locates the cold tier (AWS S3, or an S3-compatible endpoint).
type ColdConfig struct {
	Endpoint       string // URL; empty means real AWS
	PublicEndpoint string // URL browsers use for presigned URLs
	AccessKeyID    string // empty: the default AWS credential chain
	SecretKey      string
	SessionToken   string // set with temporary keys (the Lambda runtime's)
	Region         string
	Bucket         string
}

// Download modes.
const (
	DownloadStream   = "stream"
	DownloadRedirect = "redirect"
)

// variable describes one environment variable: its default and how to
// parse it into the Config.
type variable struct {
	name string
	def  string
	doc  string
	set  setter
}

// setter parses one variable's value into the Config, and says what it
// accepts where a deploy tool can say it too (a range, a list).
type setter struct {
	set     func(c *Config, v string) error
	isInt   bool
	min     int
	max     int
	allowed []string
}

func custom(set func(c *Config, v string) error) setter { return setter{set: set} }

var variables = []variable{
	{"DEV_MODE", "false", "allows a short SECRET_KEY (a fixed dev key when unset); never in production", boolVar(func(c *Config) *bool { return &c.DevMode })},
	{"DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hybrid_storage?sslmode=disable", "PostgreSQL connection URL", custom(func(c *Config, v string) error {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return errors.New("must be a postgres:// URL")
		}
		c.DatabaseURL = v
		return nil
	})},
	{"SECRET_KEY", "", "JWT signing key, at least 32 bytes (required unless DEV_MODE=true)", custom(func(c *Config, v string) error {
		c.SecretKey = []byte(v)
		return nil
	})},
	{"ALGORITHM", "HS256", "JWT algorithm; only HS256 is accepted", oneOf(func(c *Config) *string { return &c.Algorithm }, nil, "HS256")},
	{"ACCESS_TOKEN_EXPIRE_MINUTES", "15", "access token lifetime in minutes (1..1440); the web app refreshes it with the session's refresh cookie", intVar(1, 1440, func(c *Config, n int) { c.TokenTTL = time.Duration(n) * time.Minute })},
	{"ACCESS_TOKEN_EXPIRE_SECONDS", "0", "access token lifetime in seconds, overriding ACCESS_TOKEN_EXPIRE_MINUTES when not 0 (0..86400): for end-to-end tests that must see refreshes within seconds", intVar(0, 86400, func(c *Config, n int) {
		if n > 0 {
			c.TokenTTL = time.Duration(n) * time.Second
		}
	})},
	{"SESSION_IDLE_DAYS", "7", "a session whose refresh token goes unused this many days ends (1..365)", intVar(1, 365, func(c *Config, n int) { c.SessionIdle = time.Duration(n) * 24 * time.Hour })},
	{"SESSION_MAX_DAYS", "30", "a session ends this many days after its login, used or not (1..3650)", intVar(1, 3650, func(c *Config, n int) { c.SessionMax = time.Duration(n) * 24 * time.Hour })},
	{"SMTP_URL", "", "mail server of password resets: smtp://user:pass@host:587 (STARTTLS when offered, required before a password is sent to a host other than localhost) or smtps://user:pass@host:465 (TLS from the start); empty or none: no mail (dev mode logs the reset link; elsewhere password reset answers 503)", custom(func(c *Config, v string) error {
		if v == "" || v == "none" {
			return nil
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" || (u.Path != "" && u.Path != "/") {
			return errors.New("must be smtp://[user:pass@]host[:port] or smtps://..., or empty")
		}
		c.SMTPURL = v
		return nil
	})},
	{"MAIL_FROM", "hybrid-storage <no-reply@localhost>", "sender of password reset mail, an address the mail server may send from (with SES: a verified identity)", custom(func(c *Config, v string) error {
		if _, err := mail.ParseAddress(v); err != nil {
			return fmt.Errorf("%q is not a mail address like Name <no-reply@example.com>", v)
		}
		c.MailFrom = v
		return nil
	})},
	{"BCRYPT_COST", "12", "bcrypt cost for new passwords (10..14)", intVar(10, 14, func(c *Config, n int) { c.BcryptCost = n })},
	{"BCRYPT_QUEUE_MAX", "16", "password checks allowed to wait for a bcrypt slot; more answer 503 SERVICE_UNAVAILABLE (0..10000)", intVar(0, 10000, func(c *Config, n int) { c.BcryptQueueMax = n })},
	{"AUTH_RATE_LIMIT_PER_MINUTE", "10", "signup+login requests allowed per client IP per minute; also password-protected shares created per user and per client IP per minute", intVar(1, 100000, func(c *Config, n int) { c.AuthRateMin = n })},
	{"TRUSTED_PROXIES", "", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For names the client (empty: none; on Lambda API Gateway's sourceIp is used)", custom(func(c *Config, v string) error {
		for _, s := range splitList(v) {
			if !strings.Contains(s, "/") {
				if ip := net.ParseIP(s); ip != nil && ip.To4() != nil {
					s += "/32"
				} else {
					s += "/128"
				}
			}
			_, n, err := net.ParseCIDR(s)
			if err != nil {
				return fmt.Errorf("%q is not a CIDR like 172.16.0.0/12", s)
			}
			c.TrustedProxies = append(c.TrustedProxies, n)
		}
		return nil
	})},
	{"AUTH_RATE_LIMIT_PER_EMAIL_PER_HOUR", "30", "wrong password guesses allowed per account (logins, account deletions) or per share per hour, from all addresses together except those that gave the password in the last 30 days", intVar(1, 100000, func(c *Config, n int) { c.AuthEmailRateHour = n })},
	{"MINIO_ENDPOINT", "127.0.0.1:9000", "hot tier host:port", hostPort(func(c *Config) *string { return &c.Hot.Endpoint })},
	{"MINIO_PUBLIC_ENDPOINT", "", "hot tier host:port used in presigned URLs for browsers (default MINIO_ENDPOINT)", optHostPort(func(c *Config) *string { return &c.Hot.PublicEndpoint })},
	{"MINIO_ACCESS_KEY", "minioadmin", "hot tier access key", nonEmpty(func(c *Config) *string { return &c.Hot.AccessKey })},
	{"MINIO_SECRET_KEY", "minioadmin", "hot tier secret key", nonEmpty(func(c *Config) *string { return &c.Hot.SecretKey })},
	{"MINIO_BUCKET", "local-files", "hot tier bucket", bucket(func(c *Config) *string { return &c.Hot.Bucket })},
	{"MINIO_SECURE", "false", "use HTTPS for the hot tier", boolVar(func(c *Config) *bool { return &c.Hot.Secure })},
	{"AWS_ACCESS_KEY_ID", "", "cold tier access key (empty: the default AWS credential chain)", str(func(c *Config) *string { return &c.Cold.AccessKeyID })},
	{"AWS_SECRET_ACCESS_KEY", "", "cold tier secret key", str(func(c *Config) *string { return &c.Cold.SecretKey })},
	{"AWS_SESSION_TOKEN", "", "session token of temporary AWS keys (the Lambda runtime sets it)", str(func(c *Config) *string { return &c.Cold.SessionToken })},
	{"AWS_REGION", "us-east-1", "AWS region of the cold bucket", nonEmpty(func(c *Config) *string { return &c.Cold.Region })},
	{"S3_BUCKET", "cloud-files", "cold tier bucket", bucket(func(c *Config) *string { return &c.Cold.Bucket })},
	{"S3_ENDPOINT", "", "S3-compatible endpoint URL standing in for AWS (path-style); empty = AWS", optURL(func(c *Config) *string { return &c.Cold.Endpoint })},
	{"S3_PUBLIC_ENDPOINT", "", "cold tier URL used in presigned URLs for browsers (default S3_ENDPOINT)", optURL(func(c *Config) *string { return &c.Cold.PublicEndpoint })},
	{"MAX_FILE_SIZE_MB", "100", "largest upload in MiB (1..1048576)", intVar(1, 1<<20, func(c *Config, n int) { c.MaxFileSize = int64(n) << 20 })},
	{"MULTIPART_THRESHOLD_MB", "4", "files larger than this many MiB should use the presigned multipart upload (a Lambda request carries at most 6 MB, base64 included) (1..1048576)", intVar(1, 1<<20, func(c *Config, n int) { c.MultipartThreshold = int64(n) << 20 })},
	{"ALLOWED_CONTENT_TYPES", "", "comma-separated allow-list of sniffed types, e.g. image/*,application/pdf (empty: any)", custom(func(c *Config, v string) error {
		c.AllowedContentTypes = splitList(v)
		for _, t := range c.AllowedContentTypes {
			if !strings.Contains(t, "/") {
				return fmt.Errorf("%q is not a media type", t)
			}
		}
		return nil
	})},
	{"CORS_ORIGINS", "", "comma-separated browser origins allowed to call the API and PUT parts to the hot tier (empty: http://localhost and http://127.0.0.1 on ports 5173 and PORT)", custom(func(c *Config, v string) error {
		c.CORSOrigins = splitList(v)
		for _, o := range c.CORSOrigins {
			u, err := url.Parse(o)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
				return fmt.Errorf("%q is not an origin like https://example.com", o)
			}
		}
		return nil
	})},
	{"DOWNLOAD_MODE", DownloadStream, "stream (through the API) or redirect (302 to a presigned URL)", oneOf(func(c *Config) *string { return &c.DownloadMode }, nil, DownloadStream, DownloadRedirect)},
	{"SYNC_BATCH_SIZE", "10", "files claimed per sync batch (1..1000)", intVar(1, 1000, func(c *Config, n int) { c.SyncBatchSize = n })},
	{"SYNC_MAX_RETRIES", "3", "attempts per file per sync run (1..20)", intVar(1, 20, func(c *Config, n int) { c.SyncMaxRetries = n })},
	{"SYNC_SCHEDULE", "0 0 * * *", "cron expression (UTC) of the local server's sync job", nonEmpty(func(c *Config) *string { return &c.SyncSchedule })},
	{"SYNC_TRIGGER_TOKEN", "", "operator bearer token for POST /api/sync/run (empty: the endpoint is disabled)", custom(func(c *Config, v string) error {
		if v != "" && len(v) < 16 {
			return errors.New("must be at least 16 bytes")
		}
		c.SyncTriggerToken = v
		return nil
	})},
	// SYNC_WORKERS: 2 is the least MaximumConcurrency of an SQS event
	// source; 100 is where PostgreSQL stops (docs/sync-at-scale.md: ~4
	// connections a worker, 400 the max_connections of a 4 GiB instance,
	// and a 2-vCPU instance saturates on small files). The CDK app and
	// template.yaml accept the same range (deploy/gen, infra/stacks).
	{"SYNC_WORKERS", "4", "sync worker loops run at once by a local run (make sync, the scheduler, POST /api/sync/run); on AWS the worker function's MaximumConcurrency (2..100; past 100 see docs/sync-at-scale.md)", intVar(2, 100, func(c *Config, n int) { c.SyncWorkers = n })},
	{"SYNC_QUEUE_URL", "", "SQS queue URL of the sync fan-out's tickets (AWS: the sync-dispatch and sync-worker functions; empty elsewhere)", str(func(c *Config) *string { return &c.SyncQueueURL })},
	{"SQS_ENDPOINT", "", "SQS-compatible endpoint URL standing in for AWS (tests, make dev-aws); empty = AWS", str(func(c *Config) *string { return &c.SQSEndpoint })},
	{"SYNC_LOG_FILE", "", "file the sync job appends JSON log lines to (empty: stdout only)", str(func(c *Config) *string { return &c.SyncLogFile })},
	{"DELETE_FROM_MINIO_AFTER_SYNC", "false", "delete the hot copy once a file is safely in S3", boolVar(func(c *Config) *bool { return &c.DeleteFromMinioAfterSync })},
	{"SYNC_VERIFY", "checksum", "how the sync job checks a cold copy: checksum (the cold tier verifies the file's CRC64NVME, then a HEAD confirms it) or readback (also reads the copy back and compares its SHA-256)", oneOf(func(c *Config) *string { return &c.SyncVerify }, nil, "checksum", "readback")},
	{"COLD_STORAGE_CLASS", "STANDARD", "S3 storage class of cold copies: STANDARD, STANDARD_IA, INTELLIGENT_TIERING or GLACIER_IR (files under 128 KiB stay STANDARD)", oneOf(func(c *Config) *string { return &c.ColdStorageClass }, map[string]string{
		"GLACIER":      "GLACIER needs a restore before every read, which this product does not do; use STANDARD, STANDARD_IA, INTELLIGENT_TIERING or GLACIER_IR",
		"DEEP_ARCHIVE": "DEEP_ARCHIVE needs a restore before every read, which this product does not do; use STANDARD, STANDARD_IA, INTELLIGENT_TIERING or GLACIER_IR",
	}, "STANDARD", "STANDARD_IA", "INTELLIGENT_TIERING", "GLACIER_IR")},
	{"PORT", "8000", "local server port", intVar(1, 65535, func(c *Config, n int) { c.Port = n })},
	{"BIND_ADDR", "127.0.0.1", "address the local server listens on; 0.0.0.0 for every interface (the Docker image sets it)", custom(func(c *Config, v string) error {
		if strings.ContainsAny(v, "/: ") && net.ParseIP(v) == nil {
			return fmt.Errorf("must be an IP address or host name without a port, not %q", v)
		}
		c.BindAddr = v
		return nil
	})},
	{"METRICS_TOKEN", "", "bearer token for GET /metrics on the local server's own address (at least 16 bytes; empty: not served there)", custom(func(c *Config, v string) error {
		if v != "" && len(v) < 16 {
			return errors.New("must be at least 16 bytes")
		}
		c.MetricsToken = v
		return nil
	})},
	{"METRICS_ADDR", "", "loopback host:port of a separate listener serving only GET /metrics without a token, e.g. 127.0.0.1:9464 (empty: none)", custom(func(c *Config, v string) error {
		if v == "" {
			return nil
		}
		host, port, err := net.SplitHostPort(v)
		if err != nil || port == "" {
			return fmt.Errorf("must be host:port, not %q", v)
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("must be a loopback address (127.0.0.1, ::1 or localhost): the metrics carry no token there; use METRICS_TOKEN to serve them on the public address, not %q", v)
		}
		c.MetricsAddr = v
		return nil
	})},
	{"BEHIND_TLS", "false", "the local server is reached over HTTPS through a TLS-terminating proxy: every answer carries Strict-Transport-Security (sent anyway when the server itself serves HTTPS)", boolVar(func(c *Config) *bool { return &c.BehindTLS })},
	{"WEB_DIR", "frontend/dist", "directory of the built SPA served by the local server (missing: API only)", str(func(c *Config) *string { return &c.WebDir })},
	{"UPLOAD_MIN_BYTES_PER_SEC", "1024", "slowest a streamed upload's body may arrive, averaged over each 30 s the server waits for it (0..104857600; 0: no minimum, only the 30 s idle cut); slower answers 400 BAD_REQUEST", intVar(0, 100<<20, func(c *Config, n int) { c.UploadMinRate = n })},
	{"MAX_STREAMED_UPLOADS", "16", "streamed uploads one server (a Lambda instance: one request at a time) reads at once, each holding up to 34 MiB of buffers (1..10000); more answer 429 TOO_MANY_STREAMED_UPLOADS with Retry-After", intVar(1, 10000, func(c *Config, n int) { c.MaxStreamedUploads = n })},
	{"MAX_STREAMED_UPLOADS_PER_USER", "4", "streamed uploads of one user one server reads at once (1..10000); more answer 429 TOO_MANY_STREAMED_UPLOADS with Retry-After", intVar(1, 10000, func(c *Config, n int) { c.MaxStreamedUploadsPerUser = n })},
	{"MAX_OPEN_UPLOADS", "10", "presigned uploads one user may have open at once (1..10000); more answer 429 TOO_MANY_UPLOADS", intVar(1, 10000, func(c *Config, n int) { c.MaxOpenUploads = n })},
	{"MAX_OPEN_UPLOAD_MB", "20480", "MiB the declared sizes of one user's open presigned uploads may add up to (1..1073741824, at least MAX_FILE_SIZE_MB); more answer 413 UPLOAD_QUOTA_EXCEEDED", intVar(1, 1<<30, func(c *Config, n int) { c.MaxOpenUploadBytes = int64(n) << 20 })},
	{"USER_QUOTA_MB", "0", "MiB each user may store (0..1073741824; 0: unlimited): live files of both tiers, the trash and uploads under way count; users.quota_bytes (set with -set-quota EMAIL MB) overrides it per user; past it uploads answer 413 QUOTA_EXCEEDED", intVar(0, 1<<30, func(c *Config, n int) { c.UserQuota = int64(n) << 20 })},
	{"TRASH_RETENTION_DAYS", "30", "days a deleted file stays in the trash before it is purged (0..3650); 0: no trash, DELETE /api/files/{id} purges at once", intVar(0, 3650, func(c *Config, n int) { c.TrashRetentionDays = n })},
}

// Spec is what one variable accepts, for the deploy tools that check a
// value before it reaches Load (CDK context, SAM parameters).
type Spec struct {
	Name    string
	Default string
	Doc     string
	// Int: a whole number from Min to Max.
	Int      bool
	Min, Max int
	// Allowed, when not empty, are the values a deploy may choose (Load
	// accepts them; for booleans it also accepts 1, t, ...).
	Allowed []string
}

// Specs lists every variable Load reads, in table order.
func Specs() []Spec {
	out := make([]Spec, len(variables))
	for i, v := range variables {
		out[i] = Spec{Name: v.name, Default: v.def, Doc: v.doc, Int: v.set.isInt, Min: v.set.min, Max: v.set.max, Allowed: slices.Clone(v.set.allowed)}
	}
	return out
}

// Lookup returns the spec of the variable name; it panics when Load does
// not read name (a programming error of the caller).
func Lookup(name string) Spec {
	for _, s := range Specs() {
		if s.Name == name {
			return s
		}
	}
	panic("config: no variable " + name)
}

// Check reports whether Load would accept value for the variable name, with
// the error Load would give ("config: NAME: ..."). The cross-variable checks
// of Load (e.g. MAX_OPEN_UPLOAD_MB at least MAX_FILE_SIZE_MB) are not run.
func Check(name, value string) error {
	for _, v := range variables {
		if v.name == name {
			if err := v.set.set(&Config{}, value); err != nil {
				return fmt.Errorf("config: %s: %w", name, err)
			}
			return nil
		}
	}
	return fmt.Errorf("config: %s: not a variable", name)
}

// Names lists every environment variable Load reads, in table order.
func Names() []string {
	names := make([]string, len(variables))
	for i, v := range variables {
		names[i] = v.name
	}
	return names
}

// Doc describes one variable for documentation.
type Doc struct{ Name, Default, Meaning string }

// Docs lists every variable with its default and meaning.
func Docs() []Doc {
	docs := make([]Doc, len(variables))
	for i, v := range variables {
		docs[i] = Doc{v.name, v.def, v.doc}
	}
	return docs
}

// Load builds the Config from getenv (os.Getenv in production). A missing
// or malformed value yields an error naming the variable, e.g.
// "config: MAX_FILE_SIZE_MB: must be a whole number from 1 to 1048576".
func Load(getenv func(string) string) (Config, error) {
	var c Config
	for _, v := range variables {
		val := strings.TrimSpace(getenv(v.name))
		if val == "" {
			val = v.def
		}
		if err := v.set.set(&c, val); err != nil {
			return Config{}, fmt.Errorf("config: %s: %w", v.name, err)
		}
	}
	switch {
	case len(c.SecretKey) == 0 && c.DevMode:
		c.SecretKey = []byte(DevSecretKey)
	case len(c.SecretKey) == 0:
		return Config{}, errors.New("config: SECRET_KEY: required (at least 32 bytes; or set DEV_MODE=true for local development)")
	case len(c.SecretKey) < 32 && !c.DevMode:
		return Config{}, fmt.Errorf("config: SECRET_KEY: is %d bytes, needs at least 32 (or DEV_MODE=true)", len(c.SecretKey))
	}
	if err := c.checkKnownSecrets(); err != nil {
		return Config{}, err
	}
	if (c.Cold.AccessKeyID == "") != (c.Cold.SecretKey == "") {
		return Config{}, errors.New("config: AWS_SECRET_ACCESS_KEY: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together")
	}
	if c.Hot.PublicEndpoint == "" {
		c.Hot.PublicEndpoint = c.Hot.Endpoint
	}
	if c.Cold.PublicEndpoint == "" {
		c.Cold.PublicEndpoint = c.Cold.Endpoint
	}
	c.Hot.Region = c.Cold.Region
	if len(c.CORSOrigins) == 0 {
		for _, port := range []string{"5173", strconv.Itoa(c.Port)} {
			c.CORSOrigins = append(c.CORSOrigins, "http://localhost:"+port, "http://127.0.0.1:"+port)
		}
	}
	if err := c.checkTiersDiffer(); err != nil {
		return Config{}, err
	}
	if err := checkUploadCaps(c); err != nil {
		return Config{}, err
	}
	return c, nil
}

// knownSecretValues are public values: the dev key, the placeholders of
// .env.example, and MinIO's default credentials.
var knownSecretValues = []string{DevSecretKey, "replace-with-output-of-openssl-rand-hex-32", "minioadmin"}

func isKnownSecret(v string) bool {
	lv := strings.ToLower(v)
	return slices.Contains(knownSecretValues, lv) || strings.HasPrefix(lv, "change-me") || strings.HasPrefix(lv, "replace-with")
}

// checkKnownSecrets records the variables holding a public value and
// refuses them outside dev mode.
func (c *Config) checkKnownSecrets() error {
	vals := []struct{ name, v string }{
		{"SECRET_KEY", string(c.SecretKey)},
		{"MINIO_ACCESS_KEY", c.Hot.AccessKey},
		{"MINIO_SECRET_KEY", c.Hot.SecretKey},
		{"AWS_ACCESS_KEY_ID", c.Cold.AccessKeyID},
		{"AWS_SECRET_ACCESS_KEY", c.Cold.SecretKey},
	}
	if u, err := url.Parse(c.DatabaseURL); err == nil {
		if pw, ok := u.User.Password(); ok {
			vals = append(vals, struct{ name, v string }{"DATABASE_URL", pw})
		}
	}
	for _, kv := range vals {
		if kv.v != "" && isKnownSecret(kv.v) {
			c.KnownSecrets = append(c.KnownSecrets, kv.name)
		}
	}
	if len(c.KnownSecrets) > 0 && !c.DevMode {
		return fmt.Errorf("config: %s: public default or placeholder value (dev key, .env.example placeholder or minioadmin); set real secrets, or DEV_MODE=true on a developer machine",
			strings.Join(c.KnownSecrets, ", "))
	}
	return nil
}

// DevWarning is the one line to log at start-up in dev mode ("" otherwise).
func (c Config) DevWarning() string {
	if !c.DevMode {
		return ""
	}
	w := "DEV_MODE=true: for a developer machine only, never reachable by others"
	if len(c.KnownSecrets) > 0 {
		w += "; public values in " + strings.Join(c.KnownSecrets, ", ") + " (anyone who knows them can mint tokens or read the buckets)"
	}
	return w
}

// checkTiersDiffer refuses a hot and a cold tier that are one bucket on one
// server: the keys are the same in both tiers, so the sync job would copy
// each file onto itself and DELETE_FROM_MINIO_AFTER_SYNC would then delete
// the only copy. The same server with two buckets is fine (make dev).
func (c Config) checkTiersDiffer() error {
	if c.Hot.Bucket != c.Cold.Bucket {
		return nil
	}
	hot := strings.ToLower(c.Hot.Endpoint)
	var cold string
	if c.Cold.Endpoint == "" {
		if !strings.HasSuffix(strings.Split(hot, ":")[0], "amazonaws.com") {
			return nil
		}
		cold = hot // both AWS S3: one bucket name is one bucket
	} else {
		u, err := url.Parse(c.Cold.Endpoint)
		if err != nil {
			return nil
		}
		cold = strings.ToLower(u.Host)
		if u.Port() == "" {
			if u.Scheme == "https" {
				cold += ":443"
			} else {
				cold += ":80"
			}
		}
		if _, _, err := net.SplitHostPort(hot); err != nil {
			if c.Hot.Secure {
				hot += ":443"
			} else {
				hot += ":80"
			}
		}
	}
	if hot != cold {
		return nil
	}
	return fmt.Errorf("config: MINIO_ENDPOINT, MINIO_BUCKET, S3_ENDPOINT, S3_BUCKET: the hot and cold tiers are the same bucket %q on %s; the sync job would copy each file onto itself and DELETE_FROM_MINIO_AFTER_SYNC would delete the only copy (use two buckets)",
		c.Hot.Bucket, c.Hot.Endpoint)
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func str(field func(*Config) *string) setter {
	return custom(func(c *Config, v string) error { *field(c) = v; return nil })
}

func nonEmpty(field func(*Config) *string) setter {
	return custom(func(c *Config, v string) error {
		if v == "" {
			return errors.New("must not be empty")
		}
		*field(c) = v
		return nil
	})
}

func boolVar(field func(*Config) *bool) setter {
	return setter{allowed: []string{"true", "false"}, set: func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("must be true or false, not %q", v)
		}
		*field(c) = b
		return nil
	}}
}

// oneOf accepts one of values into *field; refuse, when set, explains
// values that look right but are refused.
func oneOf(field func(*Config) *string, refuse map[string]string, values ...string) setter {
	return setter{allowed: values, set: func(c *Config, v string) error {
		if slices.Contains(values, v) {
			*field(c) = v
			return nil
		}
		if why, ok := refuse[v]; ok {
			return errors.New(why)
		}
		if len(values) == 1 {
			return fmt.Errorf("only %s is supported, not %q", values[0], v)
		}
		return fmt.Errorf("must be %s or %s, not %q", strings.Join(values[:len(values)-1], ", "), values[len(values)-1], v)
	}}
}

func intVar(lo, hi int, set func(*Config, int)) setter {
	return setter{isInt: true, min: lo, max: hi, set: func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("must be a whole number from %d to %d, not %q", lo, hi, v)
		}
		set(c, n)
		return nil
	}}
}

func hostPort(field func(*Config) *string) setter {
	return custom(func(c *Config, v string) error {
		if strings.Contains(v, "://") || strings.Contains(v, "/") || v == "" {
			return fmt.Errorf("must be host:port without a scheme, not %q", v)
		}
		*field(c) = v
		return nil
	})
}

func optHostPort(field func(*Config) *string) setter {
	hp := hostPort(field)
	return custom(func(c *Config, v string) error {
		if v == "" {
			return nil
		}
		return hp.set(c, v)
	})
}

func optURL(field func(*Config) *string) setter {
	return custom(func(c *Config, v string) error {
		if v == "" {
			return nil
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("must be an http(s) URL, not %q", v)
		}
		*field(c) = strings.TrimRight(v, "/")
		return nil
	})
}

func bucket(field func(*Config) *string) setter {
	return custom(func(c *Config, v string) error {
		if len(v) < 3 || len(v) > 63 || strings.Trim(v, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "" {
			return fmt.Errorf("%q is not a valid bucket name (3-63 of a-z 0-9 . -)", v)
		}
		*field(c) = v
		return nil
	})
}

// checkUploadCaps refuses caps under which a file of the largest size
// could never be uploaded.
func checkUploadCaps(c Config) error {
	if c.MaxOpenUploadBytes < c.MaxFileSize {
		return fmt.Errorf("config: MAX_OPEN_UPLOAD_MB: is %d, below MAX_FILE_SIZE_MB (%d): a file of the largest size could never be uploaded",
			c.MaxOpenUploadBytes>>20, c.MaxFileSize>>20)
	}
	return nil
}
