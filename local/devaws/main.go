// Command devaws is `make dev-aws`: the deployed (CDK) shape of the product
// on this machine, without Docker or AWS, with every setting taken from
// shared/hosted as the CDK app takes it.
//
//   - The SPA (built with VITE_API_BASE_URL = the API's origin) on its own
//     origin, served like the CloudFront distribution: 403/404 answer
//     /index.html with 200, and the response headers policy
//     (hosted.SPAHeaders).
//   - The API on another origin: shared/gateway (API Gateway: CORS, limits,
//     30 s timeout, reserved concurrency) in front of every function's real
//     bootstrap (linux/amd64) under the Lambda Runtime Interface Emulator,
//     with the environment the API stack sets (DOWNLOAD_MODE=redirect, ...)
//     and the secrets as plain variables (shared/secrets reads them so when
//     no *_SECRET_ARN is set).
//   - The hot and cold tiers on two S3 servers (versitygw, started by
//     scripts/dev-aws.sh); this command, acting as the deploy, creates the
//     buckets and sets their CORS from the table: the cold bucket's as the
//     stateful stack does, the hot bucket's as docs/deploy.md says.
//     Functions never set bucket CORS.
//   - The migrations applied by invoking functions/migrate, as the CDK
//     Trigger does on every deploy.
//   - A Lambda Invoke endpoint (POST /2015-03-31/functions/<name>/invocations
//     on -invoke) standing in for EventBridge and `aws lambda invoke`:
//     `make sync-aws` posts the scheduled event to the sync function there.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/hybrid-storage/hybrid-storage/shared/gateway"
	"github.com/hybrid-storage/hybrid-storage/shared/hosted"
	"github.com/hybrid-storage/hybrid-storage/shared/httpapi"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
	"github.com/hybrid-storage/hybrid-storage/shared/storage"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "devaws:", err)
		os.Exit(1)
	}
}

// settings is what the deploy would be given (CDK context and secrets).
type settings struct {
	webAddr, apiAddr, invokeAddr string // listen addresses
	webOrigin, apiOrigin         string // what browsers use
	hot, cold                    tier
	databaseURL                  string
	secretKey, syncToken         string
	webDir, functionsDir         string
	rie                          string
}

// tier is one S3 server and its bucket.
type tier struct {
	endpoint string // host:port the functions use
	public   string // origin browsers use
	bucket   string
	key      string
	secret   string
}

