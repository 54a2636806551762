// Command bench measures the file store against a real S3 server and
// PostgreSQL: large uploads and downloads through the API against direct
// minio-go calls, the server's memory during uploads, presigned multipart
// uploads, list and metadata latency on a million rows, a login flood, and
// the Lambda bootstraps' size and start-up time. bench/run.sh (make bench)
// starts the S3 server and builds the binaries; this program creates its own
// database (dropped at the end), runs the local server as a child process
// and prints one line per figure.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

type options struct {
	s3, server, work, rie, bootstrap, dist, adminDB string
	only                                            string
	bigSize                                         int64
	s3pid                                           int
}

func main() {
	var o options
	flag.StringVar(&o.s3, "s3", "", "host:port of the S3 server (root keys minioadmin/minioadmin)")
	flag.StringVar(&o.server, "server", "", "the local server binary (go build ./local)")
	flag.StringVar(&o.work, "work", os.TempDir(), "scratch directory for the 1 GiB file and logs")
	flag.StringVar(&o.rie, "rie", ".bin/aws-lambda-rie", "the Lambda Runtime Interface Emulator")
	flag.StringVar(&o.bootstrap, "bootstrap", "", "a linux/amd64 bootstrap of the healthz function, for start-up times")
	flag.StringVar(&o.dist, "dist", "dist", "directory of the built Lambda functions (make lambdas)")
	flag.StringVar(&o.adminDB, "db", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "maintenance database URL")
	flag.StringVar(&o.only, "only", "", "comma-separated scenarios to run (default all): rss,transfer,multipart,small,list,metadata,flood,lambda,sync")
	flag.IntVar(&o.s3pid, "s3pid", 0, "process id of the S3 server, to count its CPU time (0: not counted)")
	flag.Int64Var(&o.bigSize, "size", 1<<30, "size of the large file in bytes")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// env is what every scenario works against.
type env struct {
	o       options
	ctx     context.Context
	dbURL   string
	base    string // http://127.0.0.1:port of the server
	srv     *exec.Cmd
	token   string
	hc      *http.Client
	minio   *minio.Client
	trailer *minio.Client // signs no payload, sends a CRC32C trailer: as the server's hot client
	core    *minio.Core   // on trailer
	hot     string        // hot bucket name
	bigFile string        // path of the large test file
	report  *report
}

func (e *env) want(s string) bool {
	if e.o.only == "" {
		return true
	}
	for _, x := range strings.Split(e.o.only, ",") {
		if strings.TrimSpace(x) == s {
			return true
		}
	}
	return false
}

func run(ctx context.Context, o options) error {
	if o.s3 == "" || o.server == "" {
		return errors.New("-s3 and -server are required (bench/run.sh sets them)")
	}
	e := &env{o: o, ctx: ctx, hot: "bench-hot", report: &report{}}
	dbURL, drop, err := createDB(ctx, o.adminDB)
	if err != nil {
		return err
	}
	defer drop()
	e.dbURL = dbURL
	mc, err := minio.New(o.s3, &minio.Options{Creds: credentials.NewStaticV4("minioadmin", "minioadmin", ""), Region: "us-east-1"})
	if err != nil {
		return err
	}
	e.minio = mc
	if e.trailer, err = minio.New(o.s3, &minio.Options{Creds: credentials.NewStaticV4("minioadmin", "minioadmin", ""), Region: "us-east-1", TrailingHeaders: true}); err != nil {
		return err
	}
	e.core = &minio.Core{Client: e.trailer}
	e.hc = &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	if err := e.startServer(); err != nil {
		return err
	}
	defer e.stopServer()
	if err := e.signup("bench@example.com"); err != nil {
		return err
	}
	scenarios := []struct {
		name string
		fn   func() error
	}{
		{"rss", e.rss}, // first: the server has not yet grown its heap
		{"transfer", e.transfer},
		{"multipart", e.multipart},
		{"small", e.small}, // before list: it measures a table without the million rows first
		{"list", e.list},
		{"metadata", e.metadata},
		{"flood", e.flood},
		{"lambda", e.lambda},
		{"sync", e.syncJob},
	}
	needBig := e.want("transfer") || e.want("rss") || e.want("multipart")
	if needBig {
		if e.bigFile, err = makeFile(o.work, o.bigSize); err != nil {
			return err
		}
		defer os.Remove(e.bigFile)
	}
	for _, s := range scenarios {
		if !e.want(s.name) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		fmt.Printf("# %s\n", s.name)
		if err := s.fn(); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	e.report.print()
	return nil
}

// createDB creates a fresh database next to adminURL's and returns its URL
// and a function dropping it.
func createDB(ctx context.Context, adminURL string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("hs_bench_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench: drop database:", err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			fmt.Fprintln(os.Stderr, "bench: drop database:", err)
		}
	}
	i := strings.LastIndex(adminURL, "/")
	j := strings.IndexByte(adminURL[i:], '?')
	rest := ""
	if j >= 0 {
		rest = adminURL[i+j:]
	}
	return adminURL[:i+1] + name + rest, drop, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// serverEnv is the configuration of the server under test.
func (e *env) serverEnv(port int) []string {
	return append(os.Environ(),
		"DEV_MODE=true",
		"DATABASE_URL="+e.dbURL,
		"MINIO_ENDPOINT="+e.o.s3,
		"MINIO_BUCKET="+e.hot,
		"MINIO_ACCESS_KEY=minioadmin", "MINIO_SECRET_KEY=minioadmin",
		"AWS_ACCESS_KEY_ID=minioadmin", "AWS_SECRET_ACCESS_KEY=minioadmin",
		"S3_ENDPOINT=http://"+e.o.s3,
		"S3_BUCKET=bench-cold",
		"MAX_FILE_SIZE_MB=4096",
		"MAX_STREAMED_UPLOADS_PER_USER=16", // the memory figure sends 8 uploads of one user at once, small 16
		"PORT="+strconv.Itoa(port),
		"WEB_DIR="+filepath.Join(e.o.work, "no-web"),
	)
}

func (e *env) startServer() error {
	port, err := freePort()
	if err != nil {
		return err
	}
	log, err := os.Create(filepath.Join(e.o.work, "server.log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(e.o.server)
	cmd.Env = e.serverEnv(port)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start server: %w", err)
	}
	e.srv = cmd
	e.base = fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(e.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("server not ready within 30 s (see %s)", log.Name())
}

func (e *env) stopServer() {
	if e.srv != nil && e.srv.Process != nil {
		_ = e.srv.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = e.srv.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = e.srv.Process.Kill()
		}
	}
}

// makeFile writes size pseudo-random bytes to a temporary file.
func makeFile(dir string, size int64) (string, error) {
	f, err := os.CreateTemp(dir, "bench-big-*.bin")
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := io.Copy(f, io.LimitReader(newFastRand(), size)); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), f.Sync()
}

// fastRand is a cheap incompressible byte stream (xorshift), so that making
// the test file does not take longer than the test.
type fastRand struct{ s uint64 }

func newFastRand() *fastRand { return &fastRand{s: uint64(time.Now().UnixNano()) | 1} }

func (r *fastRand) Read(p []byte) (int, error) {
	i := 0
	for ; i+8 <= len(p); i += 8 {
		r.s ^= r.s << 13
		r.s ^= r.s >> 7
		r.s ^= r.s << 17
		v := r.s
		p[i], p[i+1], p[i+2], p[i+3], p[i+4], p[i+5], p[i+6], p[i+7] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24), byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56)
	}
	for ; i < len(p); i++ {
		p[i] = byte(r.s >> (8 * (i % 8)))
	}
	return len(p), nil
}
