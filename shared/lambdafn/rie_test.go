package lambdafn_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/hybrid-storage/hybrid-storage/shared/testenv"
	"github.com/hybrid-storage/hybrid-storage/shared/testenv/lambdagw"
)

// TestUnderRuntimeInterfaceEmulator builds real bootstraps (linux/amd64,
// as deployed but for this machine's architecture) and runs them under the
// AWS Lambda Runtime Interface Emulator, the way Lambda runs them.
func TestUnderRuntimeInterfaceEmulator(t *testing.T) {
	t.Parallel()
	cfg := testenv.Config(t)
	testenv.App(t, cfg) // migrate and create buckets
	start := func(fn string) string { return lambdagw.StartRIE(t, fn, cfg) }
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
	creds := []byte(`{"email":"rie@example.com","password":"correct horse battery"}`)
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
