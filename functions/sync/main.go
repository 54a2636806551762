// Command sync is the Lambda function of the sync job: the EventBridge rule
// cron(0 0 * * ? *) invokes it nightly, and API Gateway sends it
// POST /api/sync/run (operator token). See lambdafn.SyncHandler.
package main

import "github.com/hybrid-storage/hybrid-storage/shared/lambdafn"

func main() { lambdafn.SyncMain() }
