// Package testenv gives integration tests real dependencies: a fresh
// PostgreSQL database and fresh buckets on a real S3-compatible server
// (Versity S3 Gateway, which checks SigV4 signatures), each per test so that
// tests and packages run in parallel. It is imported only by tests.
//
// TEST_DATABASE_URL names the PostgreSQL server (default
// postgres://postgres@127.0.0.1:5432/postgres). TEST_S3_ENDPOINT names a
// running S3 server whose root keys are minioadmin/minioadmin; when unset,
// one is started from .bin/versitygw (make tools builds it) for the test
// binary's lifetime.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hybrid-storage/hybrid-storage/shared/app"
	"github.com/hybrid-storage/hybrid-storage/shared/auth"
	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
	"github.com/hybrid-storage/hybrid-storage/shared/procnet"
)

// S3 root credentials of the test server.
const (
	S3AccessKey = "minioadmin"
	S3SecretKey = "minioadmin"
)

func randomName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// DatabaseURL creates a fresh, migrated database for tb and returns its
// URL. The database is dropped when tb ends.
func DatabaseURL(tb testing.TB) string {
	tb.Helper()
	dbURL := EmptyDatabaseURL(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := postgres.Open(ctx, dbURL)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		tb.Fatalf("testenv: migrate: %v", err)
	}
	return dbURL
}

// EmptyDatabaseURL creates a fresh database without any table for tb and
// returns its URL. The database is dropped when tb ends.
func EmptyDatabaseURL(tb testing.TB) string {
	tb.Helper()
	admin := os.Getenv("TEST_DATABASE_URL")
	if admin == "" {
		admin = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		tb.Fatalf("testenv: connect to PostgreSQL at TEST_DATABASE_URL (%s): %v", admin, err)
	}
	defer conn.Close(ctx)
	name := randomName("hs_test_")
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("testenv: create database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			tb.Logf("testenv: drop database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Logf("testenv: drop database %s: %v", name, err)
		}
	})
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	return u.String()
}

var (
	s3Once     sync.Once
	s3Endpoint string
	s3Err      error
	s3PID      int // of the server startVersity started
)

// S3ServerPID is the process id of the S3 server this test binary started
// (after S3Endpoint), for benchmarks that count its CPU time; 0 when the
// server is TEST_S3_ENDPOINT's or not started.
func S3ServerPID() int { return s3PID }

// S3Endpoint returns "host:port" of a running S3-compatible server.
func S3Endpoint(tb testing.TB) string {
	tb.Helper()
	if ep := os.Getenv("TEST_S3_ENDPOINT"); ep != "" {
		return strings.TrimPrefix(strings.TrimPrefix(ep, "http://"), "https://")
	}
	s3Once.Do(func() { s3Endpoint, s3Err = startVersity() })
	if s3Err != nil {
		tb.Fatalf("testenv: %v", s3Err)
	}
	return s3Endpoint
}

// VersityBinary finds the versitygw binary: $VERSITYGW_BIN, then
// <repo>/.bin/versitygw, then PATH.
func VersityBinary() (string, error) {
	if p := os.Getenv("VERSITYGW_BIN"); p != "" {
		return p, nil
	}
	if root, err := RepoRoot(); err == nil {
		p := filepath.Join(root, ".bin", "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("versitygw not found: run `make tools` (builds .bin/versitygw) or set TEST_S3_ENDPOINT")
}

// RepoRoot walks up from the working directory to the directory holding
// the root go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/hybrid-storage/hybrid-storage\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("repository root not found")
		}
		dir = parent
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func startVersity() (string, error) {
	bin, err := VersityBinary()
	if err != nil {
		return "", err
	}
	sweepS3Dirs()
	dir, err := os.MkdirTemp("", s3DirPrefix)
	if err != nil {
		return "", err
	}
	// The server dies with this binary and nothing runs after a test
	// binary's last test: the next binary's start removes the directory
	// (sweepS3Dirs), once its owner has gone.
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		return "", err
	}
	// A server whose port another process took between FreePort and its
	// listen exits at once: start it again on another port.
	for range 3 {
		addr, err := startVersityOn(bin, dir)
		if !errors.Is(err, errServerExited) {
			return addr, err
		}
	}
	return "", fmt.Errorf("versitygw: %w three times", errServerExited)
}

var errServerExited = errors.New("exited before it listened")

// s3DirPrefix names the S3 servers' data directories in the temp dir;
// ownerFile in each holds the pid of the test binary that made it.
const (
	s3DirPrefix = "testenv-s3-"
	ownerFile   = ".testenv-owner"
)

// sweepS3Dirs removes the data directories of earlier test binaries that
// have exited: a benchmark leaves gigabytes there, on tmpfs when TMPDIR
// is /dev/shm. A directory without an owner file, or whose owner still
// runs (or whose pid was reused), is left alone.
func sweepS3Dirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), s3DirPrefix+"*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, ownerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(d)
		}
	}
}

