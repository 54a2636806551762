// Command purge-file is the Lambda function serving the purge-file route of the API table
// (shared/httpapi/routes.go) behind API Gateway.
package main

import "github.com/hybrid-storage/hybrid-storage/shared/lambdafn"

func main() { lambdafn.Main("purge-file") }
