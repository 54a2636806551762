package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
	"github.com/hybrid-storage/hybrid-storage/shared/storage"
)

const (
	// finishTimeout bounds the finishing of a completion (stat, sniff,
	// record) once the tier has assembled the object, detached from its
	// request; the request's own deadline (Lambda) bounds it too.
	finishTimeout = 10 * time.Minute
	// finishLeaseMargin keeps the lease of a finishing request a little past
	// its deadline, so that nobody takes over while it may still run.
	finishLeaseMargin = 5 * time.Second
	// completeWaitMax is how long a completion waits for another request
	// finishing the same upload before answering 409 UPLOAD_COMPLETING.
	completeWaitMax      = 20 * time.Second
	finishPoll           = 200 * time.Millisecond
	completingRetryAfter = 2 // seconds
)

// errCompleting: another request is finishing the upload.
var errCompleting = &core.Error{Code: core.CodeUploadCompleting, Message: "the upload is being completed; ask again in a few seconds",
	RetryAfter: completingRetryAfter}

// finishContext is the context of the work after the tier is asked to
// assemble an object: it outlives the request's cancellation (a client
// that hangs up, API Gateway giving up) and ends at finishTimeout or the
// request's deadline, whichever is first.
func finishContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithDeadline(context.WithoutCancel(ctx), finishDeadline(ctx))
}

func finishDeadline(ctx context.Context) time.Time {
	dl := time.Now().Add(finishTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(dl) {
		dl = d
	}
	return dl
}

// completeWait is how long a completion may wait for another request
// finishing the same upload: completeWaitMax, within the request's deadline.
func completeWait(ctx context.Context) time.Duration {
	w := completeWaitMax
	if d, ok := ctx.Deadline(); ok {
		w = min(w, time.Until(d)-2*time.Second)
	}
	return max(w, 0)
}

// finishUpload is the one path by which an upload whose object the hot
// tier has assembled becomes a file; completion, its retries and GET of the
// upload all go through it, and it is idempotent. It claims the finishing
// (postgres ClaimFinish) and finishes; when another request holds the
// claim it waits up to wait for that request's file, taking over if the
// claim lapses (its request died), and then returns errCompleting. An
// upload ended meanwhile answers the file it was completed into, or
// ErrUploadNotFound. created reports that this call recorded the file.
func (a *API) finishUpload(ctx context.Context, uid int64, id string, wait time.Duration) (f core.File, created bool, err error) {
	giveUp := time.Now().Add(wait)
	for {
		s, claimed, err := a.Uploads.ClaimFinish(ctx, uid, id, a.now(), finishDeadline(ctx).Add(finishLeaseMargin))
		if err != nil {
			return a.completedFile(ctx, uid, id, err)
		}
		if claimed {
			return a.finishClaimed(ctx, s)
		}
		if !time.Now().Before(giveUp) {
			return core.File{}, false, errCompleting
		}
		select {
		case <-ctx.Done():
			return core.File{}, false, errCompleting
		case <-time.After(finishPoll):
		}
	}
}

// finishClaimed checks and records the assembled object of s, whose
// finishing this request has claimed, with a context that outlives the
// request. A client error (a size or type the upload may not have) ends
// the upload and removes the object; any other failure keeps the session,
// completing, and gives up the claim so that a retry finishes it.
func (a *API) finishClaimed(ctx context.Context, s core.UploadSession) (core.File, bool, error) {
	fctx, cancel := finishContext(ctx)
	defer cancel()
	if a.finishHook != nil {
		a.finishHook(ctx)
	}
	f, err := a.recordUpload(fctx, s)
	var clientErr *core.Error
	switch {
	case errors.Is(err, postgres.ErrUploadNotFound):
		// Ended by someone else meanwhile, who cleans up: a concurrent
		// completion (then this answers its file), an abort or an account
		// deletion (this claim holds no session: the ender removes the
		// object and the row).
		return a.completedFile(fctx, s.UserID, s.ID, err)
	case errors.As(err, &clientErr):
		a.endUpload(fctx, s)
		return core.File{}, false, err
	case err != nil:
		if rerr := a.Uploads.ReleaseFinish(fctx, s.ID); rerr != nil {
			a.Logger.ErrorContext(ctx, "could not release a failed completion; it is retried after its lease", "upload_id", s.ID, "err", rerr.Error())
		}
		return core.File{}, false, err
	}
	a.Logger.InfoContext(ctx, "upload completed", "upload_id", s.ID, "file_id", f.ID, "user_id", s.UserID, "bytes", f.Size,
		"request_id", requestID(ctx), "client_gone", ctx.Err() != nil)
	return f, true, nil
}

// completedFile is the file that upload id was completed into, when err
// (from looking up its session) says the session is gone; else err.
func (a *API) completedFile(ctx context.Context, uid int64, id string, err error) (core.File, bool, error) {
	if !errors.Is(err, postgres.ErrUploadNotFound) {
		return core.File{}, false, err
	}
	f, err := a.Uploads.CompletedUpload(ctx, uid, id)
	return f, false, err
}

// recordUpload checks and records the assembled object of s without
// reading it again: its size and ETag from a HEAD, its type sniffed from
// its first sniffLen bytes (one ranged GET pinned to that ETag), then the
// file row and the end of the session in one transaction. The row's
// SHA-256 and CRC64NVME stay unknown (NULL) until the sync job, which reads
// the bytes anyway, computes them from the object with that ETag.
func (a *API) recordUpload(ctx context.Context, s core.UploadSession) (core.File, error) {
	info, err := a.Hot.Stat(ctx, s.ObjectKey)
	if errors.Is(err, storage.ErrNotFound) { // aborted meanwhile
		return core.File{}, postgres.ErrUploadNotFound
	}
	if err != nil {
		return core.File{}, err
	}
	if info.Size != s.Size {
		return core.File{}, core.FieldError("size", "the uploaded object is %d bytes, not the declared %d: the upload was aborted", info.Size, s.Size)
	}
	etag := storage.TrimETag(info.ETag)
	if etag == "" {
		return core.File{}, fmt.Errorf("record upload %s: the hot tier gave the object no ETag", s.ID)
	}
	a.step(ctx, stepRead)
	head, err := a.readHead(ctx, s.ObjectKey, etag, min(s.Size, sniffLen))
	if errors.Is(err, storage.ErrNotFound) { // aborted meanwhile
		return core.File{}, postgres.ErrUploadNotFound
	}
	if err != nil {
		return core.File{}, fmt.Errorf("record upload %s: %w", s.ID, err)
	}
	ctype, err := a.contentType(s.ContentType, head)
	if err != nil {
		return core.File{}, err
	}
	f := core.File{
		UserID: s.UserID, Filename: s.Filename, OriginalFilename: s.OriginalFilename, Size: info.Size, ContentType: ctype,
		Location: core.TierHot, ObjectKey: s.ObjectKey, AccessURL: a.Hot.URL(s.ObjectKey), HotETag: etag,
		StorageClass: core.StorageStandard,
	}
	a.step(ctx, stepRecord)
	if err := a.Uploads.CompleteUpload(ctx, s.ID, &f); err != nil {
		return core.File{}, err
	}
	return f, nil
}

// readHead reads the first n bytes of the object key whose ETag is etag.
func (a *API) readHead(ctx context.Context, key, etag string, n int64) ([]byte, error) {
	body, err := a.Hot.OpenMatch(ctx, key, etag, 0, n)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	head := make([]byte, n)
	if _, err := io.ReadFull(body, head); err != nil {
		return nil, fmt.Errorf("read the first %d bytes of %s: %w", n, key, err)
	}
	return head, nil
}
