package metrics

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/maintenance"
)

// The orphans each maintenance run found add up per tier, and failed tasks
// are counted by task.
func TestMaintenanceFigures(t *testing.T) {
	m := New(fakeSource{}, nil, slog.New(slog.DiscardHandler))
	o := m.Maintenance()
	if text := scrape(t, m); !strings.Contains(text, `hybrid_orphan_objects_total{tier="hot"} 0`+"\n") ||
		!strings.Contains(text, "hybrid_maintenance_last_run_timestamp_seconds 0\n") {
		t.Errorf("before any run:\n%s", text)
	}
	for range 2 {
		o.ObserveRun(context.Background(), maintenance.Report{Results: []maintenance.Result{
			{Task: "expired_uploads", Done: 3},
			{Task: maintenance.TaskOrphansHot, Done: 2},
			{Task: maintenance.TaskOrphansCold, Done: 1, Error: "cold tier down"},
		}})
	}
	text := scrape(t, m)
	for _, want := range []string{
		`hybrid_orphan_objects_total{tier="hot"} 4`, `hybrid_orphan_objects_total{tier="cold"} 2`,
		`hybrid_maintenance_task_failures_total{task="orphans_cold"} 2`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("no %q", want)
		}
	}
	if strings.Contains(text, "hybrid_maintenance_last_run_timestamp_seconds 0\n") || strings.Contains(text, `task="expired_uploads"`) {
		t.Errorf("after two runs:\n%s", text)
	}
}
