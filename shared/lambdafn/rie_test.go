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
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/hybrid-storage/hybrid-storage/shared/testenv"
)

// TestUnderRuntimeInterfaceEmulator builds real bootstraps (linux/amd64,
// as deployed but for this machine's architecture) and runs them under the
// AWS Lambda Runtime Interface Emulator, the way Lambda runs them.
func TestUnderRuntimeInterfaceEmulator(t *testing.T) {
	t.Parallel()
	rie, err := exec.LookPath("aws-lambda-rie")
	if err != nil {
		root, _ := testenv.RepoRoot()
		rie = filepath.Join(root, ".bin", "aws-lambda-rie")
		if _, err := os.Stat(rie); err != nil {
			t.Fatal("aws-lambda-rie not found: run `make tools`")
		}
	}
	cfg := testenv.Config(t)
	testenv.App(t, cfg) // migrate and create buckets
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}

	// One go build for the three functions, as linux/amd64 static binaries.
	dir := t.TempDir()
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", dir+"/", "./functions/signup", "./functions/login", "./functions/me")
	build.Dir = root
	build.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build functions: %v\n%s", err, out)
	}
	start := func(fn string) string {
		bin := filepath.Join(dir, fn)
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
			"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", apiPort), bin)
		cmd.Env = append(os.Environ(), testenv.Env(cfg)...)
		cmd.Env = append(cmd.Env, "AWS_LAMBDA_FUNCTION_TIMEOUT=30")
		var logs bytes.Buffer
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
			if t.Failed() {
				t.Logf("%s logs:\n%s", fn, logs.String())
			}
		})
		for i := 0; i < 100; i++ {
			if c, err := net.Dial("tcp", addr); err == nil {
				c.Close()
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		return "http://" + addr + "/2015-03-31/functions/function/invocations"
	}
	call := func(url string, ev []byte) events.APIGatewayV2HTTPResponse {
		t.Helper()
		resp, err := http.Post(url, "application/json", bytes.NewReader(ev))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var out events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("invoke answer %s: %v", b, err)
		}
		return out
	}

	signup, login, me := start("signup"), start("login"), start("me")
	creds := []byte(`{"email":"rie@example.com","password":"password123"}`)
	if r := call(signup, event(t, "POST", "/api/auth/signup", "", "", "application/json", creds, false)); r.StatusCode != 201 {
		t.Fatalf("signup under RIE: %d %s", r.StatusCode, r.Body)
	}
	r := call(login, event(t, "POST", "/api/auth/login", "", "", "application/json", creds, false))
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if r.StatusCode != 200 || json.Unmarshal([]byte(r.Body), &tok) != nil {
		t.Fatalf("login under RIE: %d %s", r.StatusCode, r.Body)
	}
	r = call(me, event(t, "GET", "/api/auth/me", "", tok.AccessToken, "", nil, false))
	if r.StatusCode != 200 || !bytes.Contains([]byte(r.Body), []byte(`"rie@example.com"`)) {
		t.Fatalf("me under RIE: %d %s", r.StatusCode, r.Body)
	}
	r = call(me, event(t, "GET", "/api/auth/me", "", "", "", nil, false))
	if r.StatusCode != 401 {
		t.Errorf("me without token under RIE: %d %s", r.StatusCode, r.Body)
	}
}
