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
// the cold tier's endpoint, which dev-aws points at its S3 server instead
// of AWS), and the session token the Lambda runtime adds.
var unsetOnLambda = func() []string {
	names := []string{"AWS_SESSION_TOKEN"}
	for name := range hosted.UnsetOnLambda {
		if name != "S3_ENDPOINT" && name != "S3_PUBLIC_ENDPOINT" {
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
		secretKey:   strings.Repeat("k", 64), syncToken: "sync-token-0123456789",
	}
}

// The functions get what the API stack gives them (hosted.FunctionEnv and
// every other variable config reads), and the configuration loads as on
// Lambda: not dev mode, redirect downloads, the SPA's origin for CORS.
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
}

// The SPA is served as the distribution serves it: the table's headers on
// every answer, index.html with 200 for a missing path.
func TestDistribution(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "assets"), 0o755)
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("app shell"), 0o644)
	os.WriteFile(filepath.Join(dir, "assets", "app.js"), []byte("js"), 0o644)
	headers := hosted.SPAHeaders([]string{"http://localhost:8000"})
	h := distribution(dir, headers)
	for path, want := range map[string]string{"/": "app shell", "/dashboard": "app shell", "/assets/app.js": "js", "/assets/missing.js": "app shell"} {
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
}
