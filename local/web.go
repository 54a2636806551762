package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/hosted"
)

// newHandler routes API paths to api and everything else to the web app in
// webDir, falling back to index.html for client-side routes, with headers
// (hosted.SPAHeaders: CSP, frame and referrer policy) on every web app
// response. API 404s stay JSON because they never reach the web app.
func newHandler(api http.Handler, webDir string, headers map[string]string, logger *slog.Logger) http.Handler {
	web := spa(webDir, headers, logger)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p == "/api" || strings.HasPrefix(p, "/api/") || p == "/healthz" || p == "/readyz" {
			api.ServeHTTP(w, r)
			return
		}
		web.ServeHTTP(w, r)
	})
}

// webHeaders are the web app's security headers for cfg: the CSP's
// connect-src is its own origin and the tiers' public endpoints.
func webHeaders(cfg config.Config) map[string]string {
	return hosted.SPAHeaders(hosted.ConnectSources(cfg))
}

// hstsValue is the local server's Strict-Transport-Security, CloudFront's.
var hstsValue = fmt.Sprintf("max-age=%d; includeSubDomains", hosted.StrictTransportDays*24*60*60)

// withHSTS adds Strict-Transport-Security to every answer of h that goes
// out over HTTPS: all of them when behindTLS (BEHIND_TLS: a proxy in front
// terminates TLS), else those of a TLS connection. Over plain HTTP a
// browser ignores the header, and a server reached both ways must not
// pin HTTPS for a name that has none.
func withHSTS(h http.Handler, behindTLS bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if behindTLS || r.TLS != nil {
			w.Header().Set("Strict-Transport-Security", hstsValue)
		}
		h.ServeHTTP(w, r)
	})
}

func spa(dir string, headers map[string]string, logger *slog.Logger) http.Handler {
	index := filepath.Join(dir, "index.html")
	if _, err := os.Stat(index); err != nil {
		logger.Warn("web app not built: only the API is served", "web_dir", dir)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"detail":"the web app is not built (run make web)","error_code":"NOT_FOUND"}` + "\n"))
		})
	}
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.Header().Set("Allow", "GET, HEAD")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusMethodNotAllowed)
			_, _ = w.Write([]byte(`{"detail":"method not allowed","error_code":"METHOD_NOT_ALLOWED"}` + "\n"))
			return
		}
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		clean := path.Clean("/" + r.URL.Path)
		if strings.HasPrefix(clean, "/assets/") {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		if fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(clean))); err == nil && !fi.IsDir() {
			files.ServeHTTP(w, r)
			return
		}
		// A client-side route: serve the app shell.
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFile(w, r, index)
	})
}
