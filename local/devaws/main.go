// Command devaws is `make dev-aws`: the deployed (CDK) shape of the product
// on this machine, without Docker or AWS, with every setting taken from
// shared/hosted as the CDK app takes it.
//
//   - The SPA (built with an empty VITE_API_BASE_URL: same origin) served
//     like the CloudFront distribution: client-side routes answer
//     /index.html (hosted.SPAFallback, the viewer-request function's rule),
//     the response headers policy (hosted.SPAHeaders), and /api/* proxied to
//     the API with every header but Host and nothing cached
//     (hosted.APIPathPattern), so the SPA and the API share one origin.
//   - The API on its own origin too (API clients, as the API Gateway URL on
//     AWS): shared/gateway (API Gateway: CORS, limits,
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
//   - The nightly chain as AWS runs it: SQS on goaws (-sqs; started here)
//     with the ticket queue and its dead-letter queue as the API stack
//     creates them (visibility timeout hosted.SyncQueueVisibility, redrive
//     after hosted.SyncMaxReceiveCount deliveries), every function given
//     SYNC_QUEUE_URL, and the queue's event source mapping (shared/esm)
//     invoking functions/sync-worker: batch size 1, at most SYNC_WORKERS
//     invocations at once, ReportBatchItemFailures.
//   - A Lambda Invoke endpoint (POST /2015-03-31/functions/<name>/invocations
//     on -invoke) standing in for EventBridge and `aws lambda invoke`:
//     `make sync-aws` posts the scheduled event to functions/sync-dispatch
//     there, as the nightly rule does.
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
	"net/http/httputil"
	"net/url"
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
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/hybrid-storage/hybrid-storage/shared/esm"
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
	smtpURL                      string // the SMTP_URL secret: scripts/dev-aws.sh's mailpit ("none": no mail)
	tokenSeconds                 string // ACCESS_TOKEN_EXPIRE_SECONDS when the e2e asks for short access tokens
	webDir, functionsDir         string
	rie                          string
	goaws, sqsAddr               string // the SQS server's binary and address
	sqsEndpoint, queueURL        string // set once the queue exists
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
	flag.StringVar(&s.webDir, "web-dir", "frontend/dist-aws", "the SPA built for the hosted shape (same-origin API)")
	flag.StringVar(&s.functionsDir, "functions", ".data-aws/functions", "the bootstraps (linux/amd64, one per functions/<name>)")
	flag.StringVar(&s.rie, "rie", ".bin/aws-lambda-rie", "the Lambda Runtime Interface Emulator")
	flag.StringVar(&s.goaws, "goaws", ".bin/goaws", "the SQS server (goaws, built by make tools)")
	flag.StringVar(&s.sqsAddr, "sqs", "127.0.0.1:9324", "listen address of the SQS server")
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
	s.smtpURL, s.tokenSeconds = env("SMTP_URL", "none"), os.Getenv("ACCESS_TOKEN_EXPIRE_SECONDS")
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
	tickets, goaws, err := deployQueue(ctx, &s, logDir)
	if err != nil {
		return fmt.Errorf("ticket queue: %w", err)
	}
	defer func() { _ = goaws.Cmd.Process.Kill() }()
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
	out, err := pool.Invoke(ctx, "migrate", []byte(`{}`))
	if err != nil {
		return fmt.Errorf("migrate function: %w (logs in %s)", err, logDir)
	}
	logger.Info("migrations applied by functions/migrate", "answer", strings.TrimSpace(string(out)))

	// The ticket queue's event source mapping (the worker function's
	// trigger): batch size 1, MaximumConcurrency SYNC_WORKERS.
	mapping, err := esm.New(ctx, tickets, s.queueURL)
	if err != nil {
		return err
	}
	mapping.BatchSize, mapping.MaximumConcurrency, mapping.Logger = 1, syncWorkers(), logger
	mapping.Invoke = func(ctx context.Context, event []byte) ([]byte, error) {
		return pool.Invoke(ctx, ticketFunction(), event)
	}
	mctx, stopMapping := context.WithCancel(ctx)
	mapped := make(chan struct{})
	go func() {
		defer close(mapped)
		_ = mapping.Run(mctx)
	}()
	defer func() { stopMapping(); <-mapped }()

	servers := []*http.Server{
		{Addr: s.apiAddr, Handler: gateway.Handler(httpapi.Routes, gateway.Options{CORSOrigins: origins}, pool.Invoke)},
		{Addr: s.webAddr, Handler: distribution(s.webDir, hosted.SPAHeaders([]string{s.hot.public, s.cold.public}), "http://"+s.apiAddr)},
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
		"invoke", "http://"+s.invokeAddr+"/2015-03-31/functions/<name>/invocations", "function_logs", logDir,
		"sqs", s.sqsEndpoint, "ticket_queue", s.queueURL, "mapping", ticketFunction())
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

// ticketFunction is the function the ticket queue's mapping invokes.
func ticketFunction() string {
	for _, f := range httpapi.Functions {
		if f.Trigger == httpapi.Tickets {
			return f.Name
		}
	}
	panic("devaws: no function of the ticket queue in httpapi.Functions")
}

