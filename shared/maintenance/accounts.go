package maintenance

import (
	"context"
	"errors"
	"fmt"

	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
)

// FinishAccountDeletion deletes account uid, marked deleting: every file
// marked purging and purged (objects of every tier, then rows), every
// upload session ended (its parts aborted, any assembled object removed,
// then the row), then the user row. Each step is idempotent, so a rerun
// after a crash anywhere finishes the job.
func (s *Service) FinishAccountDeletion(ctx context.Context, uid int64) error {
	if _, err := s.Files.BeginPurgeAll(ctx, uid); err != nil {
		return err
	}
	if err := s.PurgeAllPurging(ctx, uid); err != nil {
		return err
	}
	ids, err := s.Users.UploadsOfUser(ctx, uid)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.EndUpload(ctx, uid, id); err != nil && !errors.Is(err, postgres.ErrUploadNotFound) {
			return fmt.Errorf("delete account %d: %w", uid, err)
		}
	}
	if err := s.Users.DeleteUser(ctx, uid); err != nil {
		return fmt.Errorf("delete account %d: %w", uid, err)
	}
	s.Logger.InfoContext(ctx, "account deleted", "user_id", uid)
	return nil
}

// FinishAccountDeletions finishes every account deletion that was
// interrupted (accounts marked deleting). It returns how many accounts it
// deleted and the first error; the others are retried on the next call.
func (s *Service) FinishAccountDeletions(ctx context.Context) (int, error) {
	n := 0
	var first error
	var after int64
	for {
		ids, err := s.Users.UsersDeleting(ctx, after, batch)
		if err != nil {
			return n, errors.Join(first, err)
		}
		for _, id := range ids {
			if err := s.FinishAccountDeletion(ctx, id); err != nil {
				if first == nil {
					first = err
				}
			} else {
				n++
			}
			after = id
		}
		if len(ids) < batch || ctx.Err() != nil {
			return n, first
		}
	}
}
