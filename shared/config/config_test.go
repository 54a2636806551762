package config

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// env serves m, with real-looking hot tier credentials unless m sets them
// (the defaults, minioadmin, are refused outside dev mode).
func env(m map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := m[k]; ok {
			return v
		}
		switch k {
		case "MINIO_ACCESS_KEY":
			return "hot-access-key"
		case "MINIO_SECRET_KEY":
			return "hot-secret-key-0123456789"
		}
		return ""
	}
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(map[string]string{"SECRET_KEY": strings.Repeat("k", 32)}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.MaxFileSize != 100<<20 {
		t.Errorf("MaxFileSize = %d, want %d", c.MaxFileSize, 100<<20)
	}
	if c.TokenTTL != 15*time.Minute || c.SessionIdle != 7*24*time.Hour || c.SessionMax != 30*24*time.Hour || c.SMTPURL != "" {
		t.Errorf("TokenTTL = %v, SessionIdle = %v, SessionMax = %v, SMTPURL = %q; want 15m, 7 days, 30 days, none", c.TokenTTL, c.SessionIdle, c.SessionMax, c.SMTPURL)
	}
	if c.BcryptCost != 12 || c.SyncBatchSize != 10 || c.SyncMaxRetries != 3 || c.Port != 8000 {
		t.Errorf("defaults: cost=%d batch=%d retries=%d port=%d", c.BcryptCost, c.SyncBatchSize, c.SyncMaxRetries, c.Port)
	}
	if c.Hot.PublicEndpoint != c.Hot.Endpoint {
		t.Errorf("Hot.PublicEndpoint = %q, want the endpoint %q", c.Hot.PublicEndpoint, c.Hot.Endpoint)
	}
	if c.DownloadMode != DownloadStream || c.SyncSchedule != "0 0 * * *" {
		t.Errorf("DownloadMode=%q SyncSchedule=%q", c.DownloadMode, c.SyncSchedule)
	}
}

func TestLoadErrorsNameTheVariable(t *testing.T) {
	good := strings.Repeat("k", 32)
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"missing secret", map[string]string{}, "SECRET_KEY"},
		{"short secret", map[string]string{"SECRET_KEY": "short"}, "SECRET_KEY"},
		{"bad size", map[string]string{"SECRET_KEY": good, "MAX_FILE_SIZE_MB": "lots"}, "MAX_FILE_SIZE_MB"},
		{"zero size", map[string]string{"SECRET_KEY": good, "MAX_FILE_SIZE_MB": "0"}, "MAX_FILE_SIZE_MB"},
		{"bad bool", map[string]string{"SECRET_KEY": good, "MINIO_SECURE": "maybe"}, "MINIO_SECURE"},
		{"bad alg", map[string]string{"SECRET_KEY": good, "ALGORITHM": "none"}, "ALGORITHM"},
		{"bad db", map[string]string{"SECRET_KEY": good, "DATABASE_URL": "mysql://x"}, "DATABASE_URL"},
		{"bad endpoint", map[string]string{"SECRET_KEY": good, "MINIO_ENDPOINT": "http://x:9000"}, "MINIO_ENDPOINT"},
		{"bad s3 endpoint", map[string]string{"SECRET_KEY": good, "S3_ENDPOINT": "localhost:7070"}, "S3_ENDPOINT"},
		{"bad bucket", map[string]string{"SECRET_KEY": good, "S3_BUCKET": "Bad_Bucket"}, "S3_BUCKET"},
		{"bad origin", map[string]string{"SECRET_KEY": good, "CORS_ORIGINS": "localhost:3000"}, "CORS_ORIGINS"},
		{"bad mode", map[string]string{"SECRET_KEY": good, "DOWNLOAD_MODE": "teleport"}, "DOWNLOAD_MODE"},
		{"short trigger", map[string]string{"SECRET_KEY": good, "SYNC_TRIGGER_TOKEN": "abc"}, "SYNC_TRIGGER_TOKEN"},
		{"half aws keys", map[string]string{"SECRET_KEY": good, "AWS_ACCESS_KEY_ID": "AKIA"}, "AWS_SECRET_ACCESS_KEY"},
		{"bad types", map[string]string{"SECRET_KEY": good, "ALLOWED_CONTENT_TYPES": "pdf"}, "ALLOWED_CONTENT_TYPES"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(env(tc.env))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if !strings.HasPrefix(err.Error(), "config: "+tc.want+":") || strings.Contains(err.Error(), "\n") {
				t.Errorf("error = %q, want one line naming %s", err, tc.want)
			}
		})
	}
}