// syncWorkers is the mapping's MaximumConcurrency: SYNC_WORKERS as the
// deploy sets it by default.
func syncWorkers() int {
	for _, p := range hosted.Params {
		if p.Var == "SYNC_WORKERS" {
			n, err := strconv.Atoi(p.DefaultValue())
			if err != nil {
				panic("devaws: SYNC_WORKERS default: " + err.Error())
			}
			return n
		}
	}
	panic("devaws: SYNC_WORKERS is no deploy parameter (hosted.Params)")
}

// localhost is addr with its host replaced by localhost.
func localhost(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return "localhost:" + port
}

// functionEnv is the environment the API stack gives every function
// (infra/stacks/api.go: hosted.Params at their defaults, hosted.FunctionEnv),
// with the secrets as plain variables instead of *_SECRET_ARN, and the
// cold tier on its S3 server instead of AWS.
func functionEnv(s settings) []string {
	env := map[string]string{}
	for _, p := range hosted.Params {
		env[p.Var] = p.DefaultValue()
	}
	for k, v := range map[string]string{
		"MINIO_ENDPOINT":        s.hot.endpoint,
		"MINIO_PUBLIC_ENDPOINT": localhost(s.hot.endpoint),
		"MINIO_BUCKET":          s.hot.bucket,
		"MINIO_SECURE":          "false",
		"S3_BUCKET":             s.cold.bucket,
		"SYNC_QUEUE_URL":        s.queueURL,
		"CORS_ORIGINS":          s.webOrigin,
		"ALLOWED_CONTENT_TYPES": "",
		// Standing in for what the Lambda runtime and AWS give.
		"AWS_REGION":            "us-east-1",
		"AWS_ACCESS_KEY_ID":     s.cold.key,
		"AWS_SECRET_ACCESS_KEY": s.cold.secret,
		"S3_ENDPOINT":           "http://" + s.cold.endpoint,
		"S3_PUBLIC_ENDPOINT":    s.cold.public,
		"SQS_ENDPOINT":          s.sqsEndpoint, // goaws takes any credentials
		// The secrets (Secrets Manager on AWS).
		"SECRET_KEY":         s.secretKey,
		"DATABASE_URL":       s.databaseURL,
		"MINIO_ACCESS_KEY":   s.hot.key,
		"MINIO_SECRET_KEY":   s.hot.secret,
		"SYNC_TRIGGER_TOKEN": s.syncToken,
		"SMTP_URL":           s.smtpURL,
	} {
		env[k] = v
	}
	if s.tokenSeconds != "" { // the e2e: refreshes within seconds
		env["ACCESS_TOKEN_EXPIRE_SECONDS"] = s.tokenSeconds
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

// deployQueue starts the SQS server and creates the ticket queue and its
// dead-letter queue as the API stack does; it sets s.sqsEndpoint and
// s.queueURL and returns a client of the server, and the server.
func deployQueue(ctx context.Context, s *settings, logDir string) (*sqs.Client, *esm.Goaws, error) {
	logs, err := os.OpenFile(filepath.Join(logDir, "sqs.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, err
	}
	g, err := esm.StartGoaws(s.goaws, filepath.Dir(logDir), s.sqsAddr, logs, nil)
	if err != nil {
		return nil, nil, err
	}
	c := sqs.New(sqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(g.Endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(s.cold.key, s.cold.secret, ""),
	})
	q, err := esm.CreateQueue(ctx, c, "hybrid-storage-sync-tickets", hosted.SyncQueueVisibility, hosted.SyncMaxReceiveCount)
	if err != nil {
		_ = g.Cmd.Process.Kill()
		return nil, nil, err
	}
	s.sqsEndpoint, s.queueURL = g.Endpoint, q.URL
	return c, g, nil
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
// does: /api/* (hosted.APIPathPattern) from the API at api with every
// viewer header but Host and nothing cached; everything else from dir with
// the response headers policy, a client-side route (hosted.SPAFallback)
// answered with hosted.SPAFallbackPage, a missing file with 403 as S3
// through origin access control answers.
func distribution(dir string, headers map[string]string, api string) http.Handler {
	files := http.FileServer(http.Dir(dir))
	target, err := url.Parse(api)
	if err != nil {
		panic(err)
	}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target) // Host becomes the API's: CloudFront's AllViewerExceptHostHeader
			pr.Out.Header["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"]
			pr.SetXForwarded()
		},
		FlushInterval: -1,
	}
	apiPrefix := strings.TrimSuffix(hosted.APIPathPattern, "*")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, apiPrefix) {
			proxy.ServeHTTP(w, r)
			return
		}
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if hosted.SPAFallback(r.URL.Path) {
			http.ServeFile(w, r, filepath.Join(dir, filepath.FromSlash(hosted.SPAFallbackPage)))
			return
		}
		name := filepath.Join(dir, filepath.FromSlash(filepath.Clean("/"+r.URL.Path)))
		if fi, err := os.Stat(name); err != nil || fi.IsDir() {
			http.Error(w, "AccessDenied", http.StatusForbidden)
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
