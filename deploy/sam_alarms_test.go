package deploy

import (
	"fmt"
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/emf"
)

// TestSAMOperatorAlarms: template.yaml has the alarms of the CDK app
// (infra/stacks/alarms.go) on the metrics the sync functions emit and on
// the HTTP API's 5xx rate.
func TestSAMOperatorAlarms(t *testing.T) {
	tmpl := readTemplate(t, "template.yaml")
	want := map[string]string{
		"SyncRunFailedAlarm": "SyncRunFailed Maximum GreaterThanThreshold 0 1 3600 notBreaching",
		"SyncLagAlarm":       "SyncLagSeconds Maximum GreaterThanThreshold 93600 1 3600 notBreaching",
		"SyncNotRunAlarm":    "SyncRunsClosed Sum LessThanThreshold 1 26 3600 breaching",
	}
	for id, w := range want {
		if getString(tmpl, "Resources", id, "Type") != "AWS::CloudWatch::Alarm" {
			t.Errorf("no alarm %s", id)
			continue
		}
		p := getMap(tmpl, "Resources", id, "Properties")
		if p["Namespace"] != emf.Namespace {
			t.Errorf("%s: namespace %v, want %s (what the functions emit)", id, p["Namespace"], emf.Namespace)
		}
		got := fmt.Sprint(p["MetricName"], " ", p["Statistic"], " ", p["ComparisonOperator"], " ", p["Threshold"], " ",
			p["EvaluationPeriods"], " ", p["Period"], " ", p["TreatMissingData"])
		if got != w {
			t.Errorf("%s: %s, want %s", id, got, w)
		}
	}
	if p := getMap(tmpl, "Resources", "SyncNotRunAlarm", "Properties"); p["DatapointsToAlarm"] != 26 {
		t.Errorf("SyncNotRunAlarm: DatapointsToAlarm %v, want 26 (every hour of the 26 without a run)", p["DatapointsToAlarm"])
	}
	p := getMap(tmpl, "Resources", "ApiErrorRateAlarm", "Properties")
	qs, _ := p["Metrics"].([]any)
	metrics := map[string]bool{}
	for _, q := range qs {
		qm, _ := q.(map[string]any)
		m := getMap(qm, "MetricStat", "Metric")
		if m == nil {
			continue
		}
		dims, _ := m["Dimensions"].([]any)
		d, _ := dims[0].(map[string]any)
		if m["Namespace"] != "AWS/ApiGateway" || d["Name"] != "ApiId" || getMap(d, "Value")["Ref"] != "HttpApi" {
			t.Errorf("ApiErrorRateAlarm query %v, want AWS/ApiGateway of the HttpApi", m)
		}
		metrics[fmt.Sprint(m["MetricName"])] = true
	}
	if !metrics["5xx"] || !metrics["Count"] || p["Threshold"] != 5 || p["ComparisonOperator"] != "GreaterThanThreshold" {
		t.Errorf("ApiErrorRateAlarm: metrics %v, %v %v", metrics, p["ComparisonOperator"], p["Threshold"])
	}
}
