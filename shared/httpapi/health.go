package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
)

func (a *API) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz checks PostgreSQL and both tiers, in parallel, within 3 s.
func (a *API) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	checks := []struct {
		name string
		p    pinger
	}{{"database", a.DB}, {"hot tier", a.Hot}, {"cold tier", a.Cold}}
	var mu sync.Mutex
	var failed []string
	var wg sync.WaitGroup
	for _, c := range checks {
		wg.Go(func() {
			if err := c.p.Ping(ctx); err != nil {
				a.Logger.WarnContext(ctx, "readiness check failed", "check", c.name, "err", err.Error())
				mu.Lock()
				failed = append(failed, c.name)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(failed) > 0 {
		a.writeError(w, r, core.Errorf(core.CodeUnavailable, "not ready: %s unreachable", strings.Join(failed, ", ")))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// publicConfig tells the web app the limits it should check before sending,
// and how downloads are served: "stream" (through the API, same origin as
// the API) or "redirect" (every download is a presigned URL of the tier, so
// the web app lets the browser navigate there instead of fetching it), and
// how many days a deleted file stays in the trash (0: no trash).
func (a *API) publicConfig(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"max_file_size_bytes":       a.Config.MaxFileSize,
		"multipart_threshold_bytes": a.Config.MultipartThreshold,
		"allowed_content_types":     nonNil(a.Config.AllowedContentTypes),
		"download_mode":             a.Config.DownloadMode,
		"trash_retention_days":      a.Config.TrashRetentionDays,
		"password": map[string]any{
			"min_chars":     core.MinPasswordChars,
			"max_bytes":     core.MaxPasswordBytes,
			"blocklist_url": "/api/auth/password-blocklist",
		},
		"password_reset": a.Mail != nil || a.Config.DevMode,
	})
}

// passwordBlocklist is GET /api/auth/password-blocklist: the common
// passwords new passwords must not be, so that the web app can say so
// before sending (core.CheckNewPassword is the rule).
func (a *API) passwordBlocklist(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(map[string]any{"passwords": core.CommonPasswords()})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
