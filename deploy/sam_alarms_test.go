package deploy

import (
	"fmt"
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/emf"
	"github.com/hybrid-storage/hybrid-storage/shared/hosted"
)

// TestSAMOperatorAlarms: template.yaml has every alarm of
// hosted.MetricAlarms on the metrics the functions emit, as CloudFormation
// reads it, and the HTTP API's 5xx-rate alarm.
func TestSAMOperatorAlarms(t *testing.T) {
	tmpl := readTemplate(t, "template.yaml")
	for _, a := range hosted.MetricAlarms {
		if getString(tmpl, "Resources", a.ID, "Type") != "AWS::CloudWatch::Alarm" {
			t.Errorf("no alarm %s", a.ID)
			continue
		}
		p := getMap(tmpl, "Resources", a.ID, "Properties")
		if p["Namespace"] != emf.Namespace {
			t.Errorf("%s: namespace %v, want %s (what the functions emit)", a.ID, p["Namespace"], emf.Namespace)
		}
		got := fmt.Sprint(p["MetricName"], " ", p["Statistic"], " ", p["ComparisonOperator"], " ", p["Threshold"], " ",
			p["EvaluationPeriods"], " ", p["Period"], " ", p["TreatMissingData"], " ", p["DatapointsToAlarm"])
		dp := any(nil)
		if a.DatapointsToAlarm > 0 {
			dp = a.DatapointsToAlarm
		}
		want := fmt.Sprint(a.Metric, " ", a.Statistic, " ", a.Comparison(), " ", a.Threshold, " ",
			a.EvaluationPeriods, " ", int(a.Period.Seconds()), " ", a.TreatMissingData(), " ", dp)
		if got != want {
			t.Errorf("%s: %s, want %s", a.ID, got, want)
		}
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
	if !metrics["5xx"] || !metrics["Count"] || p["Threshold"] != hosted.APIErrorRatePercent || p["ComparisonOperator"] != "GreaterThanThreshold" {
		t.Errorf("ApiErrorRateAlarm: metrics %v, %v %v", metrics, p["ComparisonOperator"], p["Threshold"])
	}
}
