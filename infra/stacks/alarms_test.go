package stacks

import (
	"fmt"
	"strings"
	"testing"
)

// TestOperatorAlarms: the synthesized API stack has the alarms
// docs/operations.md describes, on the metrics the functions emit (the sync
// figures in the HybridStorage namespace, the HTTP API's own 5xx and Count).
func TestOperatorAlarms(t *testing.T) {
	s := full(t)
	alarms := s.apiJS.ofType("AWS::CloudWatch::Alarm")
	byMetric := map[string]map[string]any{}
	for _, a := range alarms {
		p := a.Properties
		if ns, _ := p["Namespace"].(string); ns == SyncMetricsNamespace {
			byMetric[p["MetricName"].(string)] = p
		}
	}
	want := []struct {
		metric, stat, op string
		threshold        float64
		periods, period  float64
		missing          string
	}{
		{"SyncRunFailed", "Maximum", "GreaterThanThreshold", 0, 1, 3600, "notBreaching"},
		{"SyncLagSeconds", "Maximum", "GreaterThanThreshold", SyncLagThreshold, 1, 3600, "notBreaching"},
		// No run closed in 26 consecutive hours: missing data counts.
		{"SyncRunsClosed", "Sum", "LessThanThreshold", 1, 26, 3600, "breaching"},
	}
	for _, w := range want {
		p, ok := byMetric[w.metric]
		if !ok {
			t.Errorf("no alarm on %s/%s (alarms on %v)", SyncMetricsNamespace, w.metric, keys(byMetric))
			continue
		}
		got := fmt.Sprint(p["Statistic"], p["ComparisonOperator"], p["Threshold"], p["EvaluationPeriods"], p["Period"], p["TreatMissingData"])
		exp := fmt.Sprint(w.stat, w.op, w.threshold, w.periods, w.period, w.missing)
		if got != exp {
			t.Errorf("%s alarm: %s, want %s", w.metric, got, exp)
		}
		if w.periods > 1 && p["DatapointsToAlarm"] != w.periods {
			t.Errorf("%s alarm: DatapointsToAlarm %v, want all %v periods", w.metric, p["DatapointsToAlarm"], w.periods)
		}
	}
	// The 5xx rate: a metric-math alarm over the HTTP API's 5xx and Count.
	var rate map[string]any
	for _, a := range alarms {
		if qs, ok := a.Properties["Metrics"].([]any); ok && len(qs) == 3 {
			rate = a.Properties
		}
	}
	if rate == nil {
		t.Fatal("no 5xx-rate alarm (a metric-math alarm with three queries)")
	}
	names := map[string]bool{}
	var expr string
	for _, q := range rate["Metrics"].([]any) {
		qm := q.(map[string]any)
		if e, ok := qm["Expression"].(string); ok {
			expr = e
			continue
		}
		m := qm["MetricStat"].(map[string]any)["Metric"].(map[string]any)
		if m["Namespace"] != "AWS/ApiGateway" {
			t.Errorf("5xx alarm query on %v, want AWS/ApiGateway", m["Namespace"])
		}
		dims, _ := m["Dimensions"].([]any)
		if len(dims) != 1 || dims[0].(map[string]any)["Name"] != "ApiId" {
			t.Errorf("5xx alarm query dimensions %v, want the API's ApiId", dims)
		}
		names[m["MetricName"].(string)] = true
	}
	if !names["5xx"] || !names["Count"] || !strings.Contains(expr, "100 * errors / requests") {
		t.Errorf("5xx alarm: metrics %v, expression %q", names, expr)
	}
	if rate["Threshold"] != float64(APIErrorRateThreshold) || rate["ComparisonOperator"] != "GreaterThanThreshold" {
		t.Errorf("5xx alarm: %v %v", rate["ComparisonOperator"], rate["Threshold"])
	}
}

func keys(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