func startVersityOn(bin, dir string) (string, error) {
	port, err := FreePort()
	if err != nil {
		return "", err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin, "--port", addr, "posix", dir)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+S3AccessKey, "ROOT_SECRET_KEY="+S3SecretKey)
	// The server dies with the test binary.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := Start(cmd); err != nil {
		return "", fmt.Errorf("start versitygw: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	// Ready when this server's own socket listens: a dial would also reach
	// another test binary's server that took the same port meanwhile.
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		ok, err := procnet.Listening(cmd.Process.Pid, port)
		if err != nil {
			_ = cmd.Process.Kill()
			return "", err
		}
		if ok {
			s3PID = cmd.Process.Pid
			return addr, nil
		}
		select {
		case <-exited:
			return "", errServerExited
		case <-time.After(50 * time.Millisecond):
		}
	}
	_ = cmd.Process.Kill()
	return "", fmt.Errorf("versitygw did not listen on %s within 15s", addr)
}

// Config returns a configuration for tb: a fresh database, fresh hot and
// cold buckets on the test S3 server, bcrypt at its minimum cost, and a
// generous auth rate limit. edit may change it before use.
func Config(tb testing.TB) config.Config {
	tb.Helper()
	ep := S3Endpoint(tb)
	cfg, err := config.Load(func(k string) string {
		switch k {
		case "DEV_MODE":
			return "true" // the test server's keys are minioadmin, refused outside dev mode
		case "SECRET_KEY":
			return "test-secret-key-of-at-least-32-bytes!"
		case "DATABASE_URL":
			return DatabaseURL(tb)
		case "MINIO_ENDPOINT":
			return ep
		case "MINIO_ACCESS_KEY", "AWS_ACCESS_KEY_ID":
			return S3AccessKey
		case "MINIO_SECRET_KEY", "AWS_SECRET_ACCESS_KEY":
			return S3SecretKey
		case "MINIO_BUCKET":
			return randomName("hot-")
		case "S3_BUCKET":
			return randomName("cold-")
		case "S3_ENDPOINT":
			return "http://" + ep
		case "AUTH_RATE_LIMIT_PER_MINUTE":
			return "10000"
		case "CORS_ORIGINS":
			return "http://localhost:5173"
		}
		return ""
	})
	if err != nil {
		tb.Fatal(err)
	}
	cfg.BcryptCost = 4 // bcrypt.MinCost: tests do not need slow hashes
	return cfg
}

