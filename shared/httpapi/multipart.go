package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/hybrid-storage/hybrid-storage/shared/auth"
	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
	"github.com/hybrid-storage/hybrid-storage/shared/storage"
)

// uploadStore is what the presigned multipart endpoints need of the database.
type uploadStore interface {
	CreateUpload(ctx context.Context, s *core.UploadSession) error
	UploadForUser(ctx context.Context, userID int64, id string, now time.Time) (core.UploadSession, error)
	LeaseUpload(ctx context.Context, userID int64, id string, now, until time.Time) (core.UploadSession, error)
	CompleteUpload(ctx context.Context, id string, f *core.File) error
	CompletedUpload(ctx context.Context, userID int64, id string) (core.File, error)
	EndUpload(ctx context.Context, userID int64, id string, discard func(core.UploadSession) error) error
	EndExpiredUploads(ctx context.Context, now time.Time, limit int, discard func(core.UploadSession) error) (int, error)
}

// multipartTier is what they need of the hot tier besides tier.
type multipartTier interface {
	NewMultipartUpload(ctx context.Context, key string, o storage.PutOptions) (string, error)
	PresignPart(ctx context.Context, key, uploadID string, n int, ttl time.Duration) (string, error)
	ListParts(ctx context.Context, key, uploadID string) ([]storage.Part, error)
	CompleteMultipartUpload(ctx context.Context, key, uploadID string, parts []storage.Part) error
	AbortMultipartUpload(ctx context.Context, key, uploadID string) error
}

var (
	_ uploadStore   = (*postgres.DB)(nil)
	_ multipartTier = (*storage.Hot)(nil)
)

const (
	minPartSize = 8 << 20 // above S3's 5 MiB minimum; a multiple of 1 MiB
	maxParts    = 10000   // S3's limit
	// uploadSessionTTL is how long a started upload may take, resumes
	// included, before the janitor aborts it.
	uploadSessionTTL = 24 * time.Hour
	// completeLease keeps the janitor away from a session being completed.
	completeLease = time.Hour
	// largeUpload is the size above which part URLs live an hour instead of
	// 15 minutes: at 10 Mbit/s a gigabyte takes about 15 minutes to send.
	largeUpload = 1 << 30
	// maxCompleteBody bounds the completion request: 10 000 parts with
	// their etags.
	maxCompleteBody = 2 << 20
	// JanitorInterval is how often the local server runs the upload janitor.
	JanitorInterval = 5 * time.Minute
	janitorBatch    = 100
)

// PartSize is the part size of a multipart upload of size bytes: at least
// 8 MiB, a multiple of 1 MiB, and large enough for at most 10 000 parts.
func PartSize(size int64) int64 {
	ps := (size + maxParts - 1) / maxParts
	ps = (ps + 1<<20 - 1) &^ (1<<20 - 1)
	return max(ps, minPartSize)
}

// partURLTTL is the validity of part URLs for an upload of size bytes.
func partURLTTL(size int64) time.Duration {
	if size > largeUpload {
		return storage.MaxPartPresignTTL
	}
	return storage.MaxPresignTTL
}

type partURL struct {
	PartNumber int    `json:"part_number"`
	URL        string `json:"url"`
}

type partDone struct {
	PartNumber int    `json:"part_number"`
	ETag       string `json:"etag"`
	Size       int64  `json:"size"`
}

type uploadJSON struct {
	UploadID     string     `json:"upload_id"`
	Status       string     `json:"status"` // in_progress
	PartSize     int64      `json:"part_size"`
	Size         int64      `json:"size"`
	ExpiresAt    string     `json:"expires_at"`     // of the session
	URLExpiresIn int        `json:"url_expires_in"` // seconds, of the part URLs
	PartsDone    []partDone `json:"parts_done,omitempty"`
	Parts        []partURL  `json:"parts"`
}

