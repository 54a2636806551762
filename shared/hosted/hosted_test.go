package hosted

import (
	"strings"
	"testing"
)

func TestCSP(t *testing.T) {
	csp := CSP([]string{"http://localhost:8000", "", "http://localhost:9000", "http://localhost:8000"})
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'",
		"base-uri 'self'", "connect-src 'self' http://localhost:8000 http://localhost:9000;"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q has no %q", csp, want)
		}
	}
}

func TestOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"":                            "",
		"localhost:9000":              "http://localhost:9000",
		"minio.example.com:443":       "https://minio.example.com",
		"http://127.0.0.1:9100/":      "http://127.0.0.1:9100",
		"https://s3.example.com/path": "https://s3.example.com",
	} {
		secure := strings.Contains(in, ":443")
		if got := Origin(in, secure); got != want {
			t.Errorf("Origin(%q, %v) = %q, want %q", in, secure, got, want)
		}
	}
}
