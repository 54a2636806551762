package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// UsageDrift is one user whose counters (user_usage) differed from what
// their rows add up to, as ReconcileUsage found and repaired them.
type UsageDrift struct {
	UserID      int64
	Had, Actual [6]int64 // hot, cold, trash, files, upload, reserved bytes
}

// recomputed is every user's usage summed from the rows, in user_usage's
// column order. A sequential scan of files: the nightly check, never a
// request's path.
const recomputed = `SELECT u.id AS user_id,
		coalesce(f.hot, 0)::bigint AS hot, coalesce(f.cold, 0)::bigint AS cold, coalesce(f.trash, 0)::bigint AS trash,
		coalesce(f.files, 0)::bigint AS files, coalesce(s.b, 0)::bigint AS uploads, coalesce(q.b, 0)::bigint AS reserved
	FROM users u
	LEFT JOIN (SELECT user_id,
			sum(file_size) FILTER (WHERE deleted_at IS NULL AND storage_location = 'minio') AS hot,
			sum(file_size) FILTER (WHERE deleted_at IS NULL AND storage_location = 's3') AS cold,
			sum(file_size) FILTER (WHERE deleted_at IS NOT NULL) AS trash,
			count(*) FILTER (WHERE deleted_at IS NULL) AS files
		FROM files GROUP BY user_id) f ON f.user_id = u.id
	LEFT JOIN (SELECT user_id, sum(declared_size) AS b FROM upload_sessions GROUP BY user_id) s ON s.user_id = u.id
	LEFT JOIN (SELECT user_id, sum(bytes) AS b FROM quota_reservations GROUP BY user_id) q ON q.user_id = u.id`

// ReconcileUsage compares every user's counters with their rows and
// repairs the ones that differ, returning them. The comparison is one
// statement, so it sees counters and rows at one snapshot (the triggers
// change both in one transaction): a drift it reports is real. Each repair
// recomputes that user's figures under the lock of their counter row, so
// changes committed meanwhile are counted exactly once.
func (db *DB) ReconcileUsage(ctx context.Context) ([]UsageDrift, error) {
	rows, err := db.Pool.Query(ctx, `SELECT r.user_id FROM (`+recomputed+`) r
		LEFT JOIN user_usage c ON c.user_id = r.user_id
		WHERE c.user_id IS NULL OR (c.hot_bytes, c.cold_bytes, c.trash_bytes, c.files, c.upload_bytes, c.reserved_bytes)
			IS DISTINCT FROM (r.hot, r.cold, r.trash, r.files, r.uploads, r.reserved)
		ORDER BY r.user_id`)
	if err != nil {
		return nil, fmt.Errorf("compare usage counters: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("compare usage counters: %w", err)
	}
	var drifts []UsageDrift
	for _, id := range ids {
		d, err := db.repairUsage(ctx, id)
		if err != nil {
			return drifts, err
		}
		if d.Had != d.Actual {
			drifts = append(drifts, d)
		}
	}
	return drifts, nil
}

func (db *DB) repairUsage(ctx context.Context, userID int64) (UsageDrift, error) {
	d := UsageDrift{UserID: userID}
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO user_usage (user_id) SELECT id FROM users WHERE id = $1 ON CONFLICT DO NOTHING`, userID); err != nil {
			return fmt.Errorf("counter row of user %d: %w", userID, err)
		}
		h := &d.Had
		err := tx.QueryRow(ctx, `SELECT hot_bytes, cold_bytes, trash_bytes, files, upload_bytes, reserved_bytes
			FROM user_usage WHERE user_id = $1 FOR NO KEY UPDATE`, userID).Scan(&h[0], &h[1], &h[2], &h[3], &h[4], &h[5])
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // the user was deleted meanwhile
		}
		if err != nil {
			return fmt.Errorf("lock counters of user %d: %w", userID, err)
		}
		// One user's rows, through the per-user indexes (live and trashed
		// files each have a partial one).
		a := &d.Actual
		if err := tx.QueryRow(ctx, `SELECT
				(SELECT coalesce(sum(file_size) FILTER (WHERE storage_location = 'minio'), 0) FROM files WHERE user_id = $1 AND deleted_at IS NULL)::bigint,
				(SELECT coalesce(sum(file_size) FILTER (WHERE storage_location = 's3'), 0) FROM files WHERE user_id = $1 AND deleted_at IS NULL)::bigint,
				(SELECT coalesce(sum(file_size), 0) FROM files WHERE user_id = $1 AND deleted_at IS NOT NULL)::bigint,
				(SELECT count(*) FROM files WHERE user_id = $1 AND deleted_at IS NULL),
				(SELECT coalesce(sum(declared_size), 0) FROM upload_sessions WHERE user_id = $1)::bigint,
				(SELECT coalesce(sum(bytes), 0) FROM quota_reservations WHERE user_id = $1)::bigint`, userID).
			Scan(&a[0], &a[1], &a[2], &a[3], &a[4], &a[5]); err != nil {
			return fmt.Errorf("recompute usage of user %d: %w", userID, err)
		}
		if d.Had == d.Actual {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE user_usage SET hot_bytes = $2, cold_bytes = $3, trash_bytes = $4, files = $5,
			upload_bytes = $6, reserved_bytes = $7 WHERE user_id = $1`, userID, a[0], a[1], a[2], a[3], a[4], a[5]); err != nil {
			return fmt.Errorf("repair counters of user %d: %w", userID, err)
		}
		return nil
	})
	return d, err
}
