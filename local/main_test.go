package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWebAppAndAPIRouting(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "assets"), 0o755)
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("<html>app shell</html>"), 0o644)
	os.WriteFile(filepath.Join(dir, "assets", "app.js"), []byte("console.log(1)"), 0o644)
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "api:"+r.URL.Path) })
	h := newHandler(api, dir, slog.New(slog.DiscardHandler))
	tests := []struct{ path, want string }{
		{"/", "app shell"},
		{"/dashboard", "app shell"},
		{"/login?next=/dashboard", "app shell"},
		{"/assets/app.js", "console.log"},
		{"/api/files", "api:/api/files"},
		{"/api/unknown", "api:/api/unknown"},
		{"/healthz", "api:/healthz"},
	}
	for _, tc := range tests {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", tc.path, nil))
		if w.Code != 200 || !strings.Contains(w.Body.String(), tc.want) {
			t.Errorf("GET %s: %d %q, want %q", tc.path, w.Code, w.Body.String(), tc.want)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/../../etc/passwd", nil))
	if strings.Contains(w.Body.String(), "root:") {
		t.Errorf("path traversal served %q", w.Body.String())
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/dashboard", nil))
	if w.Code != 405 || !strings.Contains(w.Body.String(), `"error_code"`) {
		t.Errorf("POST /dashboard: %d %s", w.Code, w.Body.String())
	}
	// Without a built app, non-API paths answer a JSON 404.
	h = newHandler(api, filepath.Join(dir, "missing"), slog.New(slog.DiscardHandler))
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 404 || !strings.Contains(w.Body.String(), "NOT_FOUND") {
		t.Errorf("no web app: %d %s", w.Code, w.Body.String())
	}
}

func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "finished")
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, h, slog.New(slog.DiscardHandler)) }()

	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	<-started
	cancel() // as SIGTERM does
	if body := <-got; body != "finished" {
		t.Errorf("in-flight request got %q, want finished", body)
	}
	if err := <-done; err != nil {
		t.Errorf("serve returned %v, want nil", err)
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/"); err == nil {
		t.Error("server still accepts connections after shutdown")
	}
}
