package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/jsii-runtime-go"
)

// SyncMetricsNamespace is where the sync functions put the run's figures
// (shared/emf.Namespace, embedded metric format in their logs).
const SyncMetricsNamespace = "HybridStorage"

// SyncLagThreshold is the age of a file still in the hot tier after a run
// that alarms: 26 hours, one night missed plus the run's own time.
const SyncLagThreshold = 26 * 3600

// syncRunAlarms are the alarms on the figures every closed run emits
// (docs/operations.md says what to do when each fires):
//   - SyncRunFailedAlarm: a run closed as failed;
//   - SyncLagAlarm: a run closed leaving a file that waits for over 26 h;
//   - SyncNotRunAlarm: no run closed for 26 hours (a missing night: the
//     schedule, the dispatcher or the workers did not get to the end).
func syncRunAlarms(stack awscdk.Stack) []awscloudwatch.Alarm {
	metric := func(name, stat string) awscloudwatch.Metric {
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String(SyncMetricsNamespace), MetricName: jsii.String(name),
			Statistic: jsii.String(stat), Period: awscdk.Duration_Hours(jsii.Number(1)),
		})
	}
	return []awscloudwatch.Alarm{
		awscloudwatch.NewAlarm(stack, jsii.String("SyncRunFailedAlarm"), &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String("A sync run closed as failed: nothing moved and files failed, or the run could not work (docs/operations.md)"),
			Metric:             metric("SyncRunFailed", "Maximum"),
			Threshold:          jsii.Number(0),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(1),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		}),
		awscloudwatch.NewAlarm(stack, jsii.String("SyncLagAlarm"), &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String("A sync run closed leaving a file in the hot tier for over 26 hours (docs/operations.md)"),
			Metric:             metric("SyncLagSeconds", "Maximum"),
			Threshold:          jsii.Number(SyncLagThreshold),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(1),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		}),
		awscloudwatch.NewAlarm(stack, jsii.String("SyncNotRunAlarm"), &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String("No sync run closed for 26 hours: the nightly run did not happen or did not finish (docs/operations.md)"),
			Metric:             metric("SyncRunsClosed", "Sum"),
			Threshold:          jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(26),
			DatapointsToAlarm:  jsii.Number(26),
			TreatMissingData:   awscloudwatch.TreatMissingData_BREACHING,
		}),
	}
}

// APIErrorRateThreshold is the share of 5xx answers (percent, over 5
// minutes, with at least 20 requests) that alarms, three periods running.
const APIErrorRateThreshold = 5

// apiErrorAlarm alarms on the HTTP API's 5xx rate.
func apiErrorAlarm(stack awscdk.Stack, apiID *string) awscloudwatch.Alarm {
	m := func(name string) awscloudwatch.Metric {
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String("AWS/ApiGateway"), MetricName: jsii.String(name),
			DimensionsMap: &map[string]*string{"ApiId": apiID},
			Statistic:     jsii.String("Sum"), Period: awscdk.Duration_Minutes(jsii.Number(5)),
		})
	}
	rate := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression:   jsii.String("IF(requests >= 20, 100 * errors / requests, 0)"),
		UsingMetrics: &map[string]awscloudwatch.IMetric{"errors": m("5xx"), "requests": m("Count")},
		Label:        jsii.String("5xx rate (%)"),
		Period:       awscdk.Duration_Minutes(jsii.Number(5)),
	})
	return awscloudwatch.NewAlarm(stack, jsii.String("ApiErrorRateAlarm"), &awscloudwatch.AlarmProps{
		AlarmDescription:   jsii.String("Over 5 % of the API's answers were 5xx for 15 minutes (docs/operations.md)"),
		Metric:             rate,
		Threshold:          jsii.Number(APIErrorRateThreshold),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(3),
		DatapointsToAlarm:  jsii.Number(3),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
}
