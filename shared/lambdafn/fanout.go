package lambdafn

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/hybrid-storage/hybrid-storage/shared/app"
	"github.com/hybrid-storage/hybrid-storage/shared/maintenance"
	"github.com/hybrid-storage/hybrid-storage/shared/queue"
	"github.com/hybrid-storage/hybrid-storage/shared/syncjob"
)

// The AWS fan-out of the sync job (syncjob.Fanout): functions/sync-dispatch
// is the EventBridge rule's target, functions/sync-worker the SQS queue's
// (event source mapping, batch size 1, MaximumConcurrency SYNC_WORKERS).

// DispatchMain is the whole main of the sync-dispatch function.
func DispatchMain() {
	ctx := context.Background()
	a := withMaintenanceMetrics(withRunMetrics(build(ctx)))
	f := fanout(ctx, a)
	lambda.Start(DispatchHandler(f, a.Maintenance, a.Logger))
}

// WorkerMain is the whole main of the sync-worker function.
func WorkerMain() {
	ctx := context.Background()
	a := withRunMetrics(build(ctx))
	lambda.Start(WorkerHandler(fanout(ctx, a), a.Logger))
}

func fanout(ctx context.Context, a *app.App) *syncjob.Fanout {
	c := a.Config
	q, err := queue.New(ctx, queue.Options{URL: c.SyncQueueURL, Endpoint: c.SQSEndpoint, Region: c.Cold.Region,
		AccessKeyID: c.Cold.AccessKeyID, SecretKey: c.Cold.SecretKey, SessionToken: c.Cold.SessionToken})
	if err != nil {
		fail(err)
	}
	return syncjob.NewFanout(a.Sync, a.DB, q, c.SyncWorkers)
}

type dispatcher interface {
	Dispatch(ctx context.Context, trigger string) (syncjob.Dispatched, error)
}

// maintainer is the nightly maintenance (shared/maintenance).
type maintainer interface {
	Run(ctx context.Context) maintenance.Report
}

// DispatchHandler answers the EventBridge scheduled event: it runs the
// maintenance (expired uploads, the trash, account deletions: on AWS no
// long-running process does), then opens the night's run and sends its
// tickets. Any other event is refused.
func DispatchHandler(f dispatcher, maint maintainer, logger *slog.Logger) func(context.Context, events.EventBridgeEvent) (syncjob.Dispatched, error) {
	return func(ctx context.Context, ev events.EventBridgeEvent) (syncjob.Dispatched, error) {
		if ev.Source != "aws.events" || ev.DetailType != "Scheduled Event" {
			return syncjob.Dispatched{}, fmt.Errorf("sync-dispatch: not a scheduled event (source %q, detail-type %q)", ev.Source, ev.DetailType)
		}
		logger.InfoContext(ctx, "scheduled sync dispatch", "event_id", ev.ID, "rule", ev.Resources, "time", ev.Time)
		maint.Run(ctx)
		return f.Dispatch(ctx, "schedule")
	}
}

type ticketWorker interface {
	Work(ctx context.Context, t syncjob.Ticket) (syncjob.Worked, error)
}

// WorkerHandler answers an SQS event from the event source mapping: each
// record is one ticket. A record whose ticket fails is reported in
// batchItemFailures (ReportBatchItemFailures), so SQS delivers it again
// after the visibility timeout, and to the dead-letter queue after
// maxReceiveCount; a body that is no ticket goes the same way. Records are
// worked one after the other (the mapping's batch size is 1).
func WorkerHandler(f ticketWorker, logger *slog.Logger) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		var resp events.SQSEventResponse
		for _, rec := range ev.Records {
			t, err := syncjob.ParseTicket(rec.Body)
			if err == nil {
				var w syncjob.Worked
				w, err = f.Work(ctx, t)
				if err == nil {
					logger.InfoContext(ctx, "sync ticket", "message_id", rec.MessageId, "run_id", t.RunID, "ticket", t.Ticket,
						"skipped", w.Skipped, "synced", w.Report.Synced, "next", w.Next, "closed_run", w.ClosedAs != nil)
					continue
				}
			}
			logger.ErrorContext(ctx, "sync ticket failed", "message_id", rec.MessageId,
				"receive_count", rec.Attributes["ApproximateReceiveCount"], "error", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
		return resp, nil
	}
}
