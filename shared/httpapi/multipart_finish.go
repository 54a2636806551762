package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
	"github.com/hybrid-storage/hybrid-storage/shared/storage"
)

const (
	// finishTimeout bounds the finishing of a completion (hash, sniff,
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
func (a *API) finishUpload(ctx context.Context, w http.ResponseWriter, uid int64, id string, wait time.Duration) (f core.File, created bool, err error) {
	giveUp := time.Now().Add(wait)
	for {
		s, claimed, err := a.Uploads.ClaimFinish(ctx, uid, id, a.now(), finishDeadline(ctx).Add(finishLeaseMargin))
		if err != nil {
			return a.completedFile(ctx, uid, id, err)
		}
		if claimed {
			return a.finishClaimed(ctx, w, s)
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
func (a *API) finishClaimed(ctx context.Context, w http.ResponseWriter, s core.UploadSession) (core.File, bool, error) {
	fctx, cancel := finishContext(ctx)
	defer cancel()
	if a.finishHook != nil {
		a.finishHook(ctx)
	}
	f, err := a.recordUpload(fctx, w, s)
	var clientErr *core.Error
	switch {
	case errors.Is(err, postgres.ErrUploadNotFound):
		// Ended by someone else meanwhile, who cleans up: a concurrent
		// completion (then this answers its file) or an abort.
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

// recordUpload checks and records the assembled object of s: its size,
// its SHA-256, CRC64NVME and sniffed type (one read), then the file row and the end of
// the session in one transaction.
func (a *API) recordUpload(ctx context.Context, w http.ResponseWriter, s core.UploadSession) (core.File, error) {
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
	body, err := a.Hot.Open(ctx, s.ObjectKey, 0)
	if err != nil {
		return core.File{}, err
	}
	defer body.Close()
	// Reading a large object can outlast the write deadline of an ordinary
	// request: move it forward while bytes flow.
	head, sum, crc, n, err := hashObject(&deadlineReader{r: body, deadline: a.writeDeadline(w)})
	if err != nil {
		return core.File{}, fmt.Errorf("hash upload %s: %w", s.ID, err)
	}
	if n != s.Size {
		return core.File{}, fmt.Errorf("hash upload %s: read %d bytes of %d", s.ID, n, s.Size)
	}
	ctype, err := a.contentType(s.ContentType, head)
	if err != nil {
		return core.File{}, err
	}
	f := core.File{
		UserID: s.UserID, Filename: s.Filename, OriginalFilename: s.OriginalFilename, Size: n, ContentType: ctype,
		Location: core.TierHot, ObjectKey: s.ObjectKey, AccessURL: a.Hot.URL(s.ObjectKey), ChecksumSHA256: sum,
		ChecksumCRC64NVME: crc, StorageClass: core.StorageStandard,
	}
	if err := a.Uploads.CompleteUpload(ctx, s.ID, &f); err != nil {
		return core.File{}, err
	}
	return f, nil
}

// hashObject reads r once: its first sniffLen bytes, its SHA-256 (hex), its
// full-object CRC64NVME (base64, as S3 reports it) and its length, in
// constant memory.
func hashObject(r io.Reader) (head []byte, sum, crc string, n int64, err error) {
	h, c := sha256.New(), storage.NewCRC64NVME()
	w := io.MultiWriter(h, c)
	head = make([]byte, sniffLen)
	k, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, "", "", 0, err
	}
	head = head[:k]
	w.Write(head) //nolint:errcheck // hashes never fail
	rest, err := io.CopyBuffer(w, r, make([]byte, 1<<20))
	if err != nil {
		return nil, "", "", 0, err
	}
	return head, hex.EncodeToString(h.Sum(nil)), storage.CRC64NVMEBase64(c), int64(k) + rest, nil
}
