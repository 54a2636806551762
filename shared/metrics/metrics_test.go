package metrics

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
)

type fakeSource struct {
	pending postgres.PendingStats
	run     *postgres.SyncRun
	err     error
}

func (f fakeSource) Pending(context.Context) (postgres.PendingStats, error) { return f.pending, f.err }
func (f fakeSource) LastSyncRun(context.Context) (*postgres.SyncRun, error) { return f.run, f.err }

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(w.Body)
	return string(b)
}

func TestSyncFigures(t *testing.T) {
	start := time.Now().Add(-time.Hour)
	end := start.Add(90 * time.Second)
	oldest := time.Now().Add(-30 * time.Hour)
	m := New(fakeSource{
		pending: postgres.PendingStats{Files: 3, Bytes: 4096, Oldest: &oldest},
		run:     &postgres.SyncRun{StartedAt: start, FinishedAt: &end, Status: "partial", Synced: 7, Failed: 2, Bytes: 1 << 20},
	}, func() (int, int) { return 1, 5 }, slog.New(slog.DiscardHandler))
	m.ObserveRequest("", "GET", 404, time.Millisecond)
	m.AddUploaded("presigned", 10)
	m.AddDownloaded(20)
	text := scrape(t, m)
	for _, want := range []string{
		"hybrid_sync_metrics_up 1", "hybrid_sync_pending_files 3", "hybrid_sync_pending_bytes 4096",
		`hybrid_sync_last_run_status{status="partial"} 1`, `hybrid_sync_last_run_status{status="succeeded"} 0`,
		"hybrid_sync_last_run_duration_seconds 90", "hybrid_sync_last_run_failed_files 2", "hybrid_sync_last_run_synced_files 7",
		"hybrid_sync_last_run_bytes 1.048576e+06", "hybrid_bcrypt_running 1", "hybrid_bcrypt_waiting 5",
		`hybrid_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`hybrid_uploaded_bytes_total{path="presigned"} 10`, `hybrid_uploaded_bytes_total{path="stream"} 0`,
		"hybrid_downloaded_bytes_total 20",
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("no %q", want)
		}
	}
	// The lag is the oldest pending file's age: 30 h here.
	if !strings.Contains(text, "hybrid_sync_lag_seconds 10800") {
		t.Errorf("sync lag of a file pending 30 h not ~108000 s")
	}
}

func TestSyncFiguresUnavailable(t *testing.T) {
	m := New(fakeSource{err: errors.New("database down")}, nil, slog.New(slog.DiscardHandler))
	text := scrape(t, m)
	if !strings.Contains(text, "hybrid_sync_metrics_up 0\n") || strings.Contains(text, "hybrid_sync_pending_files") {
		t.Errorf("database down: want up 0 and no pending figures, got\n%s", text)
	}
}
