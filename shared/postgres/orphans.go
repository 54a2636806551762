package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ReferencedKeys returns which of keys a file row (live, trashed or being
// purged) or an upload session names as its object key.
func (db *DB) ReferencedKeys(ctx context.Context, keys []string) (map[string]bool, error) {
	rows, err := db.Pool.Query(ctx, `SELECT k FROM unnest($1::text[]) AS k
		WHERE EXISTS (SELECT 1 FROM files WHERE object_key = k) OR EXISTS (SELECT 1 FROM upload_sessions WHERE object_key = k)`, keys)
	if err != nil {
		return nil, fmt.Errorf("look up %d object keys: %w", len(keys), err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("look up %d object keys: %w", len(keys), err)
	}
	refs := make(map[string]bool, len(found))
	for _, k := range found {
		refs[k] = true
	}
	return refs, nil
}

// MaintenanceCursor returns where the maintenance task name stopped ("":
// at the start).
func (db *DB) MaintenanceCursor(ctx context.Context, name string) (string, error) {
	var after string
	err := db.Pool.QueryRow(ctx, `SELECT after_key FROM maintenance_cursors WHERE name = $1`, name).Scan(&after)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("read the cursor of %s: %w", name, err)
	}
	return after, nil
}

// SetMaintenanceCursor records where the maintenance task name stopped.
func (db *DB) SetMaintenanceCursor(ctx context.Context, name, after string) error {
	if _, err := db.Pool.Exec(ctx, `INSERT INTO maintenance_cursors (name, after_key) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET after_key = excluded.after_key, updated_at = now()`, name, after); err != nil {
		return fmt.Errorf("record the cursor of %s: %w", name, err)
	}
	return nil
}
