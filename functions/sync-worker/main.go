// Command sync-worker is the Lambda function of the SQS queue's event
// source mapping: each message is a ticket of a sync run, worked until the
// time budget is nearly spent. See lambdafn.WorkerHandler.
package main

import "github.com/hybrid-storage/hybrid-storage/shared/lambdafn"

func main() { lambdafn.WorkerMain() }
