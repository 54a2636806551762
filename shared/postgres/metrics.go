package postgres

import (
	"context"
	"fmt"
	"time"
)

// PendingStats is the sync job's backlog: the files waiting in the hot
// tier, their bytes, and when the oldest of them was uploaded (nil: none).
type PendingStats struct {
	Files  int64
	Bytes  int64
	Oldest *time.Time
}

// Pending returns the backlog of the sync job over every user.
func (db *DB) Pending(ctx context.Context) (PendingStats, error) {
	var s PendingStats
	err := db.Pool.QueryRow(ctx, `SELECT count(*), coalesce(sum(file_size), 0), min(uploaded_at)
		FROM files WHERE storage_location = 'minio'`).Scan(&s.Files, &s.Bytes, &s.Oldest)
	if err != nil {
		return s, fmt.Errorf("select sync backlog: %w", err)
	}
	return s, nil
}
