package lambdafn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/hybrid-storage/hybrid-storage/shared/syncjob"
)

// SyncMain is the whole main of the sync function: one Lambda serving both
// the EventBridge schedule (cron(0 0 * * ? *)) and POST /api/sync/run
// through API Gateway.
func SyncMain() {
	a := withMaintenanceMetrics(withRunMetrics(build(context.Background())))
	lambda.Start(SyncHandler(withMaintenance{a.Sync, a.Maintenance}, a.API.Handler("sync"), a.Logger))
}

// withMaintenance makes the scheduled inline run also run the maintenance
// (expired uploads, the trash, account deletions), which on AWS no
// long-running process does.
type withMaintenance struct {
	syncRunner
	maint maintainer
}

func (w withMaintenance) RunExclusive(ctx context.Context, trigger string) (syncjob.Report, error) {
	w.maint.Run(ctx)
	return w.syncRunner.RunExclusive(ctx, trigger)
}

// syncRunner is what the sync function needs of the job.
type syncRunner interface {
	RunExclusive(ctx context.Context, trigger string) (syncjob.Report, error)
}

// ScheduledResult is the answer to a scheduled invocation.
type ScheduledResult struct {
	Skipped bool            `json:"skipped"` // another run was going
	Report  *syncjob.Report `json:"report,omitempty"`
}

// SyncHandler tells the two kinds of event apart by their JSON: an
// EventBridge scheduled event (source "aws.events", detail-type "Scheduled
// Event") runs the job within the invocation's deadline; an API Gateway
// HTTP API (payload 2.0) event goes to the HTTP handler h, like every
// endpoint. Anything else is an error.
func SyncHandler(job syncRunner, h http.Handler, logger *slog.Logger) func(context.Context, json.RawMessage) (any, error) {
	adapter := httpadapter.NewV2(h)
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var probe struct {
			Source         string          `json:"source"`
			DetailType     string          `json:"detail-type"`
			Version        string          `json:"version"`
			RequestContext json.RawMessage `json:"requestContext"`
		}
		if err := json.Unmarshal(raw, &probe); err != nil {
			return nil, fmt.Errorf("sync function: event is not a JSON object: %w", err)
		}
		switch {
		case probe.Source == "aws.events" && probe.DetailType == "Scheduled Event":
			var ev events.EventBridgeEvent
			if err := json.Unmarshal(raw, &ev); err != nil {
				return nil, fmt.Errorf("sync function: scheduled event: %w", err)
			}
			logger.InfoContext(ctx, "scheduled sync", "event_id", ev.ID, "rule", ev.Resources, "time", ev.Time)
			rep, err := job.RunExclusive(ctx, "schedule")
			if errors.Is(err, syncjob.ErrRunning) {
				logger.InfoContext(ctx, "scheduled sync skipped: a run is in progress")
				return ScheduledResult{Skipped: true}, nil
			}
			if err != nil {
				return nil, err // Lambda retries the async invocation; the job is idempotent
			}
			return ScheduledResult{Report: &rep}, nil
		case probe.Version == "2.0" && len(probe.RequestContext) > 0:
			var req events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(raw, &req); err != nil {
				return nil, fmt.Errorf("sync function: API Gateway event: %w", err)
			}
			return adapter.ProxyWithContext(ctx, req)
		}
		return nil, fmt.Errorf("sync function: unknown event (source %q, detail-type %q, version %q)", probe.Source, probe.DetailType, probe.Version)
	}
}
