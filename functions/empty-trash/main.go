// Command empty-trash is the Lambda function serving the empty-trash route of the API table
// (shared/httpapi/routes.go) behind API Gateway.
package main

import "github.com/hybrid-storage/hybrid-storage/shared/lambdafn"

func main() { lambdafn.Main("empty-trash") }
