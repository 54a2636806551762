package lambdafn_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"mime/multipart"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/hybrid-storage/hybrid-storage/shared/app"
	"github.com/hybrid-storage/hybrid-storage/shared/lambdafn"
	"github.com/hybrid-storage/hybrid-storage/shared/testenv"
)

// event returns the recorded API Gateway HTTP API (payload 2.0) event,
// changed to the given request.
func event(tb testing.TB, method, path, query, token, ctype string, body []byte, binary bool) []byte {
	tb.Helper()
	raw, err := os.ReadFile("testdata/apigw-v2-event.json")
	if err != nil {
		tb.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		tb.Fatal(err)
	}
	ev["rawPath"] = path
	ev["rawQueryString"] = query
	rc := ev["requestContext"].(map[string]any)
	httpCtx := rc["http"].(map[string]any)
	httpCtx["method"], httpCtx["path"] = method, path
	h := ev["headers"].(map[string]any)
	if token != "" {
		h["authorization"] = "Bearer " + token
	}
	if ctype != "" {
		h["content-type"] = ctype
	}
	if binary {
		ev["body"], ev["isBase64Encoded"] = base64.StdEncoding.EncodeToString(body), true
	} else {
		ev["body"] = string(body)
	}
	out, _ := json.Marshal(ev)
	return out
}

// invoke runs one function's handler on an event, as the Lambda runtime
// would: JSON in, JSON out.
func invoke(tb testing.TB, a *app.App, function string, ev []byte) events.APIGatewayV2HTTPResponse {
	tb.Helper()
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(ev, &req); err != nil {
		tb.Fatal(err)
	}
	resp, err := httpadapter.NewV2(a.API.Handler(function)).ProxyWithContext(context.Background(), req)
	if err != nil {
		tb.Fatalf("%s: %v", function, err)
	}
	// Round-trip through JSON like the runtime does.
	b, _ := json.Marshal(resp)
	var out events.APIGatewayV2HTTPResponse
	json.Unmarshal(b, &out)
	return out
}

func decodeBody(tb testing.TB, r events.APIGatewayV2HTTPResponse) []byte {
	tb.Helper()
	if !r.IsBase64Encoded {
		return []byte(r.Body)
	}
	b, err := base64.StdEncoding.DecodeString(r.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestFunctionsThroughTheAdapter(t *testing.T) {
	t.Parallel()
	cfg := testenv.Config(t)
	a := testenv.App(t, cfg)

	creds := []byte(`{"email":"lambda@example.com","password":"correct horse battery"}`)
	if r := invoke(t, a, "signup", event(t, "POST", "/api/auth/signup", "", "", "application/json", creds, false)); r.StatusCode != 201 {
		t.Fatalf("signup: %d %s", r.StatusCode, r.Body)
	}
	r := invoke(t, a, "login", event(t, "POST", "/api/auth/login", "", "", "application/json", creds, false))
	var login struct {
		AccessToken string `json:"access_token"`
	}
	if r.StatusCode != 200 || json.Unmarshal([]byte(r.Body), &login) != nil || login.AccessToken == "" {
		t.Fatalf("login: %d %s", r.StatusCode, r.Body)
	}
	tok := login.AccessToken

	// Upload a binary file with a base64 body.
	data := make([]byte, 200<<10)
	rand.Read(data)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "blob.bin")
	fw.Write(data)
	mw.Close()
	r = invoke(t, a, "upload", event(t, "POST", "/api/files/upload", "", tok, mw.FormDataContentType(), buf.Bytes(), true))
	var f struct {
		ID       int64  `json:"id"`
		FileSize int64  `json:"file_size"`
		Location string `json:"storage_location"`
	}
	if r.StatusCode != 201 || json.Unmarshal([]byte(r.Body), &f) != nil || f.FileSize != int64(len(data)) {
		t.Fatalf("upload: %d %s", r.StatusCode, r.Body)
	}

	// The binary download comes back base64-encoded and byte-identical.
	r = invoke(t, a, "download", event(t, "GET", fmt.Sprintf("/api/files/%d/download", f.ID), "", tok, "", nil, false))
	if r.StatusCode != 200 || !r.IsBase64Encoded || !bytes.Equal(decodeBody(t, r), data) {
		t.Fatalf("download: status %d, base64 %v, %d bytes", r.StatusCode, r.IsBase64Encoded, len(decodeBody(t, r)))
	}
	if !strings.HasPrefix(r.Headers["Content-Disposition"], "attachment;") {
		t.Errorf("download headers %v", r.Headers)
	}
	r = invoke(t, a, "download", event(t, "GET", fmt.Sprintf("/api/files/%d/download", f.ID), "redirect=1", tok, "", nil, false))
	if r.StatusCode != 302 || r.Headers["Location"] == "" {
		t.Errorf("redirect download: %d %v", r.StatusCode, r.Headers)
	}

	r = invoke(t, a, "list-files", event(t, "GET", "/api/files", "limit=10&location=minio", tok, "", nil, false))
	if r.StatusCode != 200 || !strings.Contains(r.Body, `"blob.bin"`) {
		t.Errorf("list: %d %s", r.StatusCode, r.Body)
	}
	r = invoke(t, a, "get-file", event(t, "GET", fmt.Sprintf("/api/files/%d", f.ID), "", "", "", nil, false))
	if r.StatusCode != 401 || !strings.Contains(r.Body, `"UNAUTHORIZED"`) {
		t.Errorf("get without token: %d %s", r.StatusCode, r.Body)
	}
	// A function serves only its own route.
	r = invoke(t, a, "get-file", event(t, "GET", "/api/auth/me", "", tok, "", nil, false))
	if r.StatusCode != 404 || !strings.Contains(r.Body, `"error_code"`) {
		t.Errorf("foreign route on get-file: %d %s", r.StatusCode, r.Body)
	}
	r = invoke(t, a, "delete-file", event(t, "DELETE", fmt.Sprintf("/api/files/%d", f.ID), "", tok, "", nil, false))
	if r.StatusCode != 204 {
		t.Errorf("delete: %d %s", r.StatusCode, r.Body)
	}
}

func lambdafnMigrate(tb testing.TB, databaseURL string) (lambdafn.MigrateResult, error) {
	tb.Helper()
	return lambdafn.Migrate(tb.Context(), databaseURL, slog.New(slog.DiscardHandler))
}
