// Command migrate is the Lambda function that applies the database
// migrations on AWS. It serves no HTTP route: the CDK app invokes it on
// every deploy (a CDK Trigger, infra/stacks), and with SAM it is invoked
// once after each deploy (`sam remote invoke MigrateFunction`).
package main

import "github.com/hybrid-storage/hybrid-storage/shared/lambdafn"

func main() { lambdafn.MigrateMain() }