func TestDevModeAllowsShortOrMissingSecret(t *testing.T) {
	c, err := Load(env(map[string]string{"DEV_MODE": "true"}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if string(c.SecretKey) != DevSecretKey {
		t.Errorf("SecretKey = %q, want the dev key", c.SecretKey)
	}
	if _, err := Load(env(map[string]string{"DEV_MODE": "true", "SECRET_KEY": "short"})); err != nil {
		t.Errorf("dev mode with short key: %v", err)
	}
}

func TestNamesCoverSpec(t *testing.T) {
	spec := []string{"DATABASE_URL", "SECRET_KEY", "ALGORITHM", "ACCESS_TOKEN_EXPIRE_MINUTES", "MINIO_ENDPOINT",
		"MINIO_ACCESS_KEY", "MINIO_SECRET_KEY", "MINIO_BUCKET", "MINIO_SECURE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_REGION", "S3_BUCKET", "SYNC_BATCH_SIZE", "DELETE_FROM_MINIO_AFTER_SYNC", "SYNC_LOG_FILE", "MAX_FILE_SIZE_MB",
		"S3_ENDPOINT", "MINIO_PUBLIC_ENDPOINT", "S3_PUBLIC_ENDPOINT", "CORS_ORIGINS", "ALLOWED_CONTENT_TYPES",
		"SYNC_MAX_RETRIES", "SYNC_SCHEDULE", "SYNC_TRIGGER_TOKEN", "DOWNLOAD_MODE"}
	have := map[string]bool{}
	for _, n := range Names() {
		have[n] = true
	}
	for _, n := range spec {
		if !have[n] {
			t.Errorf("Names() lacks %s", n)
		}
	}
}

// TestDocumented keeps the README's configuration table and .env.example
// true: every variable Load reads appears in both.
func TestDocumented(t *testing.T) {
	for _, file := range []string{"../../README.md", "../../.env.example"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range Names() {
			want := "`" + n + "`"
			if strings.HasSuffix(file, ".env.example") {
				want = "\n" + n + "="
			}
			if !strings.Contains(string(b), want) {
				t.Errorf("%s does not document %s", file, n)
			}
		}
	}
}

func TestKnownSecretsRefusedOutsideDevMode(t *testing.T) {
	good := strings.Repeat("k", 32)
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"dev key", map[string]string{"SECRET_KEY": DevSecretKey}, "SECRET_KEY"},
		{"env.example key", map[string]string{"SECRET_KEY": "replace-with-output-of-openssl-rand-hex-32"}, "SECRET_KEY"},
		{"default minio keys", map[string]string{"SECRET_KEY": good, "MINIO_ACCESS_KEY": "", "MINIO_SECRET_KEY": ""}, "MINIO_ACCESS_KEY, MINIO_SECRET_KEY"},
		{"minioadmin as aws keys", map[string]string{"SECRET_KEY": good, "AWS_ACCESS_KEY_ID": "minioadmin", "AWS_SECRET_ACCESS_KEY": "minioadmin"}, "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY"},
		{"env.example minio keys", map[string]string{"SECRET_KEY": good, "MINIO_ACCESS_KEY": "change-me-minio-user", "MINIO_SECRET_KEY": "change-me-minio-password"}, "MINIO_ACCESS_KEY, MINIO_SECRET_KEY"},
		{"env.example db password", map[string]string{"SECRET_KEY": good, "DATABASE_URL": "postgres://postgres:change-me-postgres-password@db:5432/x"}, "DATABASE_URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(env(tc.env))
			if err == nil || !strings.HasPrefix(err.Error(), "config: "+tc.want+":") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error = %v, want one line naming %s", err, tc.want)
			}
			dev := map[string]string{"DEV_MODE": "true"}
			for k, v := range tc.env {
				dev[k] = v
			}
			c, err := Load(env(dev))
			if err != nil {
				t.Fatalf("dev mode: %v", err)
			}
			if w := c.DevWarning(); !strings.Contains(w, tc.want) || strings.Contains(w, "\n") {
				t.Errorf("DevWarning = %q, want one line naming %s", w, tc.want)
			}
		})
	}
	c, err := Load(env(map[string]string{"SECRET_KEY": good}))
	if err != nil || c.DevWarning() != "" || len(c.KnownSecrets) != 0 {
		t.Errorf("real secrets: err %v, warning %q, known %v", err, c.DevWarning(), c.KnownSecrets)
	}
}

