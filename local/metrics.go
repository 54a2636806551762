package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/hybrid-storage/hybrid-storage/shared/app"
	"github.com/hybrid-storage/hybrid-storage/shared/auth"
	"github.com/hybrid-storage/hybrid-storage/shared/metrics"
)

// setUpMetrics builds the metrics when METRICS_TOKEN or METRICS_ADDR asks
// for them and has the API and the maintenance record into them; nil when
// neither is set. Call it before the maintenance loop starts.
func setUpMetrics(a *app.App) *metrics.Metrics {
	if a.Config.MetricsToken == "" && a.Config.MetricsAddr == "" {
		return nil
	}
	m := metrics.New(a.DB, a.Auth.Queue, a.Logger)
	a.API.Metrics = m
	a.Maintenance.OnRun = m.Maintenance().ObserveRun
	return m
}

// withMetrics serves GET /metrics in front of h to callers that send
// METRICS_TOKEN as a bearer token (401 otherwise). Without a token or
// metrics, /metrics is h's (a JSON 404).
func withMetrics(h http.Handler, m *metrics.Metrics, token string) http.Handler {
	if m == nil || token == "" {
		return h
	}
	mh := m.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		got := auth.BearerToken(r)
		if subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(map[string]string{"detail": "GET /metrics needs METRICS_TOKEN as a bearer token", "error_code": "UNAUTHORIZED"})
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusMethodNotAllowed)
			_ = json.NewEncoder(w).Encode(map[string]string{"detail": "GET /metrics only", "error_code": "METHOD_NOT_ALLOWED"})
			return
		}
		mh.ServeHTTP(w, r)
	})
}

// serveMetricsAddr serves only GET /metrics, without a token, on the
// loopback METRICS_ADDR until ctx ends; wait waits for it to stop.
func serveMetricsAddr(ctx context.Context, addr string, m *metrics.Metrics, logger *slog.Logger) (wait func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (METRICS_ADDR): %w", addr, err)
	}
	return serveMetrics(ctx, ln, m, logger), nil
}

func serveMetrics(ctx context.Context, ln net.Listener, m *metrics.Metrics, logger *slog.Logger) (wait func()) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, mux, logger) }()
	return func() {
		if err := <-done; err != nil {
			logger.Warn("metrics listener", "err", err.Error())
		}
	}
}
