package stacks

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/emf"
	"github.com/hybrid-storage/hybrid-storage/shared/hosted"
)

// TestOperatorAlarms: the synthesized API stack has every alarm of
// hosted.MetricAlarms on the metrics the functions emit (namespace
// emf.Namespace), and the 5xx-rate alarm over the HTTP API's 5xx and Count.
func TestOperatorAlarms(t *testing.T) {
	s := full(t)
	alarms := s.apiJS.ofType("AWS::CloudWatch::Alarm")
	byMetric := map[string]map[string]any{}
	for _, a := range alarms {
		p := a.Properties
		if ns, _ := p["Namespace"].(string); ns == emf.Namespace {
			byMetric[p["MetricName"].(string)] = p
		}
	}
	for _, w := range hosted.MetricAlarms {
		p, ok := byMetric[w.Metric]
		if !ok {
			t.Errorf("no alarm on %s/%s (alarms on %v)", emf.Namespace, w.Metric, keys(byMetric))
			continue
		}
		got := fmt.Sprint(p["Statistic"], p["ComparisonOperator"], p["Threshold"], p["EvaluationPeriods"], p["Period"], p["TreatMissingData"])
		exp := fmt.Sprint(w.Statistic, w.Comparison(), w.Threshold, float64(w.EvaluationPeriods), w.Period.Seconds(), w.TreatMissingData())
		if got != exp {
			t.Errorf("%s alarm: %s, want %s", w.Metric, got, exp)
		}
		if w.DatapointsToAlarm > 0 && p["DatapointsToAlarm"] != float64(w.DatapointsToAlarm) {
			t.Errorf("%s alarm: DatapointsToAlarm %v, want %d", w.Metric, p["DatapointsToAlarm"], w.DatapointsToAlarm)
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
	if rate["Threshold"] != float64(hosted.APIErrorRatePercent) || rate["ComparisonOperator"] != "GreaterThanThreshold" {
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
