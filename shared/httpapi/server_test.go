package httpapi_test

import (
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/httpapi"
)

// serveLoopback serves the stack's API with the local server's
// http.Server (httpapi.NewServer) on a loopback port and returns its
// address.
func serveLoopback(t *testing.T, s *stack) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httpapi.NewServer(s.app.API.Handler(), slog.New(slog.DiscardHandler))
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// rawExchange writes head (a request line and headers, CRLF-terminated,
// without the blank line) and body on a fresh connection and reads the answer.
func rawExchange(t *testing.T, addr, head, body string) (status int, ctype string, answer []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	go func() { _, _ = conn.Write([]byte(head + "\r\n" + body)) }()
	resp, b, _ := readResponse(t, conn, 10*time.Second)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// What net/http would answer itself before our handlers is answered in the
// JSON error format where the server lets us: unclean paths (ServeMux's 301
// or 307 HTML redirect) and headers over 64 KiB (net/http's text 431). The
// rest stays net/http's plain text, as the README says, and is pinned here.
func TestServerErrorsAreJSON(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	addr := serveLoopback(t, s)
	const host = "Host: x\r\n"
	big := func(n int) string { return "X-Big: " + strings.Repeat("a", n) + "\r\n" }
	tests := []struct {
		name, head, body string
		status           int
		code             string // "" means: net/http's plain text
	}{
		{"dot segment", "GET /api/./files HTTP/1.1\r\n" + host, "", 400, "BAD_REQUEST"},
		{"dot-dot segment", "GET /api/files/../auth/me HTTP/1.1\r\n" + host, "", 400, "BAD_REQUEST"},
		{"encoded dot-dot", "GET /api/files/%2e%2e/auth/me HTTP/1.1\r\n" + host, "", 400, "BAD_REQUEST"},
		{"empty segment", "GET /api//files HTTP/1.1\r\n" + host, "", 400, "BAD_REQUEST"},
		{"trailing dot", "GET /api/files/. HTTP/1.1\r\n" + host, "", 400, "BAD_REQUEST"},
		{"headers over 64 KiB", "GET /api/files HTTP/1.1\r\n" + host + big(70<<10), "", 431, "HEADERS_TOO_LARGE"},
		{"many headers over 64 KiB", "GET /healthz HTTP/1.1\r\n" + host + strings.Repeat(big(1000), 70), "", 431, "HEADERS_TOO_LARGE"},
		{"headers just under 64 KiB", "GET /healthz HTTP/1.1\r\n" + host + big(60<<10), "", 200, ""},
		{"headers over 1 MiB", "GET /api/files HTTP/1.1\r\n" + host + big(1100<<10), "", 431, ""},
		{"chunked, identity", "POST /api/auth/login HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked, identity\r\n", "0\r\n\r\n", 501, ""},
		{"bad escape in path", "GET /api/%zz HTTP/1.1\r\n" + host, "", 400, ""},
	}
	// The path check is the API's own; on Lambda the gateway routes by path
	// first and answers 404 for a path no route has.
	for _, p := range []string{"/api/./files", "/api//files", "/api/files/../auth/me"} {
		resp, body := s.client(t).do("GET", p, nil, nil)
		if onLambda() && resp.StatusCode == 404 {
			wantError(t, resp, body, 404, "NOT_FOUND")
			continue
		}
		wantError(t, resp, body, 400, "BAD_REQUEST")
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, ctype, body := rawExchange(t, addr, tc.head, tc.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d; body %.200s", status, tc.status, body)
			}
			switch {
			case tc.code != "":
				if !strings.HasPrefix(ctype, "application/json") || !strings.Contains(string(body), fmt.Sprintf(`"error_code":%q`, tc.code)) {
					t.Errorf("%s %.200s, want our JSON error %s", ctype, body, tc.code)
				}
			case status >= 400 && !strings.HasPrefix(ctype, "text/plain"):
				t.Errorf("Content-Type %q: net/http's answer changed, update the README", ctype)
			}
		})
	}
}
