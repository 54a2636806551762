package lambdafn

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/hybrid-storage/hybrid-storage/shared/app"
	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
	"github.com/hybrid-storage/hybrid-storage/shared/secrets"
)

// MigrateResult is what the migrate function answers.
type MigrateResult struct {
	Applied int `json:"applied"` // migrations applied by this invocation
}

// MigrateMain is the whole main of the migrate function: it resolves
// secrets and loads the configuration as Main does, then on every
// invocation, whatever the event (a CDK Trigger's, a CloudFormation custom
// resource's, `{}` from sam remote invoke), applies the pending database
// migrations and answers {"applied": n}. It does not touch the buckets. A
// failed migration fails the invocation, which fails the deploy.
func MigrateMain() {
	ctx := context.Background()
	getenv, err := secrets.Overlay(ctx, os.Getenv, nil)
	if err != nil {
		fail(err)
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		fail(err)
	}
	logger := app.NewLogger()
	lambda.Start(func(ctx context.Context, _ json.RawMessage) (MigrateResult, error) {
		return Migrate(ctx, cfg.DatabaseURL, logger)
	})
}

// Migrate applies the pending migrations to the database at databaseURL.
func Migrate(ctx context.Context, databaseURL string, logger *slog.Logger) (MigrateResult, error) {
	db, err := postgres.Open(ctx, databaseURL)
	if err != nil {
		return MigrateResult{}, err
	}
	defer db.Close()
	n, err := db.Migrate(ctx)
	if err != nil {
		return MigrateResult{}, fmt.Errorf("migrate: %w", err)
	}
	logger.InfoContext(ctx, "database migrated", "applied", n)
	return MigrateResult{Applied: n}, nil
}
