// Command infra is the CDK app of hybrid-storage: `cdk synth` / `cdk deploy`
// run it (cdk.json: "app": "go run ."). It is the only place that reads the
// environment and CDK context; everything else is a prop of the stacks.
//
// Context (cdk.json, or -c key=value):
//
//	minioEndpoint, minioPublicEndpoint, minioBucket, minioSecure, maxFileSizeMb, syncWorkers, ...
//	                          the deploy's settings: one key per hosted.Params entry (its Name in
//	                          lowerCamel), checked against config's ranges and values at synth
//	coldBucketName            physical name of the cold bucket (default: generated)
//	createDatabase            "true" to create RDS PostgreSQL in a new VPC (default false)
//	databaseUrlSecretArn      existing secret holding DATABASE_URL (default: a secret to fill in)
//	minioCredentialsSecretArn existing secret {"accessKey","secretKey"} (default: a secret to fill in)
//	smtpUrlSecretArn          existing secret holding SMTP_URL (default: a secret holding "none" to fill in)
//	extraCorsOrigins          comma-separated origins allowed besides the CloudFront site
//	apiUrl                    the API's URL: the origin of the distribution's /api/* (make deploy passes it; default: none yet)
//	repoRoot                  the repository (default ..): functions/, dist/, frontend/dist
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-storage/hybrid-storage/infra/stacks"
	"github.com/hybrid-storage/hybrid-storage/shared/hosted"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	if err := build(app, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		jsii.Close()
		os.Exit(1)
	}
	app.Synth(nil)
}

// build adds the stacks to app from its context and getenv
// (CDK_DEFAULT_ACCOUNT, CDK_DEFAULT_REGION). It returns an error naming the
// context key when a value is malformed (one config.Load would refuse), or
// when a function's bootstrap is missing.
func build(app awscdk.App, getenv func(string) string) error {
	ctx := func(key, def string) string {
		if v, ok := app.Node().TryGetContext(jsii.String(key)).(string); ok && v != "" {
			return v
		}
		return def
	}
	flag := func(key string, def bool) (bool, error) {
		v := ctx(key, strconv.FormatBool(def))
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("context %s: %q is not a boolean", key, v)
		}
		return b, nil
	}

	// Unset parts stay nil (not ""), so the stacks stay environment-agnostic
	// in them and synth works offline without credentials. An empty account
	// would make every cross-stack grant look cross-account.
	var env *awscdk.Environment
	account, region := getenv("CDK_DEFAULT_ACCOUNT"), getenv("CDK_DEFAULT_REGION")
	if account != "" || region != "" {
		env = &awscdk.Environment{}
		if account != "" {
			env.Account = jsii.String(account)
		}
		if region != "" {
			env.Region = jsii.String(region)
		}
	}
	root := ctx("repoRoot", "..")

	createDB, err := flag("createDatabase", false)
	if err != nil {
		return err
	}
	settings := stacks.Settings{}
	for _, p := range hosted.Params {
		if v, ok := app.Node().TryGetContext(jsii.String(p.ContextKey())).(string); ok {
			settings[p.Var] = v
		}
	}
	if err := settings.Check(); err != nil {
		return err
	}

	// The SPA's CSP names the origins it talks to besides its own: the
	// tiers. The API is its own origin: the distribution serves /api/*
	// from the HTTP API, whose URL is known after the first deploy (make
	// deploy passes it as apiUrl when it deploys the web stack again).
	if region == "" {
		region = *awscdk.Aws_REGION() // a token CloudFormation resolves
	}
	coldOrigin := "https://*.s3." + region + ".amazonaws.com" // presigned URLs name the bucket in the host
	if name := ctx("coldBucketName", ""); name != "" {
		coldOrigin = "https://" + name + ".s3." + region + ".amazonaws.com"
	}
	web := stacks.NewWeb(app, "HybridStorageWeb", &stacks.WebProps{
		StackProps:     awscdk.StackProps{Env: env, Description: jsii.String("hybrid-storage: SPA on S3 + CloudFront, /api/* from the HTTP API")},
		WebDir:         filepath.Join(root, "frontend", "dist"),
		ConnectSources: []string{hosted.Origin(settings.MinioPublic(), settings.MinioSecure()), coldOrigin},
		APIURL:         hosted.Origin(ctx("apiUrl", ""), true),
	})
	origins := []string{web.URL}
	for _, o := range strings.Split(ctx("extraCorsOrigins", ""), ",") {
		if o = strings.TrimSpace(o); o != "" {
			origins = append(origins, o)
		}
	}
	data := stacks.NewStateful(app, "HybridStorageStateful", &stacks.StatefulProps{
		StackProps:                awscdk.StackProps{Env: env, Description: jsii.String("hybrid-storage: cold-tier bucket, secrets, database (retained)")},
		ColdBucketName:            ctx("coldBucketName", ""),
		CORSOrigins:               origins,
		CreateDatabase:            createDB,
		DatabaseURLSecretARN:      ctx("databaseUrlSecretArn", ""),
		MinioCredentialsSecretARN: ctx("minioCredentialsSecretArn", ""),
		SMTPURLSecretARN:          ctx("smtpUrlSecretArn", ""),
	})
	api, err := stacks.NewAPI(app, "HybridStorageApi", &stacks.APIProps{
		StackProps:  awscdk.StackProps{Env: env, Description: jsii.String("hybrid-storage: HTTP API, Lambda functions, nightly sync")},
		DistDir:     filepath.Join(root, "dist"),
		Data:        data,
		Settings:    settings,
		CORSOrigins: origins,
	})
	if err != nil {
		return err
	}
	if settings.Get("MINIO_ENDPOINT") == "" {
		awscdk.Annotations_Of(api.Stack).AddWarningV2(jsii.String("hybrid-storage:no-minio"),
			jsii.String("context minioEndpoint is empty: the functions will refuse to start (cdk deploy -c minioEndpoint=host:port)"), nil)
	}
	return nil
}
