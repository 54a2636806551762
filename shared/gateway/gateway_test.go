package gateway

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/hybrid-storage/hybrid-storage/shared/httpapi"
)

var testRoutes = []httpapi.Route{
	{Function: "get-file", Method: "GET", Path: "/api/files/{id}"},
	{Function: "delete-file", Method: "DELETE", Path: "/api/files/{id}"},
	{Function: "upload", Method: "POST", Path: "/api/files/upload"},
}

// recorder is a fake function: it records the events and answers resp.
type recorder struct {
	calls []string
	event events.APIGatewayV2HTTPRequest
	resp  []byte
	err   error
}

func (r *recorder) invoke(_ context.Context, fn string, ev []byte) ([]byte, error) {
	r.calls = append(r.calls, fn)
	if err := json.Unmarshal(ev, &r.event); err != nil {
		return nil, err
	}
	return r.resp, r.err
}

func answer(tb testing.TB, r events.APIGatewayV2HTTPResponse) []byte {
	b, err := json.Marshal(r)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestEventAndResponse(t *testing.T) {
	rec := &recorder{}
	bin := []byte{0xff, 0x00, 0x80, 'x'}
	rec.resp = answer(t, events.APIGatewayV2HTTPResponse{
		StatusCode:      206,
		Headers:         map[string]string{"Content-Type": "application/octet-stream", "Access-Control-Allow-Origin": "*"},
		Cookies:         []string{"a=1", "b=2"},
		Body:            base64.StdEncoding.EncodeToString(bin),
		IsBase64Encoded: true,
	})
	srv := httptest.NewServer(Handler(testRoutes, Options{CORSOrigins: []string{"http://site.example"}}, rec.invoke))
	defer srv.Close()

	req, _ := http.NewRequest("GET", srv.URL+"/api/files/42?q=a%20b&q=c&x=1", nil)
	req.Header.Set("X-Custom", "v1")
	req.Header.Add("X-Custom", "v2")
	req.Header.Set("Cookie", "s=1; t=2")
	req.Header.Set("Origin", "http://site.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()

	ev := rec.event
	if len(rec.calls) != 1 || rec.calls[0] != "get-file" {
		t.Fatalf("invoked %v, want [get-file]", rec.calls)
	}
	if ev.Version != "2.0" || ev.RouteKey != "GET /api/files/{id}" || ev.RawPath != "/api/files/42" || ev.RawQueryString != "q=a%20b&q=c&x=1" {
		t.Errorf("event %+v", ev)
	}
	if ev.RequestContext.HTTP.Method != "GET" || ev.RequestContext.HTTP.Path != "/api/files/42" || ev.RequestContext.HTTP.SourceIP != "127.0.0.1" || ev.RequestContext.Stage != "$default" {
		t.Errorf("requestContext %+v", ev.RequestContext)
	}
	if ev.PathParameters["id"] != "42" || ev.QueryStringParameters["q"] != "a b,c" {
		t.Errorf("path %v, query %v", ev.PathParameters, ev.QueryStringParameters)
	}
	if ev.Headers["x-custom"] != "v1,v2" || ev.Headers["cookie"] != "" || strings.Join(ev.Cookies, "|") != "s=1|t=2" {
		t.Errorf("headers %v, cookies %v", ev.Headers, ev.Cookies)
	}
	for k := range ev.Headers {
		if k != strings.ToLower(k) {
			t.Errorf("header %q is not lower-case", k)
		}
	}
	if resp.StatusCode != 206 || !bytes.Equal(body, bin) || resp.Header.Get("Content-Length") != "4" {
		t.Errorf("response %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if got := resp.Header.Values("Set-Cookie"); strings.Join(got, "|") != "a=1|b=2" {
		t.Errorf("Set-Cookie %v", got)
	}
	// The gateway's CORS, not the function's.
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "http://site.example" {
		t.Errorf("Access-Control-Allow-Origin %q, want the gateway's", got)
	}
}

func TestBodies(t *testing.T) {
	rec := &recorder{resp: answer(t, events.APIGatewayV2HTTPResponse{StatusCode: 201, Body: "{}"})}
	srv := httptest.NewServer(Handler(testRoutes, Options{}, rec.invoke))
	defer srv.Close()
	for _, tc := range []struct {
		ctype  string
		body   string
		base64 bool
	}{
		{"application/json", `{"a":"é"}`, false},
		{"text/plain; charset=utf-8", "hello", false},
		{"multipart/form-data; boundary=x", "--x\r\n", true},
		{"application/json", "\xff\xfe", true},
		{"", "x", true},
	} {
		resp, err := http.Post(srv.URL+"/api/files/upload", tc.ctype, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := rec.event.Body
		if rec.event.IsBase64Encoded {
			b, _ := base64.StdEncoding.DecodeString(got)
			got = string(b)
		}
		if rec.event.IsBase64Encoded != tc.base64 || got != tc.body {
			t.Errorf("%q body %q: event base64=%v body %q", tc.ctype, tc.body, rec.event.IsBase64Encoded, rec.event.Body)
		}
	}
}

func TestGatewayAnswers(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(Handler(testRoutes, Options{}, rec.invoke))
	defer srv.Close()
	do := func(method, path string, body io.Reader) (*http.Response, string) {
		req, _ := http.NewRequest(method, srv.URL+path, body)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	if resp, b := do("GET", "/nothing", nil); resp.StatusCode != 404 || !strings.Contains(b, `"error_code":"NOT_FOUND"`) {
		t.Errorf("unknown route: %d %s", resp.StatusCode, b)
	}
	if resp, b := do("PUT", "/api/files/1", nil); resp.StatusCode != 405 || resp.Header.Get("Allow") != "DELETE, GET" || !strings.Contains(b, "METHOD_NOT_ALLOWED") {
		t.Errorf("wrong method: %d %v %s", resp.StatusCode, resp.Header, b)
	}
	if len(rec.calls) != 0 {
		t.Errorf("unmatched requests invoked %v", rec.calls)
	}
	rec.resp = []byte(`{"errorMessage":"boom","errorType":"Panic"}`)
	if resp, b := do("GET", "/api/files/1", nil); resp.StatusCode != 500 || b != "{\"message\":\"Internal Server Error\"}\n" {
		t.Errorf("function error: %d %s", resp.StatusCode, b)
	}
	rec.resp, rec.err = nil, errors.New("emulator down")
	if resp, _ := do("GET", "/api/files/1", nil); resp.StatusCode != 500 {
		t.Errorf("invoke error: %d", resp.StatusCode)
	}
	rec.err = nil
	rec.resp = answer(t, events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: strings.Repeat("x", MaxPayload)})
	if resp, _ := do("GET", "/api/files/1", nil); resp.StatusCode != 500 {
		t.Errorf("response over 6 MB: %d, want 500", resp.StatusCode)
	}
	calls := len(rec.calls)
	if resp, _ := do("POST", "/api/files/upload", bytes.NewReader(make([]byte, 5<<20))); resp.StatusCode != 413 {
		t.Errorf("5 MiB binary body (over 6 MB in base64): %d, want 413", resp.StatusCode)
	}
	if resp, _ := do("POST", "/api/files/upload", bytes.NewReader(make([]byte, MaxRequestBody+1))); resp.StatusCode != 413 {
		t.Errorf("body over 10 MB: %d, want 413", resp.StatusCode)
	}
	if len(rec.calls) != calls {
		t.Errorf("oversized requests were invoked")
	}
}

func TestMatchRouteLikeAPIGateway(t *testing.T) {
	tests := []struct {
		method, path, want string
		allowed            []string
	}{
		{"GET", "/api/files/uploads/abc", "get-upload", nil},
		{"GET", "/api/files/5/download", "download", nil},
		{"GET", "/api/files/uploads/download", "get-upload", nil}, // the static segment wins
		{"GET", "/api/files/5", "get-file", nil},
		{"DELETE", "/api/files/uploads/abc", "abort-upload", nil},
		{"PUT", "/api/files", "", []string{"GET"}},
		{"GET", "/api/nothing", "", nil},
	}
	for _, tc := range tests {
		rt, _, allowed := matchRoute(httpapi.Routes, tc.method, tc.path)
		got := ""
		if rt != nil {
			got = rt.Function
		}
		if got != tc.want || strings.Join(allowed, ",") != strings.Join(tc.allowed, ",") {
			t.Errorf("%s %s → %q (allowed %v), want %q (allowed %v)", tc.method, tc.path, got, allowed, tc.want, tc.allowed)
		}
	}
}

// A function that has not answered after the integration timeout gets
// API Gateway's 503; a throttled invocation its 500.
func TestTimeoutAndThrottle(t *testing.T) {
	slow := func(ctx context.Context, fn string, ev []byte) ([]byte, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	srv := httptest.NewServer(Handler(testRoutes, Options{Timeout: 100 * time.Millisecond}, slow))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/files/1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || string(b) != "{\"message\":\"Service Unavailable\"}\n" {
		t.Errorf("timeout: %d %s", resp.StatusCode, b)
	}
	throttled := func(context.Context, string, []byte) ([]byte, error) { return nil, ErrThrottled }
	srv2 := httptest.NewServer(Handler(testRoutes, Options{}, throttled))
	defer srv2.Close()
	resp, err = http.Get(srv2.URL + "/api/files/1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 || !strings.Contains(resp.Header.Get("X-Lambdagw-Error"), "throttled") {
		t.Errorf("throttle: %d %v", resp.StatusCode, resp.Header)
	}
}

// A client hanging up must not cancel the invocation, as on API Gateway.
func TestClientHangUpDoesNotCancelTheInvocation(t *testing.T) {
	started, finished := make(chan struct{}), make(chan error, 1)
	fn := func(ctx context.Context, _ string, _ []byte) ([]byte, error) {
		close(started)
		select {
		case <-ctx.Done():
			finished <- ctx.Err()
		case <-time.After(300 * time.Millisecond):
			finished <- nil
		}
		return []byte(`{"statusCode":204}`), nil
	}
	srv := httptest.NewServer(Handler(testRoutes, Options{Timeout: 5 * time.Second}, fn))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/files/1", nil)
	go func() { <-started; cancel() }()
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	select {
	case err := <-finished:
		if err != nil {
			t.Errorf("the invocation was cancelled when the client left: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the invocation did not end")
	}
}
