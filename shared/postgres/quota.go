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

// usageColumns read a user's counters (user_usage, kept by triggers; see
// migration 00020), less the expired upload sessions and reservations the
// janitor has not removed yet: the effective quota, then Usage's fields.
// $1 is the user, $2 the default quota (0: unlimited). Index lookups only.
const usageColumns = `coalesce(u.quota_bytes, nullif($2::bigint, 0)) AS quota,
	c.hot_bytes, c.cold_bytes, c.trash_bytes, c.files,
	c.upload_bytes - (SELECT coalesce(sum(declared_size), 0) FROM upload_sessions WHERE user_id = $1 AND expires_at <= now())::bigint AS upload_bytes,
	c.reserved_bytes - (SELECT coalesce(sum(bytes), 0) FROM quota_reservations WHERE user_id = $1 AND expires_at <= now())::bigint AS reserved_bytes`

func usageOf(ctx context.Context, q querier, userID, defaultQuota int64) (Usage, error) {
	var u Usage
	err := q.QueryRow(ctx, `SELECT `+usageColumns+`
		FROM users u JOIN user_usage c ON c.user_id = u.id WHERE u.id = $1 AND u.deleting_at IS NULL`, userID, defaultQuota).
		Scan(&u.Quota, &u.Hot, &u.Cold, &u.Trash, &u.Files, &u.Uploads, &u.Reserved)
	if errors.Is(err, pgx.ErrNoRows) {
		return Usage{}, ErrUserNotFound
	}
	if err != nil {
		return Usage{}, fmt.Errorf("usage of user %d: %w", userID, err)
	}
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
// when less, but never less than least (then ErrQuotaExceeded). One
// statement: with a quota, the check holds the user's counter row (so
// concurrent reservations are serialised) only until the reservation is
// inserted; without one it locks nothing.
func (db *DB) ReserveQuota(ctx context.Context, userID, want, least, defaultQuota int64, ttl time.Duration) (string, int64, error) {
	id := uuid.NewString()
	var unlimited bool
	var got *int64
	// With no quota nothing is locked (cur is empty) and nothing reserved.
	err := db.Pool.QueryRow(ctx, `WITH q AS (
			SELECT coalesce(quota_bytes, nullif($2::bigint, 0)) AS quota FROM users WHERE id = $1 AND deleting_at IS NULL
		), cur AS (
			SELECT `+usageColumns+` FROM users u JOIN user_usage c ON c.user_id = u.id
			WHERE u.id = $1 AND u.deleting_at IS NULL AND coalesce(u.quota_bytes, nullif($2::bigint, 0)) IS NOT NULL
			FOR NO KEY UPDATE OF c
		), g AS (
			SELECT quota, least($3::bigint, quota - (hot_bytes + cold_bytes + trash_bytes + upload_bytes + reserved_bytes)) AS got FROM cur
		), ins AS (
			INSERT INTO quota_reservations (id, user_id, bytes, expires_at)
			SELECT $4::uuid, $1, got, now() + make_interval(secs => $6) FROM g
			WHERE quota IS NOT NULL AND got >= $5 AND got > 0 RETURNING bytes
		)
		SELECT quota IS NULL, (SELECT bytes FROM ins) FROM q`,
		userID, defaultQuota, want, id, least, ttl.Seconds()).Scan(&unlimited, &got)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", 0, ErrUserNotFound
	case err != nil:
		return "", 0, fmt.Errorf("reserve quota of user %d: %w", userID, err)
	case unlimited:
		return "", want, nil
	case got == nil:
		return "", 0, ErrQuotaExceeded
	}
	return id, *got, nil
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