// Env returns cfg as environment variables (KEY=value), for processes such
// as Lambda bootstraps that load their own configuration: loading them with
// config.Load gives back cfg, except that BcryptCost is at least 10 (the
// smallest cost config accepts). It panics when cfg cannot be expressed as
// variables (MaxFileSize not a whole number of MiB, TokenTTL not whole minutes).
func Env(cfg config.Config) []string {
	if cfg.MaxFileSize%(1<<20) != 0 || cfg.TokenTTL%time.Second != 0 || cfg.UserQuota%(1<<20) != 0 ||
		cfg.SessionIdle%(24*time.Hour) != 0 || cfg.SessionMax%(24*time.Hour) != 0 {
		panic(fmt.Sprintf("testenv.Env: MaxFileSize %d must be whole MiB, TokenTTL %s whole seconds, sessions' limits whole days", cfg.MaxFileSize, cfg.TokenTTL))
	}
	ttlSeconds := 0 // whole minutes: ACCESS_TOKEN_EXPIRE_MINUTES alone
	if cfg.TokenTTL%time.Minute != 0 {
		ttlSeconds = int(cfg.TokenTTL / time.Second)
	}
	return []string{
		"ACCESS_TOKEN_EXPIRE_SECONDS=" + strconv.Itoa(ttlSeconds),
		"SESSION_IDLE_DAYS=" + strconv.Itoa(int(cfg.SessionIdle/(24*time.Hour))),
		"SESSION_MAX_DAYS=" + strconv.Itoa(int(cfg.SessionMax/(24*time.Hour))),
		"SMTP_URL=" + cfg.SMTPURL,
		"MAIL_FROM=" + cfg.MailFrom,
		"DEV_MODE=" + strconv.FormatBool(cfg.DevMode),
		"SECRET_KEY=" + string(cfg.SecretKey),
		"DATABASE_URL=" + cfg.DatabaseURL,
		"ACCESS_TOKEN_EXPIRE_MINUTES=" + strconv.Itoa(max(1, int(cfg.TokenTTL/time.Minute))),
		"BCRYPT_COST=" + strconv.Itoa(max(cfg.BcryptCost, 10)),
		"AUTH_RATE_LIMIT_PER_MINUTE=" + strconv.Itoa(cfg.AuthRateMin),
		"AUTH_RATE_LIMIT_PER_EMAIL_PER_HOUR=" + strconv.Itoa(cfg.AuthEmailRateHour),
		"TRUSTED_PROXIES=" + joinNets(cfg.TrustedProxies),
		"BCRYPT_QUEUE_MAX=" + strconv.Itoa(cfg.BcryptQueueMax),
		"MINIO_ENDPOINT=" + cfg.Hot.Endpoint,
		"MINIO_PUBLIC_ENDPOINT=" + cfg.Hot.PublicEndpoint,
		"MINIO_ACCESS_KEY=" + cfg.Hot.AccessKey,
		"MINIO_SECRET_KEY=" + cfg.Hot.SecretKey,
		"MINIO_BUCKET=" + cfg.Hot.Bucket,
		"MINIO_SECURE=" + strconv.FormatBool(cfg.Hot.Secure),
		"AWS_ACCESS_KEY_ID=" + cfg.Cold.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + cfg.Cold.SecretKey,
		"AWS_SESSION_TOKEN=" + cfg.Cold.SessionToken,
		"AWS_REGION=" + cfg.Cold.Region,
		"S3_BUCKET=" + cfg.Cold.Bucket,
		"S3_ENDPOINT=" + cfg.Cold.Endpoint,
		"S3_PUBLIC_ENDPOINT=" + cfg.Cold.PublicEndpoint,
		"MAX_FILE_SIZE_MB=" + strconv.FormatInt(cfg.MaxFileSize>>20, 10),
		"MULTIPART_THRESHOLD_MB=" + strconv.FormatInt(cfg.MultipartThreshold>>20, 10),
		"ALLOWED_CONTENT_TYPES=" + strings.Join(cfg.AllowedContentTypes, ","),
		"CORS_ORIGINS=" + strings.Join(cfg.CORSOrigins, ","),
		"DOWNLOAD_MODE=" + cfg.DownloadMode,
		"SYNC_BATCH_SIZE=" + strconv.Itoa(cfg.SyncBatchSize),
		"SYNC_MAX_RETRIES=" + strconv.Itoa(cfg.SyncMaxRetries),
		"SYNC_SCHEDULE=" + cfg.SyncSchedule,
		"SYNC_TRIGGER_TOKEN=" + cfg.SyncTriggerToken,
		"SYNC_LOG_FILE=" + cfg.SyncLogFile,
		"DELETE_FROM_MINIO_AFTER_SYNC=" + strconv.FormatBool(cfg.DeleteFromMinioAfterSync),
		"SYNC_VERIFY=" + cfg.SyncVerify,
		"COLD_STORAGE_CLASS=" + cfg.ColdStorageClass,
		"SYNC_WORKERS=" + strconv.Itoa(cfg.SyncWorkers),
		"SYNC_QUEUE_URL=" + cfg.SyncQueueURL,
		"SQS_ENDPOINT=" + cfg.SQSEndpoint,
		"UPLOAD_MIN_BYTES_PER_SEC=" + strconv.Itoa(cfg.UploadMinRate),
		"MAX_STREAMED_UPLOADS=" + strconv.Itoa(cfg.MaxStreamedUploads),
		"MAX_STREAMED_UPLOADS_PER_USER=" + strconv.Itoa(cfg.MaxStreamedUploadsPerUser),
		"MAX_OPEN_UPLOADS=" + strconv.Itoa(cfg.MaxOpenUploads),
		"MAX_OPEN_UPLOAD_MB=" + strconv.FormatInt(cfg.MaxOpenUploadBytes>>20, 10),
		"TRASH_RETENTION_DAYS=" + strconv.Itoa(cfg.TrashRetentionDays),
		"USER_QUOTA_MB=" + strconv.FormatInt(cfg.UserQuota>>20, 10),
	}
}

func joinNets(nets []*net.IPNet) string {
	s := make([]string, len(nets))
	for i, n := range nets {
		s[i] = n.String()
	}
	return strings.Join(s, ",")
}

// App builds the application over cfg, migrates and creates its buckets,
// and closes it when tb ends.
func App(tb testing.TB, cfg config.Config) *app.App {
	tb.Helper()
	ctx := context.Background()
	a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(testWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(a.Close)
	if err := a.Prepare(ctx); err != nil {
		tb.Fatal(err)
	}
	return a
}

// testWriter sends log lines to the test log.
type testWriter struct{ tb testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// UserToken starts a session of userID in a's database and returns an
// access token of it, as a login would (tests that need a user's token
// without going through POST /api/auth/login).
func UserToken(tb testing.TB, a *app.App, userID int64) string {
	tb.Helper()
	s, err := a.DB.CreateSession(context.Background(), userID, auth.HashToken(auth.NewOpaqueToken()), a.Config.SessionMax, "127.0.0.1", "testenv")
	if err != nil {
		tb.Fatal(err)
	}
	tok, _, err := a.Auth.IssueToken(userID, s.ID, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}
