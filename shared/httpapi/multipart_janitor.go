package httpapi

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"
)

const (
	// JanitorInterval is how often the local server runs the upload janitor.
	JanitorInterval = 5 * time.Minute
	janitorBatch    = 100
)

// AbortExpiredUploads aborts every upload session whose time has run out:
// the hot tier drops its parts (and any object completed but never
// recorded), then the session row goes. It returns how many it ended and
// the first error; failing sessions are retried on the next call. The local
// server runs it every JanitorInterval (RunUploadJanitor); on AWS the sync
// function calls it.
func (a *API) AbortExpiredUploads(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := a.Uploads.EndExpiredUploads(ctx, a.now(), janitorBatch, a.discard(ctx))
		total += n
		if err != nil || n < janitorBatch {
			return total, err
		}
	}
}

// RunUploadJanitor calls AbortExpiredUploads and SweepTrash (expired
// trash, interrupted purges and account deletions) every interval until
// ctx ends.
func (a *API) RunUploadJanitor(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := a.abortExpiredSafe(ctx)
		if err != nil && ctx.Err() == nil {
			a.Logger.ErrorContext(ctx, "upload janitor", "aborted", n, "err", err.Error())
		} else if n > 0 {
			a.Logger.InfoContext(ctx, "upload janitor", "aborted", n)
		}
		a.SweepTrash(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// abortExpiredSafe is AbortExpiredUploads with a panic recovered as an
// error: the janitor runs in the local server's process.
func (a *API) abortExpiredSafe(ctx context.Context) (n int, err error) {
	defer func() {
		if p := recover(); p != nil {
			n, err = 0, fmt.Errorf("upload janitor panic: %v\n%s", p, debug.Stack())
		}
	}()
	return a.AbortExpiredUploads(ctx)
}
