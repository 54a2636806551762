package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
	"github.com/hybrid-storage/hybrid-storage/shared/storage"
)

// uploadStore is what the presigned multipart endpoints need of the database.
type uploadStore interface {
	CheckUploadQuota(ctx context.Context, userID, size int64, q postgres.UploadQuota) error
	CreateUpload(ctx context.Context, s *core.UploadSession, q postgres.UploadQuota) error
	UploadForUser(ctx context.Context, userID int64, id string, now time.Time) (core.UploadSession, error)
	LeaseUpload(ctx context.Context, userID int64, id string, now, until time.Time) (core.UploadSession, error)
	ReleaseUpload(ctx context.Context, id string) error
	ClaimFinish(ctx context.Context, userID int64, id string, now, until time.Time) (core.UploadSession, bool, error)
	ReleaseFinish(ctx context.Context, id string) error
	CompleteUpload(ctx context.Context, id string, f *core.File) error
	CompletedUpload(ctx context.Context, userID int64, id string) (core.File, error)
}

// multipartTier is what they need of the hot tier besides tier.
type multipartTier interface {
	NewMultipartUpload(ctx context.Context, key string, o storage.PutOptions) (string, error)
	PresignPart(ctx context.Context, key, uploadID string, n int, size int64, ttl time.Duration) (string, error)
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
	// largeUpload is the size above which part URLs live an hour instead of
	// 15 minutes: at 10 Mbit/s a gigabyte takes about 15 minutes to send.
	largeUpload = 1 << 30
	// maxCompleteBody bounds the completion request: 10 000 parts with
	// their etags.
	maxCompleteBody = 2 << 20
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

// uploadJSON answers creation, and GET of an upload in progress.
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

// completedUploadJSON answers GET of an upload completed into a file.
type completedUploadJSON struct {
	UploadID string   `json:"upload_id"`
	Status   string   `json:"status"` // completed
	File     fileJSON `json:"file"`
}

// completingUploadJSON answers GET of an upload whose object the hot tier
// has assembled while another request records its file.
type completingUploadJSON struct {
	UploadID string `json:"upload_id"`
	Status   string `json:"status"` // completing
	Size     int64  `json:"size"`
}

// sessionJSON describes s with fresh URLs for the parts numbered in want.
func (a *API) sessionJSON(ctx context.Context, s core.UploadSession, done []partDone, want []int) (uploadJSON, error) {
	ttl := partURLTTL(s.Size)
	out := uploadJSON{
		UploadID: s.ID, Status: "in_progress", PartSize: s.PartSize, Size: s.Size, ExpiresAt: rfc3339(s.ExpiresAt),
		URLExpiresIn: int(ttl / time.Second), PartsDone: done, Parts: make([]partURL, 0, len(want)),
	}
	for _, n := range want {
		u, err := a.HotParts.PresignPart(ctx, s.ObjectKey, s.StorageUploadID, n, s.PartLen(n), ttl)
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

// endUpload ends session s after a failed completion; a failure here is
// logged and left to maintenance.
func (a *API) endUpload(ctx context.Context, s core.UploadSession) {
	if err := a.Maintenance.EndUpload(context.WithoutCancel(ctx), s.UserID, s.ID); err != nil && !errors.Is(err, postgres.ErrUploadNotFound) {
		a.Logger.ErrorContext(ctx, "could not end failed upload; maintenance will", "upload_id", s.ID, "err", err.Error())
	}
}

// endHeldUpload ends session s, which this completion holds and found
// marked ending: what the tier holds of it (the object it may have
// assembled after the ender's discard) goes, then the row. A failure here
// is logged and left to maintenance (the janitor ends the marked session).
func (a *API) endHeldUpload(ctx context.Context, s core.UploadSession) {
	err := a.Maintenance.EndHeldUpload(context.WithoutCancel(ctx), s.UserID, s.ID)
	if err != nil && !errors.Is(err, postgres.ErrUploadNotFound) {
		a.Logger.ErrorContext(ctx, "could not end an upload cancelled while being completed; maintenance will", "upload_id", s.ID, "err", err.Error())
		return
	}
	a.Logger.InfoContext(ctx, "upload cancelled while being completed", "upload_id", s.ID, "user_id", s.UserID, "request_id", requestID(ctx))
}

// Steps of a completion at which completeHook (tests) is called.
const (
	stepAssembling = "assembling" // the tier is about to be asked to assemble the object
	stepAssembled  = "assembled"  // the tier has answered; the session is still held
	stepRead       = "read"       // the object was found (Stat); its head is about to be read
	stepRecord     = "record"     // the file is about to be recorded
)

// step calls completeHook, when set, at a step of a completion.
func (a *API) step(ctx context.Context, name string) {
	if a.completeHook != nil {
		a.completeHook(ctx, name)
	}
}
