package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/textproto"
	"os"
	"strings"
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/app"
	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/testenv"
	"github.com/hybrid-storage/hybrid-storage/shared/testenv/lambdagw"
)

// mode is HTTPAPI_MODE: "local" (default) serves the API in-process as the
// local server does; "lambda" sends every request through lambdagw, the
// local API Gateway in front of every function's real bootstrap under the
// Lambda Runtime Interface Emulator. The assertions are the same.
var mode = os.Getenv("HTTPAPI_MODE")

func TestMain(m *testing.M) {
	switch mode {
	case "":
		mode = "local"
	case "local", "lambda":
	default:
		fmt.Fprintf(os.Stderr, "HTTPAPI_MODE=%q: want local or lambda\n", mode)
		os.Exit(2)
	}
	code := m.Run()
	lambdagw.Cleanup()
	os.Exit(code)
}

// onLambda reports whether the tests run against the Lambda functions.
func onLambda() bool { return mode == "lambda" }

// stack is one API server over a fresh database and fresh buckets. In
// lambda mode app is built in-process over the same configuration for
// inspection only (database, tiers); HTTP goes through the gateway.
type stack struct {
	app *app.App
	srv *httptest.Server
	gw  *lambdagw.Gateway // lambda mode only
}

func newStack(tb testing.TB, edit func(*config.Config)) *stack {
	tb.Helper()
	cfg := testenv.Config(tb)
	if edit != nil {
		edit(&cfg)
	}
	a := testenv.App(tb, cfg)
	var h http.Handler = a.API.Handler()
	var gw *lambdagw.Gateway
	if onLambda() {
		gw = lambdagw.New(tb, cfg)
		h = gw
	}
	srv := httptest.NewServer(checkOpenAPI(tb, h))
	tb.Cleanup(srv.Close)
	return &stack{app: a, srv: srv, gw: gw}
}

// client calls the API as one user.
type client struct {
	tb    testing.TB
	base  string
	token string
	hc    *http.Client
}

func (s *stack) client(tb testing.TB) *client {
	jar, _ := cookiejar.New(nil) // the refresh cookie, as a browser keeps it
	return &client{tb: tb, base: s.srv.URL, hc: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends a request and returns the response with its body read.
func (c *client) do(method, path string, body io.Reader, header map[string]string) (*http.Response, []byte) {
	c.tb.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.tb.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.tb.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp, b
}

// json sends v as JSON and checks the status; the body is decoded into out.
func (c *client) json(method, path string, v any, want int, out any) *http.Response {
	c.tb.Helper()
	var body io.Reader
	if v != nil {
		b, _ := json.Marshal(v)
		body = bytes.NewReader(b)
	}
	resp, b := c.do(method, path, body, map[string]string{"Content-Type": "application/json"})
	if resp.StatusCode != want {
		c.tb.Fatalf("%s %s: status %d, want %d; body %s", method, path, resp.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.tb.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
	return resp
}

// testPassword is the password of the tests' accounts.
const testPassword = "correct horse battery"

// signup creates an account and logs this client in as it (sign-up logs
// in: its answer carries the access token and sets the refresh cookie).
func (c *client) signup(email string) *client {
	c.tb.Helper()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	c.json("POST", "/api/auth/signup", map[string]string{"email": email, "password": testPassword}, 201, &out)
	c.token = out.AccessToken
	return c
}

type fileObj struct {
	ID               int64   `json:"id"`
	Filename         string  `json:"filename"`
	OriginalFilename string  `json:"original_filename"`
	FileSize         int64   `json:"file_size"`
	ContentType      string  `json:"content_type"`
	StorageLocation  string  `json:"storage_location"`
	AccessURL        string  `json:"access_url"`
	Checksum         string  `json:"checksum_sha256"`
	CRC64NVME        string  `json:"checksum_crc64nvme"` // "" for null
	StorageClass     string  `json:"storage_class"`
	UploadedAt       string  `json:"uploaded_at"`
	SyncedAt         *string `json:"synced_at"`
	FolderID         *int64  `json:"folder_id"`
}

type apiError struct {
	Detail    string `json:"detail"`
	ErrorCode string `json:"error_code"`
}

// multipartBody builds a multipart form with one file field.
func multipartBody(tb testing.TB, field, filename, ctype string, data []byte) (io.Reader, string) {
	tb.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, field, filename))
	if ctype != "" {
		h.Set("Content-Type", ctype)
	}
	w, err := mw.CreatePart(h)
	if err != nil {
		tb.Fatal(err)
	}
	w.Write(data)
	mw.Close()
	return &buf, mw.FormDataContentType()
}

// upload sends data as a file and returns the status and body.
func (c *client) upload(filename, ctype string, data []byte) (*http.Response, []byte) {
	c.tb.Helper()
	body, ct := multipartBody(c.tb, "file", filename, ctype, data)
	return c.do("POST", "/api/files/upload", body, map[string]string{"Content-Type": ct})
}

// mustUpload uploads and expects 201.
func (c *client) mustUpload(filename string, data []byte) fileObj {
	c.tb.Helper()
	resp, b := c.upload(filename, "", data)
	if resp.StatusCode != 201 {
		c.tb.Fatalf("upload %q: status %d, body %s", filename, resp.StatusCode, b)
	}
	var f fileObj
	if err := json.Unmarshal(b, &f); err != nil {
		c.tb.Fatal(err)
	}
	return f
}

// wantError checks an error answer's status and code.
func wantError(tb testing.TB, resp *http.Response, body []byte, status int, code string) {
	tb.Helper()
	if resp.StatusCode != status {
		tb.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Errorf("Content-Type %q, want application/json", ct)
	}
	var e apiError
	if err := json.Unmarshal(body, &e); err != nil {
		tb.Fatalf("error body %q is not JSON: %v", body, err)
	}
	if e.ErrorCode != code || e.Detail == "" {
		tb.Errorf("error %+v, want code %s with a detail", e, code)
	}
}
