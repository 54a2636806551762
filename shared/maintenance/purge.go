package maintenance

import (
	"context"
	"errors"
	"fmt"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
)

// Purge removes file f, already marked purging, for good: its object from
// every tier (the sync job may have copied it to the cold tier even if the
// row still says hot), then the row. Interrupted at any point it leaves a
// purging row (a tombstone no route shows or serves) and never an object
// without a row: PurgeExpiredTrash finishes it.
func (s *Service) Purge(ctx context.Context, f core.File) error {
	for _, t := range []core.Tier{other(f.Location), f.Location} {
		if err := s.tier(t).Delete(ctx, f.ObjectKey); err != nil {
			return fmt.Errorf("purge file %d: %w", f.ID, err)
		}
	}
	if err := s.Files.DeletePurged(ctx, f.ID); err != nil {
		return fmt.Errorf("purge file %d: %w", f.ID, err)
	}
	if f.Location == core.TierHot {
		// A sync job that had claimed the file before it went to the trash
		// may have put its cold copy after the removal above (its fenced
		// flip may even have applied to the purging row): remove it once
		// more now that the row is gone. A put finishing later meets no row
		// at its flip and removes its copy itself.
		if err := s.Cold.Delete(ctx, f.ObjectKey); err != nil {
			s.Logger.ErrorContext(ctx, "purge file: cold copy left behind", "file_id", f.ID, "key", f.ObjectKey, "error", err.Error())
		}
	}
	return nil
}

// PurgeAllPurging purges every file of userID marked purging, then the
// folder entries of its trash left with no file (DeletePurgedFolders). It
// goes on past a failing file and returns the first error.
func (s *Service) PurgeAllPurging(ctx context.Context, userID int64) error {
	var first error
	var after int64
	for {
		files, err := s.Files.PurgingFiles(ctx, userID, after, batch)
		if err != nil {
			return errors.Join(first, err)
		}
		for _, f := range files {
			if err := s.Purge(ctx, f); err != nil && first == nil {
				first = err
			}
			after = f.ID
		}
		if len(files) < batch || ctx.Err() != nil {
			break
		}
	}
	if ctx.Err() == nil {
		if _, err := s.Files.DeletePurgedFolders(ctx, userID); err != nil {
			first = errors.Join(first, err)
		}
	}
	return errors.Join(first, ctx.Err())
}

// PurgeExpiredTrash purges every file whose time in the trash is over and
// finishes every purge that was interrupted (rows marked purging), then
// deletes the folder entries of every trash left with no file. It returns
// how many files it purged and the first error; failing files are retried
// on the next call.
func (s *Service) PurgeExpiredTrash(ctx context.Context) (int, error) {
	n := 0
	var first error
	var after int64
	for {
		files, err := s.Files.BeginPurgeExpired(ctx, after, batch)
		if err != nil {
			return n, errors.Join(first, err)
		}
		for _, f := range files {
			if err := s.Purge(ctx, f); err != nil {
				if first == nil {
					first = err
				}
			} else {
				n++
			}
			after = f.ID
		}
		if len(files) < batch || ctx.Err() != nil {
			break
		}
	}
	if ctx.Err() == nil {
		if _, err := s.Files.DeletePurgedFolders(ctx, 0); err != nil && first == nil {
			first = err
		}
	}
	return n, first
}

func (s *Service) tier(t core.Tier) Tier {
	if t == core.TierCold {
		return s.Cold
	}
	return s.Hot
}

func other(t core.Tier) core.Tier {
	if t == core.TierHot {
		return core.TierCold
	}
	return core.TierHot
}