// createUpload starts a presigned multipart upload: the limits are checked
// against the declared size and type, the hot tier starts the upload, the
// session is recorded and every part gets a presigned PUT URL.
func (a *API) createUpload(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	uid, _ := auth.UserID(ctx)
	var in struct {
		Filename    string `json:"filename"`
		Size        *int64 `json:"size"`
		ContentType string `json:"content_type"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	s, err := a.newSession(uid, in.Filename, in.Size, in.ContentType)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	s.StorageUploadID, err = a.HotParts.NewMultipartUpload(ctx, s.ObjectKey, storage.PutOptions{
		ContentType: s.ContentType,
		Metadata:    map[string]string{"owner-id": strconv.FormatInt(uid, 10), "original-filename": url.QueryEscape(s.OriginalFilename)},
	})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := a.Uploads.CreateUpload(ctx, &s); err != nil {
		a.discard(ctx)(s) //nolint:errcheck // logged inside
		a.writeError(w, r, err)
		return
	}
	all := make([]int, s.PartCount())
	for i := range all {
		all[i] = i + 1
	}
	out, err := a.sessionJSON(ctx, s, nil, all)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.Logger.InfoContext(ctx, "upload started", "upload_id", s.ID, "user_id", uid, "bytes", s.Size, "parts", len(all), "request_id", requestID(ctx))
	writeJSON(w, http.StatusCreated, out)
}

// newSession validates a creation request into a session (not yet stored).
func (a *API) newSession(uid int64, filename string, size *int64, ctype string) (core.UploadSession, error) {
	switch {
	case size == nil:
		return core.UploadSession{}, core.FieldError("size", "size is required")
	case *size <= 0:
		return core.UploadSession{}, core.FieldError("size", "size must be a positive number of bytes (send empty files to /api/files/upload)")
	case *size > a.Config.MaxFileSize:
		return core.UploadSession{}, a.tooLarge()
	}
	if err := core.ValidateOriginalFilename(filename); err != nil {
		return core.UploadSession{}, err
	}
	safe, filename, err := core.UploadFilenames(filename)
	if err != nil {
		return core.UploadSession{}, err
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	} else {
		mt, _, err := mime.ParseMediaType(ctype)
		if err != nil || len(ctype) > 127 || hasNUL(ctype) {
			return core.UploadSession{}, core.FieldError("content_type", "content_type is not a media type")
		}
		// The declared type is checked now; the sniffed one on completion.
		if !typeAllowed(mt, a.Config.AllowedContentTypes) {
			return core.UploadSession{}, core.Errorf(core.CodeUnsupportedMedia, "files of type %s are not accepted here", mt)
		}
		ctype = mt
	}
	now := a.now()
	return core.UploadSession{
		ID:               uuid.NewString(),
		UserID:           uid,
		ObjectKey:        core.ObjectKey(uid, safe),
		Filename:         safe,
		OriginalFilename: filename,
		Size:             *size,
		ContentType:      ctype,
		PartSize:         PartSize(*size),
		ExpiresAt:        now.Add(uploadSessionTTL).UTC(),
	}, nil
}

// sessionJSON describes s with fresh URLs for the parts numbered in want.
func (a *API) sessionJSON(ctx context.Context, s core.UploadSession, done []partDone, want []int) (uploadJSON, error) {
	ttl := partURLTTL(s.Size)
	out := uploadJSON{
		UploadID: s.ID, Status: "in_progress", PartSize: s.PartSize, Size: s.Size, ExpiresAt: rfc3339(s.ExpiresAt),
		URLExpiresIn: int(ttl / time.Second), PartsDone: done, Parts: make([]partURL, 0, len(want)),
	}
	for _, n := range want {
		u, err := a.HotParts.PresignPart(ctx, s.ObjectKey, s.StorageUploadID, n, ttl)
		if err != nil {
			return uploadJSON{}, err
		}
		out.Parts = append(out.Parts, partURL{PartNumber: n, URL: u})
	}
	return out, nil
}

// uploadID reads the {upload_id} path value: our session id, a UUID.
func uploadID(r *http.Request) (string, error) {
	id, err := uuid.Parse(r.PathValue("upload_id"))
	if err != nil {
		return "", postgres.ErrUploadNotFound
	}
	return id.String(), nil
}

// getUpload describes an upload for resuming: the parts the hot tier holds
// and fresh URLs for the missing ones.
func (a *API) getUpload(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	uid, _ := auth.UserID(ctx)
	id, err := uploadID(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	s, err := a.Uploads.UploadForUser(ctx, uid, id, a.now())
	if err != nil {
		f, err := a.completedFile(ctx, uid, id, err)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, completedUploadJSON{UploadID: id, Status: "completed", File: toJSON(f)})
		return
	}
	parts, err := a.HotParts.ListParts(ctx, s.ObjectKey, s.StorageUploadID)
	if err != nil {
		a.writeError(w, r, uploadGone(err))
		return
	}
	have := map[int]bool{}
	done := []partDone{}
	for _, p := range parts {
		if p.Number >= 1 && p.Number <= s.PartCount() {
			have[p.Number] = true
			done = append(done, partDone{PartNumber: p.Number, ETag: p.ETag, Size: p.Size})
		}
	}
	var missing []int
	for n := 1; n <= s.PartCount(); n++ {
		if !have[n] {
			missing = append(missing, n)
		}
	}
	out, err := a.sessionJSON(ctx, s, done, missing)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// abortUpload ends an upload: its parts (or its object, if it was completed
// but not recorded) are removed, then the session.
func (a *API) abortUpload(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	uid, _ := auth.UserID(ctx)
	id, err := uploadID(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := a.Uploads.EndUpload(ctx, uid, id, a.discard(ctx)); err != nil {
		a.writeError(w, r, err)
		return
	}
	a.Logger.InfoContext(ctx, "upload aborted", "upload_id", id, "user_id", uid, "request_id", requestID(ctx))
	w.WriteHeader(http.StatusNoContent)
}

// discard removes whatever storage a session holds: the multipart upload's
// parts and, should it have been completed, the object. It runs even when
// the request's context is gone.
func (a *API) discard(ctx context.Context) func(core.UploadSession) error {
	return func(s core.UploadSession) error {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := a.HotParts.AbortMultipartUpload(ctx, s.ObjectKey, s.StorageUploadID); err != nil {
			a.Logger.ErrorContext(ctx, "could not abort multipart upload", "upload_id", s.ID, "key", s.ObjectKey, "err", err.Error())
			return err
		}
		if err := a.Hot.Delete(ctx, s.ObjectKey); err != nil {
			a.Logger.ErrorContext(ctx, "could not remove object of ended upload", "upload_id", s.ID, "key", s.ObjectKey, "err", err.Error())
			return err
		}
		return nil
	}
}

// endUpload ends session s after a failed completion; a failure here is
// logged and left to the janitor.
func (a *API) endUpload(ctx context.Context, s core.UploadSession) {
	if err := a.Uploads.EndUpload(context.WithoutCancel(ctx), s.UserID, s.ID, a.discard(ctx)); err != nil && !errors.Is(err, postgres.ErrUploadNotFound) {
		a.Logger.ErrorContext(ctx, "could not end failed upload; the janitor will", "upload_id", s.ID, "err", err.Error())
	}
}

func uploadGone(err error) error {
	if errors.Is(err, storage.ErrNoSuchUpload) {
		return postgres.ErrUploadNotFound
	}
	return err
}

type completeRequest struct {
	Parts []struct {
		PartNumber int    `json:"part_number"`
		ETag       string `json:"etag"`
	} `json:"parts"`
}

// checkParts checks a completion request against the session: parts 1..n,
// each once, in order, each with an etag.
func checkParts(in completeRequest, s core.UploadSession) error {
	n := s.PartCount()
	switch {
	case len(in.Parts) == 0:
		return core.FieldError("parts", "parts is required")
	case len(in.Parts) > n:
		return core.FieldError("parts", "this upload has %d parts, not %d", n, len(in.Parts))
	}
	for i, p := range in.Parts {
		switch {
		case p.PartNumber < 1 || p.PartNumber > n:
			return core.FieldError("parts", "part_number %d is outside 1..%d", p.PartNumber, n)
		case p.PartNumber != i+1:
			return core.FieldError("parts", "parts must be listed once each in ascending order from 1; found %d at position %d", p.PartNumber, i+1)
		case p.ETag == "" || len(p.ETag) > 256:
			return core.FieldError("parts", "part %d has no valid etag", p.PartNumber)
		}
	}
	if len(in.Parts) < n {
		return core.FieldError("parts", "parts %d..%d are missing: upload them, then complete", len(in.Parts)+1, n)
	}
	return nil
}

// completeUpload assembles the parts into the object, checks its size,
// hashes and sniffs it, and records the file. Until the storage upload is
// completed a client error leaves the session for another try; after it,
// any failure removes the object and ends the session, so nothing is left
// without a row. The row and the end of the session are one transaction.
func (a *API) completeUpload(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	uid, _ := auth.UserID(ctx)
	id, err := uploadID(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var in completeRequest
	if err := decodeJSONLimit(w, r, &in, maxCompleteBody); err != nil {
		a.writeError(w, r, err)
		return
	}
	now := a.now()
	s, err := a.Uploads.UploadForUser(ctx, uid, id, now)
	if err != nil {
		a.answerCompleted(w, r, uid, id, err)
		return
	}
	if err := checkParts(in, s); err != nil {
		a.writeError(w, r, err)
		return
	}
	if s, err = a.Uploads.LeaseUpload(ctx, uid, id, now, now.Add(completeLease)); err != nil {
		a.answerCompleted(w, r, uid, id, err)
		return
	}
	parts, err := a.matchParts(ctx, in, s)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := a.HotParts.CompleteMultipartUpload(ctx, s.ObjectKey, s.StorageUploadID, parts); err != nil {
		a.writeError(w, r, uploadGone(err))
		return
	}
	f, err := a.recordUpload(ctx, w, s)
	if errors.Is(err, postgres.ErrUploadNotFound) {
		// Ended by someone else meanwhile, who cleans up: a concurrent
		// completion (then this answers its file) or an abort.
		a.answerCompleted(w, r, uid, id, err)
		return
	}
	if err != nil {
		a.endUpload(ctx, s)
		a.writeError(w, r, err)
		return
	}
	a.Logger.InfoContext(ctx, "upload completed", "upload_id", s.ID, "file_id", f.ID, "user_id", uid, "bytes", f.Size, "request_id", requestID(ctx))
	writeJSON(w, http.StatusCreated, toJSON(f))
}

// completedUploadJSON answers GET of an upload completed into a file.
type completedUploadJSON struct {
	UploadID string   `json:"upload_id"`
	Status   string   `json:"status"` // completed
	File     fileJSON `json:"file"`
}

// completedFile is the file that upload id was completed into, when err
// (from looking up its session) says the session is gone; else err.
func (a *API) completedFile(ctx context.Context, uid int64, id string, err error) (core.File, error) {
	if !errors.Is(err, postgres.ErrUploadNotFound) {
		return core.File{}, err
	}
	return a.Uploads.CompletedUpload(ctx, uid, id)
}

// answerCompleted answers a completion whose session is gone: a client
// that never got the answer to its first completion (a dropped connection,
// API Gateway's 30 s limit) gets the file, with 200 instead of 201, and does
// not upload it again.
func (a *API) answerCompleted(w http.ResponseWriter, r *http.Request, uid int64, id string, err error) {
	f, err := a.completedFile(r.Context(), uid, id, err)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toJSON(f))
}

// matchParts checks the client's parts against the tier's: every part
// present with the same etag and the size the declared size implies. A size
// that cannot match the declaration ends the session.
func (a *API) matchParts(ctx context.Context, in completeRequest, s core.UploadSession) ([]storage.Part, error) {
	listed, err := a.HotParts.ListParts(ctx, s.ObjectKey, s.StorageUploadID)
	if err != nil {
		return nil, uploadGone(err)
	}
	byNumber := make(map[int]storage.Part, len(listed))
	for _, p := range listed {
		byNumber[p.Number] = p
	}
	parts := make([]storage.Part, len(in.Parts))
	for i, p := range in.Parts {
		have, ok := byNumber[p.PartNumber]
		if !ok {
			return nil, core.FieldError("parts", "part %d has not been uploaded", p.PartNumber)
		}
		if storage.TrimETag(p.ETag) != storage.TrimETag(have.ETag) {
			return nil, core.FieldError("parts", "etag of part %d does not match the uploaded part", p.PartNumber)
		}
		if want := s.PartLen(p.PartNumber); have.Size != want {
			a.endUpload(ctx, s)
			return nil, core.FieldError("parts", "part %d is %d bytes, not %d: the upload does not add up to its declared size of %d bytes and was aborted",
				p.PartNumber, have.Size, want, s.Size)
		}
		parts[i] = have
	}
	return parts, nil
}

// recordUpload checks and records the completed object of s.
func (a *API) recordUpload(ctx context.Context, w http.ResponseWriter, s core.UploadSession) (core.File, error) {
	info, err := a.Hot.Stat(ctx, s.ObjectKey)
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
	head, sum, n, err := hashObject(&deadlineReader{r: body, deadline: a.writeDeadline(w)})
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
	}
	if err := a.Uploads.CompleteUpload(ctx, s.ID, &f); err != nil {
		return core.File{}, err
	}
	return f, nil
}

// hashObject reads r once: its first sniffLen bytes, its SHA-256 (hex) and
// its length, in constant memory.
func hashObject(r io.Reader) (head []byte, sum string, n int64, err error) {
	h := sha256.New()
	head = make([]byte, sniffLen)
	k, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, "", 0, err
	}
	head = head[:k]
	h.Write(head)
	rest, err := io.CopyBuffer(h, r, make([]byte, 1<<20))
	if err != nil {
		return nil, "", 0, err
	}
	return head, hex.EncodeToString(h.Sum(nil)), int64(k) + rest, nil
}

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

// RunUploadJanitor calls AbortExpiredUploads every interval until ctx ends.
func (a *API) RunUploadJanitor(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := a.AbortExpiredUploads(ctx)
		if err != nil && ctx.Err() == nil {
			a.Logger.ErrorContext(ctx, "upload janitor", "aborted", n, "err", err.Error())
		} else if n > 0 {
			a.Logger.InfoContext(ctx, "upload janitor", "aborted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
