package lambdagw

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/httpapi"
	"github.com/hybrid-storage/hybrid-storage/shared/testenv"
)

// FunctionTimeout is AWS_LAMBDA_FUNCTION_TIMEOUT of every function, as
// deployed (infra/stacks/api.go: 29 s, under API Gateway's 30 s).
const FunctionTimeout = "29"

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

// New returns the gateway for tb over every route of httpapi.Routes, each
// function a real bootstrap under its own emulator with cfg as its
// environment (testenv.Env). Emulators start on a function's first request
// and stop, with their logs written to the test log if tb failed, when tb
// ends.
func New(tb testing.TB, cfg config.Config) http.Handler {
	tb.Helper()
	dir, err := Build()
	if err != nil {
		tb.Fatal(err)
	}
	rie, err := RIE()
	if err != nil {
		tb.Fatal(err)
	}
	env := functionEnv(cfg)
	fns := map[string]*function{}
	for _, rt := range httpapi.Routes {
		if fns[rt.Function] == nil {
			fns[rt.Function] = &function{name: rt.Function, bin: filepath.Join(dir, rt.Function), rie: rie, env: env}
		}
	}
	tb.Cleanup(func() {
		for _, f := range fns {
			f.stop(tb)
		}
	})
	hc := &http.Client{Timeout: 40 * time.Second}
	return Handler(httpapi.Routes, cfg.CORSOrigins, func(ctx context.Context, name string, event []byte) ([]byte, error) {
		f := fns[name]
		f.mu.Lock() // one invocation at a time, like one warm instance
		defer f.mu.Unlock()
		if err := f.start(); err != nil {
			return nil, err
		}
		return invokeURL(ctx, hc, f.url, event)
	})
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
	dir, err := Build()
	if err != nil {
		tb.Fatal(err)
	}
	rie, err := RIE()
	if err != nil {
		tb.Fatal(err)
	}
	f := &function{name: name, bin: filepath.Join(dir, name), rie: rie, env: functionEnv(cfg, extra...)}
	tb.Cleanup(func() { f.stop(tb) })
	if err := f.start(); err != nil {
		tb.Fatal(err)
	}
	return f.url
}

// function is one bootstrap under one emulator.
type function struct {
	name, bin, rie string
	env            []string

	mu      sync.Mutex
	started bool
	url     string
	cmd     *exec.Cmd
	logs    bytes.Buffer // written by the process; read after it ended
	err     error
}

// start runs the emulator once; f.mu is held.
func (f *function) start() error {
	if f.started {
		return f.err
	}
	f.started = true
	f.err = f.run()
	return f.err
}

func (f *function) run() error {
	port, err := testenv.FreePort()
	if err != nil {
		return err
	}
	apiPort, err := testenv.FreePort()
	if err != nil {
		return err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(f.rie,
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", apiPort),
		f.bin)
	cmd.Env = f.env
	cmd.Stdout, cmd.Stderr = &f.logs, &f.logs
	// Its own process group, so that stop ends the bootstrap as well; and
	// it dies with the test binary.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := testenv.Start(cmd); err != nil {
		return fmt.Errorf("lambdagw: start %s: %w", f.name, err)
	}
	f.cmd = cmd
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("lambdagw: %s: emulator did not listen on %s", f.name, addr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.url = "http://" + addr + "/2015-03-31/functions/function/invocations"
	return nil
}

func (f *function) stop(tb testing.TB) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cmd == nil {
		return
	}
	_ = syscall.Kill(-f.cmd.Process.Pid, syscall.SIGKILL)
	_ = f.cmd.Wait()
	if tb.Failed() {
		tb.Logf("lambda %s logs:\n%s", f.name, f.logs.String())
	}
	f.cmd = nil
}