func TestHotAndColdMustNotBeOneBucket(t *testing.T) {
	good := strings.Repeat("k", 32)
	tests := []struct {
		name   string
		env    map[string]string
		refuse bool
	}{
		{"same endpoint and bucket", map[string]string{"MINIO_ENDPOINT": "127.0.0.1:9000", "S3_ENDPOINT": "http://127.0.0.1:9000", "MINIO_BUCKET": "files", "S3_BUCKET": "files"}, true},
		{"same, case and slash differ", map[string]string{"MINIO_ENDPOINT": "MinIO:9000", "S3_ENDPOINT": "http://minio:9000/", "MINIO_BUCKET": "files", "S3_BUCKET": "files"}, true},
		{"same, default https port", map[string]string{"MINIO_ENDPOINT": "s3.example.com", "MINIO_SECURE": "true", "S3_ENDPOINT": "https://s3.example.com", "MINIO_BUCKET": "files", "S3_BUCKET": "files"}, true},
		{"both aws", map[string]string{"MINIO_ENDPOINT": "s3.amazonaws.com", "MINIO_SECURE": "true", "MINIO_BUCKET": "files", "S3_BUCKET": "files"}, true},
		{"same endpoint, two buckets (make dev)", map[string]string{"MINIO_ENDPOINT": "127.0.0.1:9000", "S3_ENDPOINT": "http://127.0.0.1:9000", "MINIO_BUCKET": "local-files", "S3_BUCKET": "cloud-files"}, false},
		{"same bucket name, other server", map[string]string{"MINIO_ENDPOINT": "127.0.0.1:9000", "S3_ENDPOINT": "http://127.0.0.1:7070", "MINIO_BUCKET": "files", "S3_BUCKET": "files"}, false},
		{"same bucket name, hot minio and cold aws", map[string]string{"MINIO_ENDPOINT": "minio:9000", "MINIO_BUCKET": "files", "S3_BUCKET": "files"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.env["SECRET_KEY"] = good
			tc.env["DELETE_FROM_MINIO_AFTER_SYNC"] = "true"
			_, err := Load(env(tc.env))
			if !tc.refuse {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			msg := err.Error()
			for _, name := range []string{"MINIO_ENDPOINT", "MINIO_BUCKET", "S3_ENDPOINT", "S3_BUCKET"} {
				if !strings.Contains(msg, name) {
					t.Errorf("error %q does not name %s", msg, name)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error %q is more than one line", msg)
			}
		})
	}
}

func TestDefaultCORSOriginsAcceptBothLoopbackNames(t *testing.T) {
	for _, port := range []string{"8000", "8123"} {
		c, err := Load(env(map[string]string{"DEV_MODE": "true", "PORT": port}))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"http://localhost:" + port, "http://127.0.0.1:" + port, "http://localhost:5173", "http://127.0.0.1:5173"} {
			if !slices.Contains(c.CORSOrigins, want) {
				t.Errorf("PORT=%s: CORSOrigins %v lack %s", port, c.CORSOrigins, want)
			}
		}
	}
	c, err := Load(env(map[string]string{"DEV_MODE": "true", "CORS_ORIGINS": "https://app.example"}))
	if err != nil || !slices.Equal(c.CORSOrigins, []string{"https://app.example"}) {
		t.Errorf("explicit CORS_ORIGINS: %v, %v", c.CORSOrigins, err)
	}
}

func TestBindAddr(t *testing.T) {
	c, err := Load(env(map[string]string{"DEV_MODE": "true"}))
	if err != nil || c.BindAddr != "127.0.0.1" {
		t.Errorf("default BindAddr %q (%v), want 127.0.0.1", c.BindAddr, err)
	}
	for _, ok := range []string{"0.0.0.0", "::", "::1", "localhost"} {
		if c, err := Load(env(map[string]string{"DEV_MODE": "true", "BIND_ADDR": ok})); err != nil || c.BindAddr != ok {
			t.Errorf("BIND_ADDR=%s: %q, %v", ok, c.BindAddr, err)
		}
	}
	for _, bad := range []string{"0.0.0.0:8000", "http://x", "a b"} {
		if _, err := Load(env(map[string]string{"DEV_MODE": "true", "BIND_ADDR": bad})); err == nil || !strings.HasPrefix(err.Error(), "config: BIND_ADDR:") {
			t.Errorf("BIND_ADDR=%s: error %v, want one naming BIND_ADDR", bad, err)
		}
	}
}

func TestTrustedProxies(t *testing.T) {
	c, err := Load(env(map[string]string{"DEV_MODE": "true", "TRUSTED_PROXIES": "172.16.0.0/12, 10.1.2.3 ,::1"}))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range c.TrustedProxies {
		got = append(got, n.String())
	}
	if want := []string{"172.16.0.0/12", "10.1.2.3/32", "::1/128"}; !slices.Equal(got, want) {
		t.Errorf("TrustedProxies %v, want %v", got, want)
	}
	if _, err := Load(env(map[string]string{"DEV_MODE": "true", "TRUSTED_PROXIES": "nginx"})); err == nil || !strings.HasPrefix(err.Error(), "config: TRUSTED_PROXIES:") {
		t.Errorf("bad TRUSTED_PROXIES: %v", err)
	}
}

// TestSpecsAreWhatLoadAccepts: the ranges and values Specs gives the
// deploy tools (the CDK app, template.yaml's parameters) are the ones Load
// enforces, and every default passes.
func TestSpecsAreWhatLoadAccepts(t *testing.T) {
	for _, s := range Specs() {
		if err := Check(s.Name, s.Default); err != nil && s.Default != "" {
			t.Errorf("%s: default %q refused: %v", s.Name, s.Default, err)
		}
		if s.Int {
			for n, ok := range map[int]bool{s.Min: true, s.Max: true, s.Min - 1: false, s.Max + 1: false} {
				if err := Check(s.Name, strconv.Itoa(n)); (err == nil) != ok {
					t.Errorf("%s=%d: error %v, want accepted=%v (range %d..%d)", s.Name, n, err, ok, s.Min, s.Max)
				}
			}
		}
		for _, v := range s.Allowed {
			if err := Check(s.Name, v); err != nil {
				t.Errorf("%s: allowed value %q refused: %v", s.Name, v, err)
			}
		}
	}
	if s := Lookup("SYNC_WORKERS"); s.Min != 2 || s.Max != 100 {
		t.Errorf("SYNC_WORKERS range %d..%d, want 2..100 (docs/sync-at-scale.md)", s.Min, s.Max)
	}
	if err := Check("COLD_STORAGE_CLASS", "GLACIER"); err == nil || !strings.Contains(err.Error(), "restore") {
		t.Errorf("COLD_STORAGE_CLASS=GLACIER: %v, want a refusal explaining the restore", err)
	}
}
