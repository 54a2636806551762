package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(map[string]string{"SECRET_KEY": strings.Repeat("k", 32)}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.MaxFileSize != 100<<20 {
		t.Errorf("MaxFileSize = %d, want %d", c.MaxFileSize, 100<<20)
	}
	if c.TokenTTL != 24*time.Hour {
		t.Errorf("TokenTTL = %v, want 24h", c.TokenTTL)
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
