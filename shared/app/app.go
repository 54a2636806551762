// Package app builds the process-wide dependencies once: the PostgreSQL
// pool, the two storage tiers, the auth service and the API. The local
// server and every Lambda function start from here.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/hybrid-storage/hybrid-storage/shared/auth"
	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/hosted"
	"github.com/hybrid-storage/hybrid-storage/shared/httpapi"
	"github.com/hybrid-storage/hybrid-storage/shared/mail"
	"github.com/hybrid-storage/hybrid-storage/shared/maintenance"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
	"github.com/hybrid-storage/hybrid-storage/shared/storage"
	"github.com/hybrid-storage/hybrid-storage/shared/syncjob"
)

// App holds the built dependencies.
type App struct {
	Config config.Config
	Logger *slog.Logger
	DB     *postgres.DB
	Hot    *storage.Hot
	Cold   *storage.Cold
	Auth   *auth.Auth
	Sync   *syncjob.Job
	API    *httpapi.API
	// Maintenance is the work no request does (expired uploads, the trash,
	// account deletions): the local scheduler and the nightly functions run it.
	Maintenance *maintenance.Service

	syncLog io.Closer // SYNC_LOG_FILE, when set
}

// New connects to PostgreSQL and builds the tier clients and the API. It
// does not migrate or create buckets; callers that own the stack do that.
func New(ctx context.Context, cfg config.Config, logger *slog.Logger) (*App, error) {
	// Connecting to PostgreSQL is the larger part of a cold start: it runs
	// while the tier clients are built.
	type opened struct {
		db  *postgres.DB
		err error
	}
	dbc := make(chan opened, 1)
	go func() {
		db, err := postgres.OpenSized(ctx, cfg.DatabaseURL, poolSize(cfg))
		dbc <- opened{db, err}
	}()
	hot, cold, a, err := clients(ctx, cfg)
	o := <-dbc
	if o.err != nil {
		return nil, o.err
	}
	if err != nil {
		o.db.Close()
		return nil, err
	}
	db := o.db
	syncLogger, syncLog, err := newSyncLogger(logger, cfg.SyncLogFile)
	if err != nil {
		db.Close()
		return nil, err
	}
	job := syncjob.New(db, hot, cold, syncLogger, SyncOptions(cfg))
	maint := maintenance.New(maintenance.Deps{
		Files: db, Users: db, Uploads: db, Quotas: db, Objects: db, Hot: hot, Cold: cold, Logger: logger.With("component", "maintenance"),
	})
	deps := httpapi.Deps{
		Users: db, Files: db, DB: db, Hot: hot, Cold: cold, Uploads: db, HotParts: hot, Limits: db, Quotas: db, Shares: db,
		Sessions: db, Passwords: db, TOTP: db, Maintenance: maint, Sync: job, SyncStatus: db, Auth: a, Config: cfg, Logger: logger,
	}
	if cfg.SMTPURL != "" {
		m, err := mail.New(cfg.SMTPURL, cfg.MailFrom)
		if err != nil {
			db.Close()
			return nil, err
		}
		deps.Mail = m
	}
	api := httpapi.New(deps)
	return &App{Config: cfg, Logger: logger, DB: db, Hot: hot, Cold: cold, Auth: a, Sync: job, API: api, Maintenance: maint, syncLog: syncLog}, nil
}

// SyncOptions are the sync job's settings in cfg.
func SyncOptions(cfg config.Config) syncjob.Options {
	return syncjob.Options{BatchSize: cfg.SyncBatchSize, MaxRetries: cfg.SyncMaxRetries, Workers: cfg.SyncWorkers,
		DeleteHot: cfg.DeleteFromMinioAfterSync, Verify: cfg.SyncVerify, StorageClass: cfg.ColdStorageClass}
}

// poolSize is the most connections the process's pool may hold: room for
// requests (8), a sync run's advisory lock, and SYNC_WORKERS workers of four
// connections each (the local server runs them next to its requests; a
// Lambda instance serves one request or one worker and opens only what it
// uses).
func poolSize(cfg config.Config) int32 {
	return int32(8 + 1 + 4*cfg.SyncWorkers)
}

// clients builds the tier clients and the auth service (no network I/O).
func clients(ctx context.Context, cfg config.Config) (*storage.Hot, *storage.Cold, *auth.Auth, error) {
	hot, err := storage.NewHot(storage.HotOptions{
		Endpoint: cfg.Hot.Endpoint, PublicEndpoint: cfg.Hot.PublicEndpoint,
		AccessKey: cfg.Hot.AccessKey, SecretKey: cfg.Hot.SecretKey,
		Bucket: cfg.Hot.Bucket, Region: cfg.Hot.Region, Secure: cfg.Hot.Secure,
	})
	if err != nil {
		return nil, nil, nil, err
	}
	cold, err := storage.NewCold(ctx, storage.ColdOptions{
		Endpoint: cfg.Cold.Endpoint, PublicEndpoint: cfg.Cold.PublicEndpoint,
		AccessKeyID: cfg.Cold.AccessKeyID, SecretKey: cfg.Cold.SecretKey, SessionToken: cfg.Cold.SessionToken,
		Region: cfg.Cold.Region, Bucket: cfg.Cold.Bucket,
	})
	if err != nil {
		return nil, nil, nil, err
	}
	a, err := auth.New(cfg.SecretKey, cfg.TokenTTL, cfg.BcryptCost, cfg.BcryptQueueMax)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("auth: %w", err)
	}
	return hot, cold, a, nil
}

// newSyncLogger returns the sync job's logger: the process logger (stdout)
// and, when path is set, JSON lines appended to that file.
func newSyncLogger(base *slog.Logger, path string) (*slog.Logger, io.Closer, error) {
	base = base.With("component", "sync")
	if path == "" {
		return base, nil, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("open SYNC_LOG_FILE: %w", err)
	}
	file := slog.NewJSONHandler(f, &slog.HandlerOptions{Level: slog.LevelInfo}).WithAttrs([]slog.Attr{slog.String("component", "sync")})
	return slog.New(slog.NewMultiHandler(base.Handler(), file)), f, nil
}

// Close releases the pool and the sync log file.
func (a *App) Close() {
	a.DB.Close()
	if a.syncLog != nil {
		a.syncLog.Close()
	}
}

// Prepare readies a stack this process owns: migrates the database and
// creates both buckets if missing, with the bucket CORS of shared/hosted
// (the deploy's) for the configured origins.
func (a *App) Prepare(ctx context.Context) error {
	n, err := a.DB.Migrate(ctx)
	if err != nil {
		return err
	}
	a.Logger.InfoContext(ctx, "database migrated", "applied", n)
	if err := a.Hot.EnsureBucket(ctx, hosted.HotBucketCORS(a.Config.CORSOrigins)); errors.Is(err, storage.ErrCORSNotSupported) {
		a.Logger.WarnContext(ctx, "hot tier: bucket CORS not set", "err", err.Error())
	} else if err != nil {
		return err
	}
	return a.Cold.EnsureBucket(ctx, hosted.ColdBucketCORS(a.Config.CORSOrigins))
}

// NewLogger returns the JSON slog logger every process logs with.
func NewLogger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: slog.LevelInfo}))
}
