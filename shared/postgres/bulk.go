package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Bulk actions on the trash: one statement for many files. Each names the
// user in its WHERE, so another user's id (or a missing one) is simply not
// among the ids it returns; the caller tells each id's outcome from that.

// TrashFiles moves those of ids that are userID's live files to the trash
// until now+retention, in one statement, and returns the ids it moved (in
// no order). Ids of files that do not exist, are another user's or are
// already in the trash are left out.
func (db *DB) TrashFiles(ctx context.Context, userID int64, ids []int64, retention time.Duration) ([]int64, error) {
	return db.updatedIDs(ctx, fmt.Sprintf("trash %d files of user %d", len(ids), userID), `UPDATE files SET `+trashSet+`
		WHERE user_id = $1 AND id = ANY($2) AND deleted_at IS NULL RETURNING id`, userID, ids, retention.Seconds())
}

// RestoreFiles takes those of ids that are in userID's trash (and not
// being purged) out of it, in one statement, and returns the ids it
// restored (in no order). Other ids are left out.
func (db *DB) RestoreFiles(ctx context.Context, userID int64, ids []int64) ([]int64, error) {
	return db.updatedIDs(ctx, fmt.Sprintf("restore %d files of user %d", len(ids), userID), `UPDATE files SET `+restoreSet+`
		WHERE user_id = $1 AND id = ANY($2) AND `+trashed+` RETURNING id`, userID, ids)
}

// updatedIDs runs an UPDATE … RETURNING id and returns the ids; what
// names it in errors.
func (db *DB) updatedIDs(ctx context.Context, what, sql string, args ...any) ([]int64, error) {
	rows, err := db.Pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	done, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return done, nil
}
