// Command revoke-share is the Lambda function serving the revoke-share route of the API table
// (shared/httpapi/routes.go) behind API Gateway.
package main

import "github.com/hybrid-storage/hybrid-storage/shared/lambdafn"

func main() { lambdafn.Main("revoke-share") }
