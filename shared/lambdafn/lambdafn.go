// Package lambdafn runs one API endpoint as an AWS Lambda function behind
// API Gateway (HTTP API, payload 2.0). Each functions/<name>/main.go is one
// call to Main.
package lambdafn

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/hybrid-storage/hybrid-storage/shared/app"
	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/httpapi"
	"github.com/hybrid-storage/hybrid-storage/shared/secrets"
)

// Main is the whole main of an endpoint function: it resolves secrets
// given as *_SECRET_ARN variables, loads the configuration, builds the
// dependencies once, and serves. It exits with one line on stderr if the
// configuration or the dependencies are wrong.
func Main(function string) {
	a := build(context.Background())
	adapter := httpadapter.NewV2(a.API.Handler(function))
	lambda.Start(func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return adapter.ProxyWithContext(httpapi.WithGatewaySourceIP(ctx, ev.RequestContext.HTTP.SourceIP), ev)
	})
}

// loadConfig resolves secrets given as *_SECRET_ARN variables and loads the
// configuration, exiting with one line on stderr when it is wrong.
func loadConfig(ctx context.Context) config.Config {
	getenv, err := secrets.Overlay(ctx, os.Getenv, nil)
	if err != nil {
		fail(err)
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		fail(err)
	}
	return cfg
}

// build loads the configuration and builds the dependencies once, at cold
// start.
func build(ctx context.Context) *app.App {
	a, err := app.New(ctx, loadConfig(ctx), app.NewLogger())
	if err != nil {
		fail(err)
	}
	return a
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
