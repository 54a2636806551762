// Command download-share is the Lambda function serving the download-share route of the API table
// (shared/httpapi/routes.go) behind API Gateway.
package main

import "github.com/hybrid-storage/hybrid-storage/shared/lambdafn"

func main() { lambdafn.Main("download-share") }
