package maintenance

import (
	"context"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
)

// discardTimeout bounds the tier calls that drop one session's copies.
const discardTimeout = 30 * time.Second

// EndUpload ends upload session id of userID: the session is marked
// ending, its copies in the hot tier are dropped (Discard), then its row
// goes. It returns postgres.ErrUploadNotFound when there is no such
// session of the user; a failed discard leaves the session marked for a
// retry or EndExpiredUploads.
func (s *Service) EndUpload(ctx context.Context, userID int64, id string) error {
	return s.Uploads.EndUpload(ctx, userID, id, s.discarder(ctx))
}

// EndHeldUpload ends upload session id of userID for the completion that
// holds it (postgres LeaseUpload) and found it marked ending: as EndUpload,
// and the completion's hold goes with the row.
func (s *Service) EndHeldUpload(ctx context.Context, userID int64, id string) error {
	return s.Uploads.EndHeldUpload(ctx, userID, id, s.discarder(ctx))
}

// EndExpiredUploads ends every upload session whose time has run out (and
// every session marked ending long ago). It returns how many it ended and
// the first error; failing sessions are retried on the next call.
func (s *Service) EndExpiredUploads(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := s.Uploads.EndExpiredUploads(ctx, s.Now(), batch, s.discarder(ctx))
		total += n
		if err != nil || n < batch {
			return total, err
		}
	}
}

// Discard drops what the hot tier holds of session u: its multipart
// upload's parts, and the object a completion may have assembled. It runs
// even when ctx has ended (within its own timeout): a request that gave up
// still removes what it stored.
func (s *Service) Discard(ctx context.Context, u core.UploadSession) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), discardTimeout)
	defer cancel()
	if err := s.Hot.AbortMultipartUpload(ctx, u.ObjectKey, u.StorageUploadID); err != nil {
		s.Logger.ErrorContext(ctx, "could not abort multipart upload", "upload_id", u.ID, "key", u.ObjectKey, "err", err.Error())
		return err
	}
	if err := s.Hot.Delete(ctx, u.ObjectKey); err != nil {
		s.Logger.ErrorContext(ctx, "could not remove object of ended upload", "upload_id", u.ID, "key", u.ObjectKey, "err", err.Error())
		return err
	}
	return nil
}

func (s *Service) discarder(ctx context.Context) func(core.UploadSession) error {
	return func(u core.UploadSession) error { return s.Discard(ctx, u) }
}