func run() error {
	var s settings
	flag.StringVar(&s.webAddr, "web", "127.0.0.1:8080", "listen address of the SPA (the distribution)")
	flag.StringVar(&s.apiAddr, "api", "127.0.0.1:8000", "listen address of the API (API Gateway)")
	flag.StringVar(&s.invokeAddr, "invoke", "127.0.0.1:8001", "listen address of the Lambda Invoke endpoint")
	flag.StringVar(&s.hot.endpoint, "hot", "127.0.0.1:9000", "hot tier S3 server (host:port)")
	flag.StringVar(&s.cold.endpoint, "cold", "127.0.0.1:9100", "cold tier S3 server (host:port)")
	flag.StringVar(&s.webDir, "web-dir", "frontend/dist-aws", "the SPA built with VITE_API_BASE_URL = the API origin")
	flag.StringVar(&s.functionsDir, "functions", ".data-aws/functions", "the bootstraps (linux/amd64, one per functions/<name>)")
	flag.StringVar(&s.rie, "rie", ".bin/aws-lambda-rie", "the Lambda Runtime Interface Emulator")
	flag.Parse()
	env := func(k, def string) string {
		if v := os.Getenv(k); v != "" {
			return v
		}
		return def
	}
	s.hot.bucket, s.cold.bucket = env("MINIO_BUCKET", "local-files"), env("S3_BUCKET", "cloud-files")
	s.hot.key, s.hot.secret = os.Getenv("HOT_ACCESS_KEY"), os.Getenv("HOT_SECRET_KEY")
	s.cold.key, s.cold.secret = os.Getenv("COLD_ACCESS_KEY"), os.Getenv("COLD_SECRET_KEY")
	s.databaseURL, s.secretKey, s.syncToken = os.Getenv("DATABASE_URL"), os.Getenv("SECRET_KEY"), os.Getenv("SYNC_TRIGGER_TOKEN")
	for k, v := range map[string]string{"DATABASE_URL": s.databaseURL, "SECRET_KEY": s.secretKey, "SYNC_TRIGGER_TOKEN": s.syncToken,
		"HOT_ACCESS_KEY": s.hot.key, "HOT_SECRET_KEY": s.hot.secret, "COLD_ACCESS_KEY": s.cold.key, "COLD_SECRET_KEY": s.cold.secret} {
		if v == "" {
			return fmt.Errorf("%s is not set (scripts/dev-aws.sh sets it)", k)
		}
	}
	// Browsers reach every server as localhost: four origins by port.
	s.webOrigin, s.apiOrigin = "http://"+localhost(s.webAddr), "http://"+localhost(s.apiAddr)
	s.hot.public, s.cold.public = "http://"+localhost(s.hot.endpoint), "http://"+localhost(s.cold.endpoint)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))

	// The deploy: database, buckets and their CORS, then the migrations.
	if _, err := postgres.CreateDatabase(ctx, s.databaseURL); err != nil {
		return err
	}
	origins := []string{s.webOrigin}
	if err := deployBucket(ctx, s.hot, hosted.HotBucketCORS(origins)); err != nil {
		return fmt.Errorf("hot tier: %w", err)
	}
	if err := deployBucket(ctx, s.cold, hosted.ColdBucketCORS(origins)); err != nil {
		return fmt.Errorf("cold tier: %w", err)
	}
	logDir := filepath.Join(filepath.Dir(s.functionsDir), "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return err
	}
	pool := &gateway.Pool{
		BinDir: s.functionsDir,
		RIE:    s.rie,
		Env:    functionEnv(s),
		Logs: func(function string) io.Writer {
			f, err := os.OpenFile(filepath.Join(logDir, function+".log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
			if err != nil {
				return io.Discard
			}
			return f // closed when the process ends
		},
	}
	defer pool.Close()
	out, err := pool.Invoke(ctx, hosted.MigrateFunction, []byte(`{}`))
	if err != nil {
		return fmt.Errorf("migrate function: %w (logs in %s)", err, logDir)
	}
	logger.Info("migrations applied by functions/migrate", "answer", strings.TrimSpace(string(out)))

	servers := []*http.Server{
		{Addr: s.apiAddr, Handler: gateway.Handler(httpapi.Routes, gateway.Options{CORSOrigins: origins}, pool.Invoke)},
		{Addr: s.webAddr, Handler: distribution(s.webDir, hosted.SPAHeaders([]string{s.apiOrigin, s.hot.public, s.cold.public}))},
		{Addr: s.invokeAddr, Handler: invokeAPI(pool)},
	}
	errc := make(chan error, len(servers))
	for _, srv := range servers {
		srv.ReadHeaderTimeout = 10 * time.Second
		ln, err := net.Listen("tcp", srv.Addr)
		if err != nil {
			return err
		}
		go func() { errc <- srv.Serve(ln) }()
	}
	logger.Info("the hosted shape is up",
		"spa", s.webOrigin, "api", s.apiOrigin, "hot", s.hot.public, "cold", s.cold.public,
		"invoke", "http://"+s.invokeAddr+"/2015-03-31/functions/<name>/invocations", "function_logs", logDir)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, srv := range servers {
		_ = srv.Shutdown(sctx)
	}
	return nil
}

// localhost is addr with its host replaced by localhost.
func localhost(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return "localhost:" + port
}

// functionEnv is the environment the API stack gives every function
// (infra/stacks/api.go), with the secrets as plain variables instead of
// *_SECRET_ARN, and the cold tier on its S3 server instead of AWS.
func functionEnv(s settings) []string {
	env := map[string]string{
		"ACCESS_TOKEN_EXPIRE_MINUTES":  "1440",
		"MINIO_ENDPOINT":               s.hot.endpoint,
		"MINIO_PUBLIC_ENDPOINT":        localhost(s.hot.endpoint),
		"MINIO_BUCKET":                 s.hot.bucket,
		"MINIO_SECURE":                 "false",
		"S3_BUCKET":                    s.cold.bucket,
		"MAX_FILE_SIZE_MB":             "100",
		"SYNC_BATCH_SIZE":              "10",
		"SYNC_MAX_RETRIES":             "3",
		"DELETE_FROM_MINIO_AFTER_SYNC": "false",
		"SYNC_VERIFY":                  "checksum",
		"COLD_STORAGE_CLASS":           "STANDARD",
		"SYNC_WORKERS":                 strconv.Itoa(hosted.DefaultSyncWorkers),
		// No SQS here: make sync-aws runs the night inline in the sync
		// function (SYNC_WORKERS loops); the fan-out is tested on goaws.
		"SYNC_QUEUE_URL":        "",
		"CORS_ORIGINS":          s.webOrigin,
		"ALLOWED_CONTENT_TYPES": "",
		// Standing in for what the Lambda runtime and AWS give.
		"AWS_REGION":            "us-east-1",
		"AWS_ACCESS_KEY_ID":     s.cold.key,
		"AWS_SECRET_ACCESS_KEY": s.cold.secret,
		"S3_ENDPOINT":           "http://" + s.cold.endpoint,
		"S3_PUBLIC_ENDPOINT":    s.cold.public,
		// The secrets (Secrets Manager on AWS).
		"SECRET_KEY":         s.secretKey,
		"DATABASE_URL":       s.databaseURL,
		"MINIO_ACCESS_KEY":   s.hot.key,
		"MINIO_SECRET_KEY":   s.hot.secret,
		"SYNC_TRIGGER_TOKEN": s.syncToken,
	}
	for k, v := range hosted.FunctionEnv {
		env[k] = v
	}
	out := []string{"PATH=" + os.Getenv("PATH"), "TZ=UTC"}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// deployBucket creates the bucket on its server if missing and sets its CORS.
func deployBucket(ctx context.Context, t tier, rules []hosted.CORS) error {
	c := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://" + t.endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(t.key, t.secret, ""),
	})
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(t.bucket)}); err != nil {
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(t.bucket)}); err != nil {
			return fmt.Errorf("create bucket %s: %w", t.bucket, err)
		}
	}
	cfg := &types.CORSConfiguration{CORSRules: storage.S3CORSRules(rules)}
	if _, err := c.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String(t.bucket), CORSConfiguration: cfg}); err != nil {
		return fmt.Errorf("set CORS on %s: %w", t.bucket, err)
	}
	return nil
}

