package testenv

import (
	"hash/crc64"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
)

// TestEnvRoundTrips pins that a bootstrap loading Env(cfg) runs with cfg:
// a field added to config but not to Env fails here.
func TestEnvRoundTrips(t *testing.T) {
	load := func(env []string) config.Config {
		t.Helper()
		m := map[string]string{}
		for _, kv := range env {
			k, v, _ := strings.Cut(kv, "=")
			m[k] = v
		}
		c, err := config.Load(func(k string) string { return m[k] })
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	cfg := load([]string{"SECRET_KEY=" + strings.Repeat("k", 32), "DEV_MODE=true"})
	cfg.DevMode = true
	cfg.DatabaseURL = "postgres://x@db:5432/y"
	cfg.TokenTTL = 7 * time.Minute
	cfg.SessionIdle, cfg.SessionMax = 2*24*time.Hour, 9*24*time.Hour
	cfg.SMTPURL, cfg.MailFrom = "smtp://u:p@mail.example:2525", "Files <files@example.com>"
	cfg.BcryptCost = 11
	cfg.AuthRateMin = 3
	cfg.Hot = config.HotConfig{Endpoint: "h:1", PublicEndpoint: "p:2", AccessKey: "a", SecretKey: "s", Bucket: "hot", Secure: true, Region: "eu-west-1"}
	cfg.Cold = config.ColdConfig{Endpoint: "http://c:3", PublicEndpoint: "http://pc:4", AccessKeyID: "ca", SecretKey: "cs", SessionToken: "tok", Region: "eu-west-1", Bucket: "cold"}
	cfg.MaxFileSize = 3 << 20
	cfg.MultipartThreshold = 6 << 20
	cfg.AllowedContentTypes = []string{"image/*", "application/pdf"}
	cfg.CORSOrigins = []string{"http://a.example", "http://b.example"}
	cfg.DownloadMode = "redirect"
	cfg.SyncBatchSize, cfg.SyncMaxRetries = 7, 5
	cfg.SyncSchedule = "5 1 * * *"
	cfg.SyncTriggerToken = "operator-token-0123456789"
	cfg.SyncLogFile = "/tmp/sync.log"
	cfg.DeleteFromMinioAfterSync = true
	cfg.AuthEmailRateHour = 9
	cfg.BcryptQueueMax = 4
	cfg.UploadMinRate, cfg.MaxStreamedUploads, cfg.MaxStreamedUploadsPerUser = 77, 5, 2
	_, proxies, _ := net.ParseCIDR("10.0.0.0/8")
	cfg.TrustedProxies = []*net.IPNet{proxies}
	cfg.KnownSecrets = nil // the hot keys above are no longer minioadmin

	got := load(Env(cfg))
	got.Port, got.WebDir, got.BindAddr = cfg.Port, cfg.WebDir, cfg.BindAddr // the local server's own settings
	if !reflect.DeepEqual(got, cfg) {
		t.Errorf("config.Load(Env(cfg)):\n got %+v\nwant %+v", got, cfg)
	}
}

// TestCRC64NVMEReference pins the reference helper to CRC-64/NVME's check
// value (of "123456789") and S3's encoding of it.
func TestCRC64NVMEReference(t *testing.T) {
	if got := crc64.Checksum([]byte("123456789"), crc64NVMETable); got != 0xae8b14860a799888 {
		t.Fatalf("reference CRC64NVME %x", got)
	}
	if got := CRC64NVME([]byte("123456789")); got != "rosUhgp5mIg=" {
		t.Fatalf("reference CRC64NVME base64 %s", got)
	}
}
