// Command sync-dispatch is the Lambda function the EventBridge rule
// cron(0 0 * * ? *) invokes: it opens the night's sync run and sends one
// ticket per worker to the SQS queue. See lambdafn.DispatchHandler.
package main

import "github.com/hybrid-storage/hybrid-storage/shared/lambdafn"

func main() { lambdafn.DispatchMain() }
