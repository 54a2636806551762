package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/hybrid-storage/hybrid-storage/shared/syncjob"
)

// startScheduler runs run at spec (a five-field cron expression, UTC)
// until ctx ends, never two runs at once in this process (the job's
// advisory lock keeps other processes out), a panic in a run recovered and
// logged. The returned wait blocks until a run in progress has finished;
// the run's context ends with ctx.
func startScheduler(ctx context.Context, spec string, run func(context.Context), logger *slog.Logger) (wait func(), err error) {
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("config: SYNC_SCHEDULE: %q is not a cron expression: %w", spec, err)
	}
	// A panicking run is logged with its stack (cron.Recover) and the next
	// one goes ahead as scheduled: it must not take the server down.
	// Recover goes inside SkipIfStillRunning, whose token (v3.0.1) is not
	// given back by a panic: outside it, every later run would be skipped.
	c := cron.New(cron.WithLocation(time.UTC), cron.WithChain(cron.SkipIfStillRunning(cronLogger{logger}), cron.Recover(cronLogger{logger})))
	c.Schedule(sched, cron.FuncJob(func() { run(ctx) }))
	c.Start()
	logger.Info("sync scheduler started", "schedule", spec, "next_run", sched.Next(time.Now().UTC()))
	stopped := make(chan struct{})
	go func() {
		<-ctx.Done()
		<-c.Stop().Done()
		close(stopped)
	}()
	return func() { <-stopped }, nil
}

// scheduledSync runs the job once for the scheduler and logs the outcome;
// the job logs its own details.
func scheduledSync(job interface {
	RunExclusive(ctx context.Context, trigger string) (syncjob.Report, error)
}, logger *slog.Logger) func(context.Context) {
	return func(ctx context.Context) {
		_, err := job.RunExclusive(ctx, "schedule")
		switch {
		case errors.Is(err, syncjob.ErrRunning):
			logger.Info("scheduled sync skipped: another run is in progress")
		case err != nil:
			logger.Error("scheduled sync failed", "error", err.Error())
		}
	}
}

// cronLogger adapts slog to cron's logger.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "error", err.Error())...)
}
