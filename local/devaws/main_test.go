package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/hosted"
)

// Variables config reads that the API stack leaves to their defaults on
// Lambda (hosted.UnsetOnLambda, as infra/stacks/env_test.go uses it, minus
// the cold tier's endpoint and SQS's, which dev-aws points at its S3 and
// SQS servers instead of AWS), and the session token the Lambda runtime adds.
var unsetOnLambda = func() []string {
	names := []string{"AWS_SESSION_TOKEN"}
	for name := range hosted.UnsetOnLambda {
		if name != "S3_ENDPOINT" && name != "S3_PUBLIC_ENDPOINT" && name != "SQS_ENDPOINT" {
			names = append(names, name)
		}
	}
	return names
}()

func testSettings() settings {
	return settings{
		webOrigin: "http://localhost:8080", apiOrigin: "http://localhost:8000",
		hot:         tier{endpoint: "127.0.0.1:9000", public: "http://localhost:9000", bucket: "local-files", key: "hotkey", secret: "hot-secret-0123456789"},
		cold:        tier{endpoint: "127.0.0.1:9100", public: "http://localhost:9100", bucket: "cloud-files", key: "coldkey", secret: "cold-secret-0123456789"},
		databaseURL: "postgres://postgres@127.0.0.1:5432/x?sslmode=disable",
		secretKey:   strings.Repeat("k", 64), syncToken: "sync-token-0123456789", smtpURL: "smtp://127.0.0.1:1025",
		sqsEndpoint: "http://127.0.0.1:9324", queueURL: "http://us-east-1.127.0.0.1:9324/100010001000/hybrid-storage-sync-tickets",
	}
}

// The functions get what the API stack gives them (hosted.FunctionEnv and
// every other variable config reads), and the configuration loads as on
// Lambda: not dev mode, redirect downloads, the SPA's origin for CORS, the
// ticket queue (on the SQS server here) for the nightly chain.
func TestFunctionEnvIsTheDeployedOne(t *testing.T) {
	env := map[string]string{}
	for _, kv := range functionEnv(testSettings()) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	for k, v := range hosted.FunctionEnv {
		if env[k] != v {
			t.Errorf("%s=%q, want %q", k, env[k], v)
		}
	}
	for _, name := range config.Names() {
		_, set := env[name]
		switch {
		case slices.Contains(unsetOnLambda, name) && set:
			t.Errorf("%s is set; the API stack leaves it unset", name)
		case !slices.Contains(unsetOnLambda, name) && !set:
			t.Errorf("%s is not set (config reads it)", name)
		}
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DevMode || cfg.DownloadMode != config.DownloadRedirect || !slices.Equal(cfg.CORSOrigins, []string{"http://localhost:8080"}) {
		t.Errorf("config: dev %v, download %q, CORS %v", cfg.DevMode, cfg.DownloadMode, cfg.CORSOrigins)
	}
	s := testSettings()
	if cfg.SyncQueueURL != s.queueURL || cfg.SQSEndpoint != s.sqsEndpoint {
		t.Errorf("config: queue %q on %q, want %q on %q", cfg.SyncQueueURL, cfg.SQSEndpoint, s.queueURL, s.sqsEndpoint)
	}
}

// The SPA is served as the distribution serves it: the table's headers on
// every answer, index.html with 200 for a client-side route, and /api/*
// passed to the API with the viewer's headers but Host, answers untouched.
func TestDistribution(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "assets"), 0o755)
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("app shell"), 0o644)
	os.WriteFile(filepath.Join(dir, "assets", "app.js"), []byte("js"), 0o644)
	var seen *http.Request
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r
		http.SetCookie(w, &http.Cookie{Name: "refresh_token", Value: "v", Path: "/api/auth"})
		w.WriteHeader(http.StatusNotFound) // the API's own 404 reaches the SPA as it is
		w.Write([]byte(`{"error_code":"FILE_NOT_FOUND"}`))
	}))
	defer api.Close()
	headers := hosted.SPAHeaders([]string{"http://localhost:9000"})
	h := distribution(dir, headers, api.URL)
	for path, want := range map[string]string{"/": "app shell", "/dashboard": "app shell", "/reset-password": "app shell", "/assets/app.js": "js"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != http.StatusOK || w.Body.String() != want {
			t.Errorf("GET %s: %d %q, want 200 %q", path, w.Code, w.Body.String(), want)
		}
		for k, v := range headers {
			if w.Header().Get(k) != v {
				t.Errorf("GET %s: %s %q, want %q", path, k, w.Header().Get(k), v)
			}
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/assets/missing.js", nil))
	if w.Code != http.StatusForbidden {
		t.Errorf("missing asset: %d, want 403 (S3 through origin access control)", w.Code)
	}

	req := httptest.NewRequest("POST", "http://localhost:8080/api/auth/refresh", nil)
	req.Header.Set("Cookie", "refresh_token=old")
	req.Header.Set("Origin", "http://localhost:8080")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusNotFound || w.Body.String() != `{"error_code":"FILE_NOT_FOUND"}` || !strings.Contains(w.Header().Get("Set-Cookie"), "refresh_token=v") {
		t.Errorf("/api answer through the distribution: %d %q %v", w.Code, w.Body.String(), w.Header())
	}
	if seen == nil || seen.Method != "POST" || seen.URL.Path != "/api/auth/refresh" || seen.Header.Get("Cookie") != "refresh_token=old" ||
		seen.Header.Get("Origin") != "http://localhost:8080" || seen.Header.Get("Sec-Fetch-Site") != "same-origin" || seen.Host == "localhost:8080" {
		t.Errorf("the API saw %+v", seen)
	}
	if w.Header().Get("Content-Security-Policy") != "" {
		t.Error("the SPA's headers on an API answer")
	}
}
