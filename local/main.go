// Command local runs the whole product in one process: every API route,
// the web app (WEB_DIR) and the sync job's scheduler (SYNC_SCHEDULE, UTC).
// It migrates the database and creates the buckets at start-up, and shuts
// down gracefully on SIGINT/SIGTERM. With -sync-once it runs the sync job
// once, prints the report and exits.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/app"
	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/httpapi"
	"github.com/hybrid-storage/hybrid-storage/shared/maintenance"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
}

func run() error {
	createDB := flag.Bool("create-db", false, "create the database named in DATABASE_URL if it is missing")
	migrateOnly := flag.Bool("migrate-only", false, "apply migrations, create the buckets, and exit")
	syncOnce := flag.Bool("sync-once", false, "run the sync job once, print its report, and exit")
	setQuota := flag.Bool("set-quota", false, "-set-quota EMAIL MB: set one user's storage quota in MiB (MB \"default\": back to USER_QUOTA_MB), and exit")
	flag.Parse()
	var quota quotaArgs
	if *setQuota {
		var err error
		if quota, err = parseQuotaArgs(flag.Args()); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return err
	}
	if *createDB {
		created, err := postgres.CreateDatabase(ctx, cfg.DatabaseURL)
		if err != nil {
			return err
		}
		if created {
			fmt.Fprintln(os.Stderr, "local: created the database")
		}
	}
	if *setQuota { // the database only: no tier is needed
		return runSetQuota(ctx, cfg.DatabaseURL, quota)
	}
	logger := app.NewLogger()
	slog.SetDefault(logger)
	if w := cfg.DevWarning(); w != "" {
		logger.Warn("INSECURE: " + w)
	}
	a, err := app.New(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Prepare(ctx); err != nil {
		return err
	}
	if *migrateOnly {
		return nil
	}
	if *syncOnce {
		rep, err := a.Sync.RunExclusive(ctx, "manual")
		if rep.RunID != 0 {
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "  ")
			_ = enc.Encode(rep)
		}
		return err
	}
	ln, err := listen(cfg)
	if err != nil {
		return err
	}
	schedCtx, stopSched := context.WithCancel(ctx)
	defer stopSched()
	waitSched, err := startScheduler(schedCtx, cfg.SyncSchedule, scheduledSync(a.Sync, logger), logger)
	if err != nil {
		ln.Close()
		return err
	}
	m := setUpMetrics(a)                             // before the API's handler is built and the maintenance starts
	go a.Maintenance.Loop(ctx, maintenance.Interval) // expired uploads, the trash, account deletions, orphans
	if m != nil && cfg.MetricsAddr != "" {
		waitMetrics, err := serveMetricsAddr(ctx, cfg.MetricsAddr, m, logger)
		if err != nil {
			ln.Close()
			stopSched()
			waitSched()
			return err
		}
		defer waitMetrics()
	}
	h := withMetrics(newHandler(a.API.Handler(), cfg.WebDir, webHeaders(cfg), logger), m, cfg.MetricsToken)
	err = serve(ctx, ln, withHSTS(h, cfg.BehindTLS), logger)
	stopSched()
	waitSched() // a run in progress rolls back its current file and records itself
	return err
}

// listen opens the server's socket on BIND_ADDR (127.0.0.1 unless set) and PORT.
func listen(cfg config.Config) (net.Listener, error) {
	addr := net.JoinHostPort(cfg.BindAddr, strconv.Itoa(cfg.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (BIND_ADDR, PORT): %w", addr, err)
	}
	return ln, nil
}

// serve runs srv on ln until ctx ends, then lets in-flight requests finish
// (up to 30 s) before returning.
func serve(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger) error {
	srv := httpapi.NewServer(h, logger)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}
