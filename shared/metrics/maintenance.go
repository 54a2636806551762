package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hybrid-storage/hybrid-storage/shared/maintenance"
)

// MaintenanceObserver records what the maintenance runs did
// (maintenance.Service.OnRun).
type MaintenanceObserver struct {
	orphans  *prometheus.CounterVec
	drift    prometheus.Counter
	failures *prometheus.CounterVec
	lastRun  prometheus.Gauge
}

// Maintenance registers the maintenance figures on m and returns what
// records them; call it once.
func (m *Metrics) Maintenance() *MaintenanceObserver {
	o := &MaintenanceObserver{
		orphans: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hybrid_orphan_objects_total",
			Help: "Objects the orphan sweep found (and removed) under the user prefixes of a tier: older than 48 h, named by no file row and no upload session. Should stay 0.",
		}, []string{"tier"}),
		drift: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hybrid_usage_drift_users_total",
			Help: "Users whose usage counters the maintenance's check found different from their rows (and repaired). Should stay 0.",
		}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hybrid_maintenance_task_failures_total",
			Help: "Maintenance runs in which a task failed, by task (it is retried by the next run).",
		}, []string{"task"}),
		lastRun: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hybrid_maintenance_last_run_timestamp_seconds",
			Help: "End of the last maintenance run (Unix time; 0: none yet).",
		}),
	}
	m.reg.MustRegister(o.orphans, o.drift, o.failures, o.lastRun)
	for _, t := range []string{"hot", "cold"} {
		o.orphans.WithLabelValues(t)
	}
	return o
}

// ObserveRun records one run's report.
func (o *MaintenanceObserver) ObserveRun(_ context.Context, rep maintenance.Report) {
	o.orphans.WithLabelValues("hot").Add(float64(rep.Done(maintenance.TaskOrphansHot)))
	o.orphans.WithLabelValues("cold").Add(float64(rep.Done(maintenance.TaskOrphansCold)))
	o.drift.Add(float64(rep.Done(maintenance.TaskUsage)))
	for _, r := range rep.Results {
		if r.Error != "" {
			o.failures.WithLabelValues(r.Task).Inc()
		}
	}
	o.lastRun.Set(float64(time.Now().UnixMilli()) / 1000)
}
