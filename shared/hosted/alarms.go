package hosted

import (
	"fmt"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/emf"
)

// MetricAlarm is one CloudWatch alarm on a figure the functions write in
// their logs (embedded metric format, namespace emf.Namespace). The CDK
// app (infra/stacks) and template.yaml (deploy/gen) are both built from
// MetricAlarms; docs/operations.md says what to do when each fires.
type MetricAlarm struct {
	ID          string // the CloudFormation logical ID and CDK construct ID
	Description string
	Metric      string // a metric name of shared/emf
	Statistic   string // Maximum or Sum
	Period      time.Duration
	Threshold   float64
	Below       bool // alarm below the threshold (LessThanThreshold); otherwise above it
	// EvaluationPeriods periods are looked at, DatapointsToAlarm of them
	// (0: all) must breach.
	EvaluationPeriods int
	DatapointsToAlarm int
	// MissingBreaches counts a period without data as breaching (a metric
	// that must arrive, such as one closed run a night).
	MissingBreaches bool
}

// Comparison is the alarm's CloudFormation ComparisonOperator.
func (a MetricAlarm) Comparison() string {
	if a.Below {
		return "LessThanThreshold"
	}
	return "GreaterThanThreshold"
}

// TreatMissingData is the alarm's CloudFormation TreatMissingData.
func (a MetricAlarm) TreatMissingData() string {
	if a.MissingBreaches {
		return "breaching"
	}
	return "notBreaching"
}

// SyncLagThreshold is the age of a file still in the hot tier after a run
// that alarms: one night missed plus the run's own time.
const SyncLagThreshold = 26 * time.Hour

// MetricAlarms are the deploy's alarms on the functions' own figures.
var MetricAlarms = []MetricAlarm{
	{ID: "SyncRunFailedAlarm", Description: "A sync run closed as failed: nothing moved and files failed, or the run could not work (docs/operations.md)",
		Metric: emf.SyncRunFailed, Statistic: "Maximum", Period: time.Hour, Threshold: 0, EvaluationPeriods: 1},
	{ID: "SyncLagAlarm", Description: "A sync run closed leaving a file in the hot tier for over 26 hours (docs/operations.md)",
		Metric: emf.SyncLagSeconds, Statistic: "Maximum", Period: time.Hour, Threshold: SyncLagThreshold.Seconds(), EvaluationPeriods: 1},
	// No run closed in 26 consecutive hours: the schedule, the dispatcher
	// or the workers did not get to the end of a night.
	{ID: "SyncNotRunAlarm", Description: "No sync run closed for 26 hours: the nightly run did not happen or did not finish (docs/operations.md)",
		Metric: emf.SyncRunsClosed, Statistic: "Sum", Period: time.Hour, Threshold: 1, Below: true,
		EvaluationPeriods: 26, DatapointsToAlarm: 26, MissingBreaches: true},
	// The orphan sweep should find nothing: an object without a row or an
	// upload session means a path that leaks storage past the quota.
	{ID: "OrphanObjectsAlarm", Description: "The maintenance's orphan sweep removed objects no file row or upload session named: some path leaks objects (docs/operations.md)",
		Metric: emf.OrphanObjects, Statistic: "Maximum", Period: time.Hour, Threshold: 0, EvaluationPeriods: 1},
	// The usage counters are kept by triggers: a drift means a path that
	// bypassed them, and quotas were checked against wrong figures.
	{ID: "UsageDriftAlarm", Description: "The maintenance's check found usage counters that differed from the files and repaired them: some path bypasses the counters (docs/operations.md)",
		Metric: emf.UsageDriftUsers, Statistic: "Maximum", Period: time.Hour, Threshold: 0, EvaluationPeriods: 1},
	{ID: "MaintenanceFailedAlarm", Description: "A maintenance task (expired uploads, trash, account deletions, orphan sweep) failed on two nights running (docs/operations.md)",
		Metric: emf.MaintenanceTasksFailed, Statistic: "Maximum", Period: 24 * time.Hour, Threshold: 0, EvaluationPeriods: 2, DatapointsToAlarm: 2},
}

// The API's 5xx-rate alarm (a metric-math alarm over API Gateway's 5xx and
// Count): more than APIErrorRatePercent of the answers of APIErrorRatePeriod
// were 5xx, with at least APIErrorRateMinRequests requests, three periods
// running.
const (
	APIErrorRatePercent     = 5
	APIErrorRatePeriod      = 5 * time.Minute
	APIErrorRateMinRequests = 20
	APIErrorRatePeriods     = 3
)

// APIErrorRateDescription is the 5xx-rate alarm's description.
func APIErrorRateDescription() string {
	return fmt.Sprintf("Over %d %% of the API's answers were 5xx for %d minutes (docs/operations.md)",
		APIErrorRatePercent, int(APIErrorRatePeriods*APIErrorRatePeriod.Minutes()))
}
