package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/auth"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
)

// quotaStore is what the quota needs of the database.
type quotaStore interface {
	UsageOf(ctx context.Context, userID, defaultQuota int64) (postgres.Usage, error)
	ReserveQuota(ctx context.Context, userID, want, least, defaultQuota int64, ttl time.Duration) (string, int64, error)
	ReleaseQuota(ctx context.Context, id string) error
	DeleteExpiredReservations(ctx context.Context) (int, error)
}

// reservationTTL bounds how long a reservation of an upload whose process
// died keeps counting.
const reservationTTL = 6 * time.Hour

// grant is a reservation of quota for one upload: up to bytes may be
// stored; release gives it back unless the file's row took its place
// (RecordUpload with id, then consumed) or nothing was reserved.
type grant struct {
	bytes    int64
	id       string
	consumed *bool
	release  func()
}

// reserve reserves up to want bytes of uid's quota for an upload, at least
// least (else 413 QUOTA_EXCEEDED). With no quota, want is granted and
// nothing is recorded.
func (a *API) reserve(ctx context.Context, uid, want, least int64) (grant, error) {
	id, got, err := a.Quotas.ReserveQuota(ctx, uid, want, least, a.Config.UserQuota, reservationTTL)
	if err != nil {
		return grant{}, accountGone(err)
	}
	consumed := new(bool)
	return grant{bytes: got, id: id, consumed: consumed, release: func() {
		if id == "" || *consumed {
			return
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := a.Quotas.ReleaseQuota(ctx, id); err != nil {
			a.Logger.ErrorContext(ctx, "quota reservation left to expire", "reservation", id, "err", err.Error())
		}
	}}, nil
}

// streamGrant reserves quota for a streamed upload of a body of
// contentLength bytes (-1: unknown): as much as the file could be, or what
// is left of the quota.
func (a *API) streamGrant(ctx context.Context, uid, contentLength int64) (grant, error) {
	want := a.Config.MaxFileSize
	if contentLength >= 0 {
		want = min(want, contentLength)
	}
	return a.reserve(ctx, uid, max(want, 1), 1)
}

// overLimit is the error of a streamed upload cut off at limit bytes: the
// quota's when the reservation was what limited it.
func (a *API) overLimit(g grant) error {
	if g.bytes < a.Config.MaxFileSize {
		return postgres.ErrQuotaExceeded
	}
	return a.tooLarge()
}

// usageJSON is GET /api/usage.
type usageJSON struct {
	QuotaBytes *int64 `json:"quota_bytes"`
	UsedBytes  int64  `json:"used_bytes"`
	HotBytes   int64  `json:"hot_bytes"`
	ColdBytes  int64  `json:"cold_bytes"`
	TrashBytes int64  `json:"trash_bytes"`
	// UploadBytes are the declared sizes of open presigned uploads and the
	// reservations of streamed uploads under way.
	UploadBytes int64 `json:"upload_bytes"`
	Files       int   `json:"files"`
}

func (a *API) usage(w http.ResponseWriter, r *http.Request) {
	uid, _ := auth.UserID(r.Context())
	u, err := a.Quotas.UsageOf(r.Context(), uid, a.Config.UserQuota)
	if errors.Is(err, postgres.ErrUserNotFound) {
		a.writeError(w, r, auth.ErrUnauthorized)
		return
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, usageJSON{
		QuotaBytes: u.Quota, UsedBytes: u.Used(), HotBytes: u.Hot, ColdBytes: u.Cold, TrashBytes: u.Trash,
		UploadBytes: u.Uploads + u.Reserved, Files: u.Files,
	})
}
