package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-storage/hybrid-storage/shared/emf"
	"github.com/hybrid-storage/hybrid-storage/shared/hosted"
)

// metricAlarms are the alarms on the figures the functions emit
// (hosted.MetricAlarms; docs/operations.md says what to do when each fires).
func metricAlarms(stack awscdk.Stack) []awscloudwatch.Alarm {
	var out []awscloudwatch.Alarm
	for _, a := range hosted.MetricAlarms {
		props := &awscloudwatch.AlarmProps{
			AlarmDescription: jsii.String(a.Description),
			Metric: awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
				Namespace: jsii.String(emf.Namespace), MetricName: jsii.String(a.Metric),
				Statistic: jsii.String(a.Statistic), Period: awscdk.Duration_Seconds(jsii.Number(a.Period.Seconds())),
			}),
			Threshold:          jsii.Number(a.Threshold),
			ComparisonOperator: awscloudwatch.ComparisonOperator(comparison(a)),
			EvaluationPeriods:  jsii.Number(float64(a.EvaluationPeriods)),
			TreatMissingData:   awscloudwatch.TreatMissingData(treatMissing(a)),
		}
		if a.DatapointsToAlarm > 0 {
			props.DatapointsToAlarm = jsii.Number(float64(a.DatapointsToAlarm))
		}
		out = append(out, awscloudwatch.NewAlarm(stack, jsii.String(a.ID), props))
	}
	return out
}

// comparison and treatMissing are the CDK enums' values of a's
// CloudFormation settings.
func comparison(a hosted.MetricAlarm) string {
	if a.Below {
		return string(awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD)
	}
	return string(awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD)
}

func treatMissing(a hosted.MetricAlarm) string {
	if a.MissingBreaches {
		return string(awscloudwatch.TreatMissingData_BREACHING)
	}
	return string(awscloudwatch.TreatMissingData_NOT_BREACHING)
}

// apiErrorAlarm alarms on the HTTP API's 5xx rate (hosted.APIErrorRate*).
func apiErrorAlarm(stack awscdk.Stack, apiID *string) awscloudwatch.Alarm {
	period := awscdk.Duration_Seconds(jsii.Number(hosted.APIErrorRatePeriod.Seconds()))
	m := func(name string) awscloudwatch.Metric {
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String("AWS/ApiGateway"), MetricName: jsii.String(name),
			DimensionsMap: &map[string]*string{"ApiId": apiID},
			Statistic:     jsii.String("Sum"), Period: period,
		})
	}
	rate := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression:   jsii.String(fmt.Sprintf("IF(requests >= %d, 100 * errors / requests, 0)", hosted.APIErrorRateMinRequests)),
		UsingMetrics: &map[string]awscloudwatch.IMetric{"errors": m("5xx"), "requests": m("Count")},
		Label:        jsii.String("5xx rate (%)"),
		Period:       period,
	})
	return awscloudwatch.NewAlarm(stack, jsii.String("ApiErrorRateAlarm"), &awscloudwatch.AlarmProps{
		AlarmDescription:   jsii.String(hosted.APIErrorRateDescription()),
		Metric:             rate,
		Threshold:          jsii.Number(hosted.APIErrorRatePercent),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(hosted.APIErrorRatePeriods),
		DatapointsToAlarm:  jsii.Number(hosted.APIErrorRatePeriods),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
}
