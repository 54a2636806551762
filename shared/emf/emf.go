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
