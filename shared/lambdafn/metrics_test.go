package lambdafn_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/app"
	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/emf"
	"github.com/hybrid-storage/hybrid-storage/shared/hosted"
	"github.com/hybrid-storage/hybrid-storage/shared/lambdafn"
	"github.com/hybrid-storage/hybrid-storage/shared/syncjob"
)

// syncBuf is a log the run metrics write to while workers run.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// emfRecords returns the embedded-metric-format records of log, by metric.
func emfRecords(t *testing.T, log string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		aws, _ := rec["_aws"].(map[string]any)
		if aws == nil {
			t.Fatalf("no _aws metadata: %q", line)
		}
		out = append(out, rec)
	}
	return out
}

// TestScheduledRunEmitsMetrics: the sync function's scheduled run, on the
// real database and S3 server, writes one record with the run's figures and
// the backlog it left (what the CDK and SAM alarms read).
func TestScheduledRunEmitsMetrics(t *testing.T) {
	t.Parallel()
	a, f, h := syncApp(t)
	var log syncBuf
	a.Sync.OnRunClosed(lambdafn.RunMetrics(&log, a.DB, slog.New(slog.DiscardHandler), time.Now))
	raw, err := os.ReadFile("testdata/eventbridge-scheduled-event.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := call(t, h, raw); err != nil {
		t.Fatal(err)
	}
	recs := emfRecords(t, log.b.String())
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1: %s", len(recs), log.b.String())
	}
	r := recs[0]
	for name, want := range map[string]float64{"SyncRunsClosed": 1, "SyncRunFailed": 0, "SyncFilesSynced": 1,
		"SyncFilesFailed": 0, "SyncBytes": float64(f.Size), "SyncPendingFiles": 0, "SyncPendingBytes": 0, "SyncLagSeconds": 0} {
		if got, ok := r[name].(float64); !ok || got != want {
			t.Errorf("%s = %v, want %v", name, r[name], want)
		}
	}
}

// TestFanoutLastTicketEmitsMetrics: on the fan-out, the ticket that closes
// the run writes the run's record once, with the whole night's figures.
func TestFanoutLastTicketEmitsMetrics(t *testing.T) {
	t.Parallel()
	e := newFanoutEnv(t, 30*time.Second, func(c *config.Config) { c.SyncWorkers = 2; c.SyncBatchSize = 4 })
	e.seed(10)
	opt := app.SyncOptions(e.cfg)
	opt.BatchSize = 4
	j := syncjob.New(e.app.DB, e.app.Hot, e.app.Cold, slog.New(slog.DiscardHandler), opt)
	var log syncBuf
	j.OnRunClosed(lambdafn.RunMetrics(&log, e.app.DB, slog.New(slog.DiscardHandler), time.Now))
	f := syncjob.NewFanout(j, e.app.DB, e.q, e.cfg.SyncWorkers)
	d, err := lambdafn.DispatchHandler(f, noMaintenance{}, slog.New(slog.DiscardHandler))(context.Background(), scheduledEvent(t))
	if err != nil || len(d.Tickets) != 2 {
		t.Fatalf("dispatch %+v, %v", d, err)
	}
	e.pump(d.RunID, 2, inProcess(lambdafn.WorkerHandler(f, slog.New(slog.DiscardHandler)), 30*time.Second))
	recs := emfRecords(t, log.b.String())
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1 (the closing ticket's): %s", len(recs), log.b.String())
	}
	if recs[0]["SyncFilesSynced"] != 10.0 || recs[0]["SyncRunsClosed"] != 1.0 || recs[0]["SyncPendingFiles"] != 0.0 {
		t.Errorf("record %v, want 10 files synced, nothing pending", recs[0])
	}
}

// TestAlarmedMetricsAreEmitted: every metric the deploy alarms on
// (hosted.MetricAlarms) is one the functions write: a scheduled run's
// figures and a maintenance run's, on the real database and S3 server. An
// alarm on a metric nothing emits would never fire.
func TestAlarmedMetricsAreEmitted(t *testing.T) {
	t.Parallel()
	a, _, h := syncApp(t)
	var log syncBuf
	a.Sync.OnRunClosed(lambdafn.RunMetrics(&log, a.DB, slog.New(slog.DiscardHandler), time.Now))
	a.Maintenance.OnRun = lambdafn.MaintenanceMetrics(&log, slog.New(slog.DiscardHandler), time.Now)
	a.Maintenance.Run(t.Context())
	raw, err := os.ReadFile("testdata/eventbridge-scheduled-event.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := call(t, h, raw); err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{}
	for _, rec := range emfRecords(t, log.b.String()) {
		ds, _ := rec["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)
		for _, d := range ds {
			dm, _ := d.(map[string]any)
			if dm["Namespace"] != emf.Namespace {
				continue
			}
			ms, _ := dm["Metrics"].([]any)
			for _, m := range ms {
				name, _ := m.(map[string]any)["Name"].(string)
				if _, ok := rec[name].(float64); ok {
					declared[name] = true
				}
			}
		}
	}
	for _, al := range hosted.MetricAlarms {
		if !declared[al.Metric] {
			t.Errorf("alarm %s is on %s/%s, which no function wrote (written: %v)", al.ID, emf.Namespace, al.Metric, declared)
		}
	}
}
