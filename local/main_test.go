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
	"sync"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/testenv"
)

func TestWebAppAndAPIRouting(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "assets"), 0o755)
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("<html>app shell</html>"), 0o644)
	os.WriteFile(filepath.Join(dir, "assets", "app.js"), []byte("console.log(1)"), 0o644)
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "api:"+r.URL.Path) })
	h := newHandler(api, dir, nil, slog.New(slog.DiscardHandler))
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
	h = newHandler(api, filepath.Join(dir, "missing"), nil, slog.New(slog.DiscardHandler))
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

func TestSchedulerNeverOverlapsAndStopsWithTheContext(t *testing.T) {
	var mu sync.Mutex
	running, maxRunning, runs := 0, 0, 0
	run := func(ctx context.Context) {
		mu.Lock()
		running++
		runs++
		maxRunning = max(maxRunning, running)
		mu.Unlock()
		select { // a run longer than the schedule's period
		case <-time.After(2500 * time.Millisecond):
		case <-ctx.Done():
		}
		mu.Lock()
		running--
		mu.Unlock()
	}
	ctx, cancel := context.WithCancel(context.Background())
	wait, err := startScheduler(ctx, "@every 1s", run, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * time.Second)
	cancel()
	wait()
	mu.Lock()
	defer mu.Unlock()
	if runs < 1 || maxRunning != 1 || running != 0 {
		t.Errorf("runs %d, at most %d at once, %d still running; want ≥1 run, never 2 at once, none after stop", runs, maxRunning, running)
	}
	after := runs
	mu.Unlock()
	time.Sleep(1500 * time.Millisecond)
	mu.Lock()
	if runs != after {
		t.Errorf("the scheduler ran again after its context ended")
	}
}

func TestSchedulerRejectsABadSchedule(t *testing.T) {
	_, err := startScheduler(context.Background(), "every night", func(context.Context) {}, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "SYNC_SCHEDULE") {
		t.Fatalf("bad schedule: %v, want an error naming SYNC_SCHEDULE", err)
	}
	for _, spec := range []string{"0 0 * * *", "*/5 * * * *"} {
		ctx, cancel := context.WithCancel(context.Background())
		wait, err := startScheduler(ctx, spec, func(context.Context) {}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Errorf("%q: %v", spec, err)
		}
		cancel()
		if wait != nil {
			wait()
		}
	}
}

// The web app is sent with its CSP (connect-src: its own origin and both
// tiers' public endpoints), no framing and no referrer (issue 11 item 8).
func TestWebAppSecurityHeaders(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("<html>app shell</html>"), 0o644)
	cfg := config.Config{
		Hot:  config.HotConfig{Endpoint: "127.0.0.1:9000", PublicEndpoint: "localhost:9000"},
		Cold: config.ColdConfig{Endpoint: "http://127.0.0.1:9100", PublicEndpoint: "http://localhost:9100", Bucket: "cold"},
	}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	h := newHandler(api, dir, webHeaders(cfg), slog.New(slog.DiscardHandler))
	for _, p := range []string{"/", "/dashboard", "/index.html"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", p, nil))
		csp := w.Header().Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'",
			"base-uri 'self'", "connect-src 'self' http://localhost:9000 http://localhost:9100;"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: CSP %q has no %q", p, csp, want)
			}
		}
		if got := w.Header().Get("X-Frame-Options"); got != "DENY" {
			t.Errorf("GET %s: X-Frame-Options %q", p, got)
		}
		if got := w.Header().Get("Referrer-Policy"); got != "no-referrer" {
			t.Errorf("GET %s: Referrer-Policy %q", p, got)
		}
	}
	// On real S3 the cold origin is the bucket's regional endpoint.
	cfg.Cold = config.ColdConfig{Bucket: "cold-files", Region: "eu-west-1"}
	cfg.Hot = config.HotConfig{Endpoint: "minio.example.com:443", Secure: true}
	if csp := webHeaders(cfg)["Content-Security-Policy"]; !strings.Contains(csp, "connect-src 'self' https://minio.example.com https://cold-files.s3.eu-west-1.amazonaws.com;") {
		t.Errorf("AWS cold tier: CSP %q", csp)
	}
}

// TestHSTS: the local server sends Strict-Transport-Security on every
// answer (API, web app, errors) when it serves HTTPS itself or BEHIND_TLS
// says a proxy in front does, and never over plain HTTP otherwise (issue
// 21 item 11).
func TestHSTS(t *testing.T) {
	cfg := testenv.Config(t)
	a := testenv.App(t, cfg)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("<html>app shell</html>"), 0o644)
	h := newHandler(a.API.Handler(), dir, webHeaders(cfg), slog.New(slog.DiscardHandler))
	plain := httptest.NewServer(withHSTS(h, false))
	defer plain.Close()
	behind := httptest.NewServer(withHSTS(h, true))
	defer behind.Close()
	tlsSrv := httptest.NewTLSServer(withHSTS(h, false))
	defer tlsSrv.Close()
	tests := []struct {
		name   string
		srv    *httptest.Server
		client *http.Client
		want   string
	}{
		{"plain HTTP", plain, http.DefaultClient, ""},
		{"BEHIND_TLS=true", behind, http.DefaultClient, "max-age=31536000; includeSubDomains"},
		{"HTTPS", tlsSrv, tlsSrv.Client(), "max-age=31536000; includeSubDomains"},
	}
	for _, tc := range tests {
		for _, p := range []string{"/healthz", "/api/files", "/", "/api/nothing"} {
			resp, err := tc.client.Get(tc.srv.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Get("Strict-Transport-Security"); got != tc.want {
				t.Errorf("%s GET %s (%d): Strict-Transport-Security %q, want %q", tc.name, p, resp.StatusCode, got, tc.want)
			}
		}
	}
}