// distribution serves dir as the CloudFront distribution of the web stack
// does: the response headers policy on every answer, and a missing file
// (S3 answers 403 through origin access control, or 404) answered with
// hosted.SPAFallbackPage and 200.
func distribution(dir string, headers map[string]string) http.Handler {
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := filepath.Join(dir, filepath.FromSlash(filepath.Clean("/"+r.URL.Path)))
		if fi, err := os.Stat(name); err != nil || fi.IsDir() && r.URL.Path != "/" {
			http.ServeFile(w, r, filepath.Join(dir, filepath.FromSlash(hosted.SPAFallbackPage)))
			return
		}
		files.ServeHTTP(w, r)
	})
}

// invokeAPI is Lambda's Invoke API for the pool: POST
// /2015-03-31/functions/<name>/invocations with the event as the body
// answers the function's result (X-Amz-Function-Error on a function error).
func invokeAPI(pool *gateway.Pool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if _, err := os.Stat(filepath.Join(pool.BinDir, name)); err != nil || strings.ContainsAny(name, "/.") {
			http.Error(w, `{"Message":"Function not found"}`, http.StatusNotFound)
			return
		}
		event, err := io.ReadAll(io.LimitReader(r.Body, hosted.MaxPayload+1))
		if err != nil || len(event) > hosted.MaxPayload {
			http.Error(w, `{"Message":"Request too large"}`, http.StatusRequestEntityTooLarge)
			return
		}
		out, err := pool.Invoke(r.Context(), name, event)
		switch {
		case errors.Is(err, gateway.ErrThrottled):
			http.Error(w, `{"Message":"Rate Exceeded.","Reason":"ReservedFunctionConcurrentInvocationLimitExceeded"}`, http.StatusTooManyRequests)
			return
		case err != nil:
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			w.WriteHeader(http.StatusOK)
			fmt.Fprintf(w, "%q\n", err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.Copy(w, bytes.NewReader(out))
	})
	return mux
}
