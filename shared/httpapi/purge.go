package httpapi

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
)

const (
	// purgeBudget bounds the object removal a request does itself (API
	// Gateway waits 30 s); the sweep finishes the rest.
	purgeBudget = 20 * time.Second
	purgeBatch  = 100
)

// purge removes file f, already marked purging, for good: its object from
// every tier (the sync job may have copied it to the cold tier even if the
// row still says hot), then the row. Interrupted at any point it leaves a
// purging row (a tombstone no route shows or serves) and never an object
// without a row: the sweep finishes it.
func (a *API) purge(ctx context.Context, f core.File) error {
	for _, t := range []core.Tier{other(f.Location), f.Location} {
		if err := a.tiers[t].Delete(ctx, f.ObjectKey); err != nil {
			return fmt.Errorf("purge file %d: %w", f.ID, err)
		}
	}
	if err := a.Files.DeletePurged(ctx, f.ID); err != nil {
		return fmt.Errorf("purge file %d: %w", f.ID, err)
	}
	if f.Location == core.TierHot {
		// A sync job that had claimed the file before it went to the trash
		// may have put its cold copy after the removal above (its fenced
		// flip may even have applied to the purging row): remove it once
		// more now that the row is gone. A put finishing later meets no row
		// at its flip and removes its copy itself.
		if err := a.tiers[core.TierCold].Delete(ctx, f.ObjectKey); err != nil {
			a.Logger.ErrorContext(ctx, "purge file: cold copy left behind", "file_id", f.ID, "key", f.ObjectKey, "error", err.Error())
		}
	}
	return nil
}

// purgeAllPurging purges every file of userID marked purging. It goes on
// past a failing file and returns the first error.
func (a *API) purgeAllPurging(ctx context.Context, userID int64) error {
	var first error
	var after int64
	for {
		files, err := a.Files.PurgingFiles(ctx, userID, after, purgeBatch)
		if err != nil {
			return errors.Join(first, err)
		}
		for _, f := range files {
			if err := a.purge(ctx, f); err != nil && first == nil {
				first = err
			}
			after = f.ID
		}
		if len(files) < purgeBatch || ctx.Err() != nil {
			return errors.Join(first, ctx.Err())
		}
	}
}

// PurgeExpiredTrash purges every file whose time in the trash is over and
// finishes every purge that was interrupted (rows marked purging). It
// returns how many files it purged and the first error; failing files are
// retried on the next call. The local server runs it with the janitor
// (every JanitorInterval); on AWS the sync function runs it before each
// scheduled (nightly) run.
func (a *API) PurgeExpiredTrash(ctx context.Context) (int, error) {
	n := 0
	var first error
	var after int64
	for {
		files, err := a.Files.BeginPurgeExpired(ctx, after, purgeBatch)
		if err != nil {
			return n, errors.Join(first, err)
		}
		for _, f := range files {
			if err := a.purge(ctx, f); err != nil {
				if first == nil {
					first = err
				}
			} else {
				n++
			}
			after = f.ID
		}
		if len(files) < purgeBatch || ctx.Err() != nil {
			return n, first
		}
	}
}

// SweepTrash runs PurgeExpiredTrash and FinishAccountDeletions (and drops
// expired quota reservations) and logs
// what they did; a panic is recovered and logged (it runs in the local
// server's process and before the nightly sync on AWS).
func (a *API) SweepTrash(ctx context.Context) {
	defer func() {
		if p := recover(); p != nil {
			a.Logger.ErrorContext(ctx, "trash sweep panic", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
	}()
	n, err := a.PurgeExpiredTrash(ctx)
	if err != nil && ctx.Err() == nil {
		a.Logger.ErrorContext(ctx, "trash sweep", "purged", n, "err", err.Error())
	} else if n > 0 {
		a.Logger.InfoContext(ctx, "trash sweep", "purged", n)
	}
	if _, err := a.Quotas.DeleteExpiredReservations(ctx); err != nil && ctx.Err() == nil {
		a.Logger.ErrorContext(ctx, "quota reservations sweep", "err", err.Error())
	}
	n, err = a.FinishAccountDeletions(ctx)
	if err != nil && ctx.Err() == nil {
		a.Logger.ErrorContext(ctx, "account deletion sweep", "deleted", n, "err", err.Error())
	} else if n > 0 {
		a.Logger.InfoContext(ctx, "account deletion sweep", "deleted", n)
	}
}
