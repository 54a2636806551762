package config

import (
	"strings"
	"testing"
)

func TestUploadCaps(t *testing.T) {
	key := strings.Repeat("k", 32)
	c, err := Load(env(map[string]string{"SECRET_KEY": key}))
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxOpenUploads != 10 || c.MaxOpenUploadBytes != 20<<30 {
		t.Errorf("defaults: MaxOpenUploads %d, MaxOpenUploadBytes %d; want 10 and 20 GiB", c.MaxOpenUploads, c.MaxOpenUploadBytes)
	}
	for _, tc := range []struct {
		name, variable string
		env            map[string]string
	}{
		{"no sessions", "MAX_OPEN_UPLOADS", map[string]string{"MAX_OPEN_UPLOADS": "0"}},
		{"not a number", "MAX_OPEN_UPLOAD_MB", map[string]string{"MAX_OPEN_UPLOAD_MB": "lots"}},
		{"below the largest file", "MAX_OPEN_UPLOAD_MB", map[string]string{"MAX_OPEN_UPLOAD_MB": "50", "MAX_FILE_SIZE_MB": "100"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.env["SECRET_KEY"] = key
			_, err := Load(env(tc.env))
			if err == nil || !strings.HasPrefix(err.Error(), "config: "+tc.variable+":") || strings.Contains(err.Error(), "\n") {
				t.Errorf("Load = %v, want one line naming %s", err, tc.variable)
			}
		})
	}
}
