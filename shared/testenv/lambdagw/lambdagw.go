// Package lambdagw is the Lambda-mode test harness: shared/gateway (a local
// API Gateway) in front of every function's real bootstrap (linux/amd64,
// built once per test binary with one go build) under the AWS Lambda
// Runtime Interface Emulator.
package lambdagw

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/gateway"
	"github.com/hybrid-storage/hybrid-storage/shared/httpapi"
	"github.com/hybrid-storage/hybrid-storage/shared/testenv"
)

// FunctionTimeout is AWS_LAMBDA_FUNCTION_TIMEOUT of every function: an
// API function's deployed timeout (httpapi.DefaultTimeout: 29 s, under API
// Gateway's 30 s).
var FunctionTimeout = strconv.Itoa(int(httpapi.DefaultTimeout.Seconds()))

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// Build compiles every functions/<name> into a directory of <name>
// binaries, once per process, with one go build: linux/amd64, CGO off,
// -tags lambda.norpc, as deployed except for the architecture.
func Build() (string, error) {
	buildOnce.Do(func() {
		root, err := testenv.RepoRoot()
		if err != nil {
			buildErr = err
			return
		}
		if buildDir, err = os.MkdirTemp("", "lambdagw-"); err != nil {
			buildErr = err
			return
		}
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", buildDir+"/", "./functions/...")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("lambdagw: build functions: %v\n%s", err, out)
		}
	})
	return buildDir, buildErr
}

// Cleanup removes what Build made; call it from TestMain after m.Run.
func Cleanup() {
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
}

// RIE finds aws-lambda-rie: PATH, then <repo>/.bin (make tools).
func RIE() (string, error) {
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p, nil
	}
	root, err := testenv.RepoRoot()
	if err != nil {
		return "", err
	}
	p := filepath.Join(root, ".bin", "aws-lambda-rie")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("aws-lambda-rie not found: run `make tools`")
	}
	return p, nil
}

// buildAndRIE returns the bootstraps' directory (Build) and the emulator
// (RIE), failing tb if either is missing.
func buildAndRIE(tb testing.TB) (dir, rie string) {
	tb.Helper()
	dir, err := Build()
	if err != nil {
		tb.Fatal(err)
	}
	rie, err = RIE()
	if err != nil {
		tb.Fatal(err)
	}
	return dir, rie
}

// New returns the gateway for tb over every route of httpapi.Routes, each
// function a real bootstrap under the emulator (shared/gateway.Pool, with
// the deployed reserved concurrency and one instance per other function)
// with cfg as its environment (testenv.Env). Instances start on a
// function's first request and stop, with their logs written to the test
// log if tb failed, when tb ends.
func New(tb testing.TB, cfg config.Config) *Gateway {
	tb.Helper()
	dir, rie := buildAndRIE(tb)
	logs := &logSet{}
	pool := &gateway.Pool{
		BinDir:       dir,
		RIE:          rie,
		Env:          functionEnv(cfg),
		FunctionEnv:  func(string) []string { return nil },
		MaxInstances: 1, // one warm instance per function
		Logs:         logs.new,
		Start:        testenv.Start,
	}
	tb.Cleanup(func() {
		pool.Close()
		logs.dump(tb)
	})
	h := gateway.Handler(httpapi.Routes, gateway.Options{CORSOrigins: cfg.CORSOrigins}, pool.Invoke)
	return &Gateway{logs: logs, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		// A gateway error (the invocation failed, not the function's
		// answer) says why only in this header: put it in the test log.
		if why := w.Header().Get("X-Lambdagw-Error"); why != "" {
			tb.Logf("gateway: %s %s: %s", r.Method, r.URL.Path, why)
		}
	})}
}

// Gateway is the local API Gateway of New.
type Gateway struct {
	http.Handler
	logs *logSet
}

// Logs returns what every function instance has written so far.
func (g *Gateway) Logs() string {
	g.logs.mu.Lock()
	defer g.logs.mu.Unlock()
	var b strings.Builder
	for _, nb := range g.logs.bufs {
		nb.mu.Lock()
		b.Write(nb.buf.Bytes())
		nb.mu.Unlock()
	}
	return b.String()
}

// logSet collects the output of every instance, for a failed test's log.
type logSet struct {
	mu   sync.Mutex
	bufs []*namedBuf
}

type namedBuf struct {
	name string
	mu   sync.Mutex
	buf  bytes.Buffer
}

func (b *namedBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (l *logSet) new(function string) io.Writer {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := &namedBuf{name: function}
	l.bufs = append(l.bufs, b)
	return b
}

func (l *logSet) dump(tb testing.TB) {
	if !tb.Failed() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range l.bufs {
		b.mu.Lock()
		tb.Logf("lambda %s logs:\n%s", b.name, b.buf.String())
		b.mu.Unlock()
	}
}

// functionEnv is the test's environment minus secret ARNs (a function
// would fetch them from Secrets Manager), then cfg, then extra.
func functionEnv(cfg config.Config, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasSuffix(k, "_SECRET_ARN") {
			env = append(env, kv)
		}
	}
	env = append(env, testenv.Env(cfg)...)
	env = append(env, "AWS_LAMBDA_FUNCTION_TIMEOUT="+FunctionTimeout)
	return append(env, extra...)
}

// StartRIE runs the bootstrap of one function (built by Build) under its
// own emulator with cfg (and extra KEY=value settings), stops it when tb
// ends, printing its logs if tb failed, and returns its invoke URL.
func StartRIE(tb testing.TB, name string, cfg config.Config, extra ...string) string {
	tb.Helper()
	dir, rie := buildAndRIE(tb)
	logs := &logSet{}
	inst, err := gateway.StartInstance(rie, filepath.Join(dir, name), functionEnv(cfg, extra...), logs.new(name), testenv.Start)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		inst.Stop()
		logs.dump(tb)
	})
	return inst.URL
}
