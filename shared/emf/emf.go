// Package emf writes CloudWatch embedded metric format records: one JSON
// line in a Lambda function's log, which CloudWatch Logs turns into
// metrics without any API call.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
package emf

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Namespace is where the product's metrics go.
const Namespace = "HybridStorage"

// Names of the metrics the functions emit that the deploy alarms on
// (shared/hosted.MetricAlarms).
const (
	SyncRunsClosed         = "SyncRunsClosed"         // a sync run closed (1 per run)
	SyncRunFailed          = "SyncRunFailed"          // 1 when the run closed as failed
	SyncLagSeconds         = "SyncLagSeconds"         // age of the oldest file a run left in the hot tier
	OrphanObjects          = "OrphanObjects"          // objects the maintenance's orphan sweep removed (should be 0)
	UsageDriftUsers        = "UsageDriftUsers"        // users whose usage counters the maintenance repaired (should be 0)
	MaintenanceTasksFailed = "MaintenanceTasksFailed" // maintenance tasks that failed in one run
)

// Metric is one value of a record.
type Metric struct {
	Name  string
	Unit  string // Count, Bytes, Seconds, None...
	Value float64
}

// Write writes one record of metrics at t, without dimensions, to w.
func Write(w io.Writer, t time.Time, metrics ...Metric) error {
	defs := make([]map[string]string, len(metrics))
	rec := map[string]any{}
	for i, m := range metrics {
		defs[i] = map[string]string{"Name": m.Name, "Unit": m.Unit}
		rec[m.Name] = m.Value
	}
	rec["_aws"] = map[string]any{
		"Timestamp": t.UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  Namespace,
			"Dimensions": [][]string{{}},
			"Metrics":    defs,
		}},
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("emf: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
