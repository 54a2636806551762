package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
)

// ErrQuotaExceeded: the upload would take the user past their quota.
var ErrQuotaExceeded = core.Errorf(core.CodeQuotaExceeded, "this upload would take you past your storage quota: delete files or empty the trash first")

// Usage is what one user's storage holds, in bytes. Used counts everything
// the quota counts: live files of both tiers, the trash until purged, the
// declared sizes of open presigned uploads and the reservations of uploads
// under way.
type Usage struct {
	Quota    *int64 // the effective quota; nil: unlimited
	Hot      int64
	Cold     int64
	Trash    int64
	Uploads  int64 // open presigned upload sessions, by declared size
	Reserved int64 // streamed uploads under way
	Files    int   // live files
}

// Used is the bytes the quota counts.
func (u Usage) Used() int64 { return u.Hot + u.Cold + u.Trash + u.Uploads + u.Reserved }

func effectiveQuota(override *int64, def int64) *int64 {
	if override != nil {
		return override
	}
	if def > 0 {
		return &def
	}
	return nil
}

func usageOf(ctx context.Context, q querier, userID, defaultQuota int64) (Usage, error) {
	var u Usage
	var override *int64
	err := q.QueryRow(ctx, `SELECT u.quota_bytes,
		coalesce(sum(f.file_size) FILTER (WHERE f.deleted_at IS NULL AND f.storage_location = 'minio'), 0),
		coalesce(sum(f.file_size) FILTER (WHERE f.deleted_at IS NULL AND f.storage_location = 's3'), 0),
		coalesce(sum(f.file_size) FILTER (WHERE f.deleted_at IS NOT NULL), 0),
		count(f.id) FILTER (WHERE f.deleted_at IS NULL),
		(SELECT coalesce(sum(declared_size), 0) FROM upload_sessions WHERE user_id = $1 AND expires_at > now()),
		(SELECT coalesce(sum(bytes), 0) FROM quota_reservations WHERE user_id = $1 AND expires_at > now())
		FROM users u LEFT JOIN files f ON f.user_id = u.id
		WHERE u.id = $1 AND u.deleting_at IS NULL GROUP BY u.id`, userID).
		Scan(&override, &u.Hot, &u.Cold, &u.Trash, &u.Files, &u.Uploads, &u.Reserved)
	if errors.Is(err, pgx.ErrNoRows) {
		return Usage{}, ErrUserNotFound
	}
	if err != nil {
		return Usage{}, fmt.Errorf("usage of user %d: %w", userID, err)
	}
	u.Quota = effectiveQuota(override, defaultQuota)
	return u, nil
}

// UsageOf returns userID's usage; defaultQuota is USER_QUOTA_MB in bytes
// (0: unlimited), for users without a quota of their own.
func (db *DB) UsageOf(ctx context.Context, userID, defaultQuota int64) (Usage, error) {
	return usageOf(ctx, db.Pool, userID, defaultQuota)
}

// ReserveQuota reserves up to want bytes of userID's quota for ttl and
// returns the reservation's id ("" when the quota is unlimited: nothing
// is reserved) and the bytes granted: want, or what is left of the quota
// when less, but never less than least (then ErrQuotaExceeded). The check
// and the insert hold the user's row, so concurrent reservations (and
// upload session creations, which take the same lock) are serialised.
func (db *DB) ReserveQuota(ctx context.Context, userID, want, least, defaultQuota int64, ttl time.Duration) (string, int64, error) {
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return "", 0, fmt.Errorf("begin quota reservation: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	if _, err := tx.Exec(ctx, `SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE`, userID); err != nil {
		return "", 0, fmt.Errorf("lock user %d: %w", userID, err)
	}
	u, err := usageOf(ctx, tx, userID, defaultQuota)
	if err != nil {
		return "", 0, err
	}
	if u.Quota == nil {
		return "", want, nil
	}
	left := *u.Quota - u.Used()
	got := min(want, left)
	if got < least || got <= 0 {
		return "", 0, ErrQuotaExceeded
	}
	id := uuid.NewString()
	if _, err := tx.Exec(ctx, `INSERT INTO quota_reservations (id, user_id, bytes, expires_at)
		VALUES ($1::uuid, $2, $3, now() + make_interval(secs => $4))`, id, userID, got, ttl.Seconds()); err != nil {
		return "", 0, fmt.Errorf("insert quota reservation: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return "", 0, fmt.Errorf("commit quota reservation: %w", err)
	}
	return id, got, nil
}

// ReleaseQuota drops reservation id (no-op for "").
func (db *DB) ReleaseQuota(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	if _, err := db.Pool.Exec(ctx, `DELETE FROM quota_reservations WHERE id = $1::uuid`, id); err != nil {
		return fmt.Errorf("release quota reservation %s: %w", id, err)
	}
	return nil
}

// DeleteExpiredReservations drops the reservations of uploads whose
// process died (they already stopped counting at expires_at).
func (db *DB) DeleteExpiredReservations(ctx context.Context) (int, error) {
	tag, err := db.Pool.Exec(ctx, `DELETE FROM quota_reservations WHERE expires_at <= now()`)
	if err != nil {
		return 0, fmt.Errorf("delete expired quota reservations: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// SetUserQuota sets the quota of the account with the normalised email:
// bytes, or nil for the default (USER_QUOTA_MB). ErrUserNotFound when there
// is no such account.
func (db *DB) SetUserQuota(ctx context.Context, email string, bytes *int64) error {
	tag, err := db.Pool.Exec(ctx, `UPDATE users SET quota_bytes = $2, updated_at = now() WHERE email = $1 AND deleting_at IS NULL`, email, bytes)
	if err != nil {
		return fmt.Errorf("set quota of %s: %w", email, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrUserNotFound
	}
	return nil
}
