package lambdafn_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hybrid-storage/hybrid-storage/shared/testenv"
	"github.com/hybrid-storage/hybrid-storage/shared/testenv/lambdagw"
)

// TestMigrateUnderRuntimeInterfaceEmulator runs functions/migrate's real
// bootstrap under the emulator against a database without tables: the
// first invocation applies every migration, the second none.
func TestMigrateUnderRuntimeInterfaceEmulator(t *testing.T) {
	t.Parallel()
	rie, err := lambdagw.RIE()
	if err != nil {
		t.Fatal(err)
	}
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cfg := testenv.Config(t)
	cfg.DatabaseURL = testenv.EmptyDatabaseURL(t)

	dir := t.TempDir()
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", dir+"/", "./functions/migrate")
	build.Dir = root
	build.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build migrate: %v\n%s", err, out)
	}
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	apiPort, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", addr,
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", apiPort), filepath.Join(dir, "migrate"))
	cmd.Env = append(os.Environ(), testenv.Env(cfg)...)
	cmd.Env = append(cmd.Env, "AWS_LAMBDA_FUNCTION_TIMEOUT=60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := testenv.Start(cmd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		if t.Failed() {
			t.Logf("migrate logs:\n%s", logs.String())
		}
	})
	for i := 0; i < 200; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	invoke := func(ev string) int {
		t.Helper()
		resp, err := http.Post("http://"+addr+"/2015-03-31/functions/function/invocations", "application/json", bytes.NewReader([]byte(ev)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var out struct {
			Applied *int `json:"applied"`
		}
		if err := json.Unmarshal(b, &out); err != nil || out.Applied == nil {
			t.Fatalf("migrate answered %d %s", resp.StatusCode, b)
		}
		return *out.Applied
	}

	if n := invoke(`{}`); n < 1 {
		t.Fatalf("first invocation applied %d migrations, want at least 1", n)
	}
	conn, err := pgx.Connect(t.Context(), cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	for _, table := range []string{"users", "files"} {
		var exists bool
		if err := conn.QueryRow(t.Context(), `SELECT to_regclass($1) IS NOT NULL`, "public."+table).Scan(&exists); err != nil || !exists {
			t.Errorf("table %s after migrate: exists=%v (%v)", table, exists, err)
		}
	}
	// A CDK Trigger's custom-resource event: nothing left to apply.
	if n := invoke(`{"RequestType":"Create","ResourceProperties":{"HandlerArn":"arn:aws:lambda:us-east-1:123456789012:function:x"}}`); n != 0 {
		t.Errorf("second invocation applied %d migrations, want 0", n)
	}
}

// TestMigrateFailsTheInvocation: a database that cannot be reached is an
// error of the invocation, not an answer (a deploy must fail on it).
func TestMigrateFailsTheInvocation(t *testing.T) {
	t.Parallel()
	if _, err := lambdafnMigrate(t, "postgres://postgres@127.0.0.1:1/nope?sslmode=disable&connect_timeout=2"); err == nil {
		t.Fatal("migrate against an unreachable database did not fail")
	}
}
