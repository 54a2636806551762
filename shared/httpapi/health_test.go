package httpapi_test

import (
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
)

// TestConfigAnnouncesDownloadMode: the web app learns from GET /api/config
// whether downloads are streamed through the API or handed out as presigned
// URLs (it then navigates there instead of fetching across origins). The
// other fields stay.
func TestConfigAnnouncesDownloadMode(t *testing.T) {
	t.Parallel()
	for _, want := range []string{config.DownloadStream, config.DownloadRedirect} {
		t.Run(want, func(t *testing.T) {
			t.Parallel()
			s := newStack(t, func(c *config.Config) {
				c.DownloadMode = want
				c.MultipartThreshold = 6 * mib
			})
			var out struct {
				DownloadMode string   `json:"download_mode"`
				MaxFileSize  *int64   `json:"max_file_size_bytes"`
				Threshold    int64    `json:"multipart_threshold_bytes"`
				ContentTypes []string `json:"allowed_content_types"`
			}
			s.client(t).json("GET", "/api/config", nil, 200, &out)
			if out.DownloadMode != want {
				t.Errorf("download_mode %q, want %q", out.DownloadMode, want)
			}
			if out.MaxFileSize == nil || *out.MaxFileSize <= 0 || out.Threshold != 6*mib || out.ContentTypes == nil {
				t.Errorf("other fields changed: max_file_size_bytes %v, multipart_threshold_bytes %d, allowed_content_types %v",
					out.MaxFileSize, out.Threshold, out.ContentTypes)
			}
		})
	}
}

// The web app learns how long the trash keeps a file (0: no trash).
func TestConfigAnnouncesTrashRetention(t *testing.T) {
	t.Parallel()
	s := newStack(t, func(c *config.Config) { c.TrashRetentionDays = 7 })
	var out struct {
		Days *int `json:"trash_retention_days"`
	}
	s.client(t).json("GET", "/api/config", nil, 200, &out)
	if out.Days == nil || *out.Days != 7 {
		t.Errorf("trash_retention_days %v, want 7", out.Days)
	}
}
