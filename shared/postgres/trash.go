package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
)

// The trash: a trashed file keeps its row and objects (deleted_at,
// purge_at). A purge marks the row purging_at first — from then on it is a
// tombstone no query of a route returns — then the caller removes the
// objects from every tier, then DeletePurged removes the row. Each step is
// one short statement; no transaction spans the object removal.

// trashed is the condition of a file that is an entry of the trash (not
// being purged, and not one that went there with a folder: that folder is
// the entry).
const trashed = `deleted_at IS NOT NULL AND purging_at IS NULL AND trash_folder_id IS NULL`

// What moving a file to the trash and back sets, for one file or many
// (bulk.go): trashSet takes the retention in seconds as $3.
const (
	trashSet = `deleted_at = now(), purge_at = now() + make_interval(secs => $3), updated_at = now()`
	// A file whose folder is gone or in the trash comes back in the root.
	restoreSet = `deleted_at = NULL, purge_at = NULL, updated_at = now(),
		folder_id = CASE WHEN EXISTS (SELECT 1 FROM folders d WHERE d.id = files.folder_id AND d.deleted_at IS NULL)
			THEN folder_id END`
)

// TrashFile moves userID's live file id to the trash until now+retention
// and returns it. ErrFileNotFound when there is no such live file (also
// when it is already in the trash), ErrForbidden when another user owns it.
func (db *DB) TrashFile(ctx context.Context, userID, id int64, retention time.Duration) (core.File, error) {
	f, err := scanFile(db.Pool.QueryRow(ctx, `UPDATE files SET `+trashSet+`
		WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL RETURNING `+fileColumns, id, userID, retention.Seconds()))
	if errors.Is(err, pgx.ErrNoRows) {
		_, err := db.FileForUser(ctx, userID, id)
		if err == nil {
			err = ErrFileNotFound // deleted meanwhile
		}
		return core.File{}, err
	}
	if err != nil {
		return core.File{}, fmt.Errorf("trash file %d: %w", id, err)
	}
	return f, nil
}

// TrashedFileForUser returns file id from userID's trash: ErrFileNotFound
// when no such file is in a trash (or it is being purged), ErrForbidden
// when it is in another user's.
func (db *DB) TrashedFileForUser(ctx context.Context, userID, id int64) (core.File, error) {
	f, err := scanFile(db.Pool.QueryRow(ctx, `SELECT `+fileColumns+` FROM files WHERE id = $1 AND `+trashed, id))
	return ownedFile(f, err, userID)
}

// RestoreFile takes file id out of userID's trash and returns it as it is
// now (in the tier it was in). Errors as TrashedFileForUser.
func (db *DB) RestoreFile(ctx context.Context, userID, id int64) (core.File, error) {
	f, err := scanFile(db.Pool.QueryRow(ctx, `UPDATE files SET `+restoreSet+`
		WHERE id = $1 AND user_id = $2 AND `+trashed+` RETURNING `+fileColumns, id, userID))
	if errors.Is(err, pgx.ErrNoRows) {
		_, err := db.TrashedFileForUser(ctx, userID, id)
		if err == nil {
			err = ErrFileNotFound
		}
		return core.File{}, err
	}
	if err != nil {
		return core.File{}, fmt.Errorf("restore file %d: %w", id, err)
	}
	return f, nil
}

// TrashEntry is one entry of a user's trash: a file, or a folder with
// what went there with it.
type TrashEntry struct {
	File   *core.File
	Folder *core.TrashedFolder
}

func (e TrashEntry) key() (time.Time, int64) {
	if e.Folder != nil {
		return *e.Folder.DeletedAt, -e.Folder.ID
	}
	return *e.File.DeletedAt, e.File.ID
}

// ListTrash returns a page of userID's trash, files and folders in one
// list, newest deletion first, and the next page's cursor ("" on the last
// page). A malformed cursor yields ErrBadCursor. The order is (deleted_at,
// k) descending where k is a file's id and minus a folder's (the cursor
// carries that key, so pages of files alone read as before).
func (db *DB) ListTrash(ctx context.Context, userID int64, limit int, cursor string) ([]TrashEntry, string, error) {
	args := []any{userID, limit + 1}
	fileCond, folderCond := "", ""
	if cursor != "" {
		at, k, err := decodeTimeCursor(cursor)
		if err != nil {
			return nil, "", ErrBadCursor
		}
		args = append(args, at, k)
		fileCond = ` AND (deleted_at, id) < ($3, $4)`
		folderCond = ` AND (fo.deleted_at, -fo.id) < ($3, $4)`
	}
	rows, err := db.Pool.Query(ctx, `SELECT `+fileColumns+` FROM files WHERE user_id = $1 AND `+trashed+fileCond+`
		ORDER BY deleted_at DESC, id DESC LIMIT $2`, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list trash: %w", err)
	}
	files, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.File, error) { return scanFile(r) })
	if err != nil {
		return nil, "", fmt.Errorf("list trash: %w", err)
	}
	rows, err = db.Pool.Query(ctx, `SELECT `+prefixed("fo.", folderColumns)+`, s.n, s.bytes FROM folders fo
		CROSS JOIN LATERAL (SELECT count(*) AS n, coalesce(sum(file_size), 0)::bigint AS bytes
			FROM files WHERE trash_folder_id = fo.id) s
		WHERE fo.user_id = $1 AND fo.deleted_at IS NOT NULL AND fo.trash_root_id IS NULL AND fo.purging_at IS NULL`+folderCond+`
		ORDER BY fo.deleted_at DESC, fo.id ASC LIMIT $2`, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list trashed folders: %w", err)
	}
	folders, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.TrashedFolder, error) {
		var f core.TrashedFolder
		err := r.Scan(&f.ID, &f.UserID, &f.ParentID, &f.Name, &f.CreatedAt, &f.UpdatedAt, &f.DeletedAt, &f.PurgeAt, &f.Files, &f.Bytes)
		return f, err
	})
	if err != nil {
		return nil, "", fmt.Errorf("list trashed folders: %w", err)
	}
	// Merge the two ordered lists.
	entries := make([]TrashEntry, 0, len(files)+len(folders))
	i, j := 0, 0
	for len(entries) <= limit && (i < len(files) || j < len(folders)) {
		var e TrashEntry
		if i < len(files) {
			e = TrashEntry{File: &files[i]}
		}
		if j < len(folders) {
			g := TrashEntry{Folder: &folders[j]}
			if e.File == nil || laterEntry(g, e) {
				e = g
			}
		}
		if e.Folder != nil {
			j++
		} else {
			i++
		}
		entries = append(entries, e)
	}
	next := ""
	if len(entries) > limit {
		entries = entries[:limit]
		at, k := entries[len(entries)-1].key()
		next = encodeTimeCursor(at, k)
	}
	return entries, next, nil
}

// laterEntry reports whether a comes before b in the trash's order.
func laterEntry(a, b TrashEntry) bool {
	at, ak := a.key()
	bt, bk := b.key()
	if !at.Equal(bt) {
		return at.After(bt)
	}
	return ak > bk
}

// BeginPurge marks file id of userID's trash as purging and returns it:
// the caller then removes its objects from every tier and calls
// DeletePurged. Errors as TrashedFileForUser.
func (db *DB) BeginPurge(ctx context.Context, userID, id int64) (core.File, error) {
	f, err := scanFile(db.Pool.QueryRow(ctx, `UPDATE files SET purging_at = now()
		WHERE id = $1 AND user_id = $2 AND `+trashed+` RETURNING `+fileColumns, id, userID))
	if errors.Is(err, pgx.ErrNoRows) {
		_, err := db.TrashedFileForUser(ctx, userID, id)
		if err == nil {
			err = ErrFileNotFound
		}
		return core.File{}, err
	}
	if err != nil {
		return core.File{}, fmt.Errorf("begin purge of file %d: %w", id, err)
	}
	return f, nil
}

// BeginPurgeTrash marks every file of userID's trash, those that went
// there with a folder included, and every folder entry as purging, and
// returns how many files it marked. The caller purges the files, then
// DeletePurgedFolders.
func (db *DB) BeginPurgeTrash(ctx context.Context, userID int64) (int, error) {
	tag, err := db.Pool.Exec(ctx, `WITH fo AS (
			UPDATE folders SET purging_at = now()
			WHERE user_id = $1 AND deleted_at IS NOT NULL AND trash_root_id IS NULL AND purging_at IS NULL)
		UPDATE files SET purging_at = now() WHERE user_id = $1 AND deleted_at IS NOT NULL AND purging_at IS NULL`, userID)
	if err != nil {
		return 0, fmt.Errorf("begin purge of the trash of user %d: %w", userID, err)
	}
	return int(tag.RowsAffected()), nil
}

// BeginPurgeAll marks every file of userID, live or trashed, as purging
// (account deletion) and returns how many it marked.
func (db *DB) BeginPurgeAll(ctx context.Context, userID int64) (int, error) {
	tag, err := db.Pool.Exec(ctx, `UPDATE files SET deleted_at = COALESCE(deleted_at, now()),
		purge_at = COALESCE(purge_at, now()), purging_at = COALESCE(purging_at, now())
		WHERE user_id = $1`, userID)
	if err != nil {
		return 0, fmt.Errorf("begin purge of the files of user %d: %w", userID, err)
	}
	return int(tag.RowsAffected()), nil
}

// BeginPurgeExpired marks up to limit files whose purge_at has passed as
// purging and returns them, together with files already purging (a purge
// that was interrupted), in id order after afterID; rows locked by another
// statement are skipped.
func (db *DB) BeginPurgeExpired(ctx context.Context, afterID int64, limit int) ([]core.File, error) {
	rows, err := db.Pool.Query(ctx, `WITH c AS (
			SELECT id FROM files WHERE deleted_at IS NOT NULL AND (purging_at IS NOT NULL OR purge_at <= now())
				AND id > $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
		UPDATE files f SET purging_at = COALESCE(f.purging_at, now()) FROM c WHERE f.id = c.id
		RETURNING `+prefixed("f.", fileColumns), afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("begin purge of expired trash: %w", err)
	}
	return collectSortedByID(rows)
}

// PurgingFiles returns up to limit files of userID being purged, in id
// order after afterID.
func (db *DB) PurgingFiles(ctx context.Context, userID, afterID int64, limit int) ([]core.File, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+fileColumns+` FROM files
		WHERE user_id = $1 AND purging_at IS NOT NULL AND id > $2 ORDER BY id LIMIT $3`, userID, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("list purging files of user %d: %w", userID, err)
	}
	return collectSortedByID(rows)
}

func collectSortedByID(rows pgx.Rows) ([]core.File, error) {
	files, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.File, error) { return scanFile(r) })
	if err != nil {
		return nil, fmt.Errorf("read files: %w", err)
	}
	// UPDATE … RETURNING has no order.
	slices.SortFunc(files, func(a, b core.File) int { return cmp.Compare(a.ID, b.ID) })
	return files, nil
}

// DeletePurged deletes the row of file id once its objects are gone; only
// a row marked purging is deleted.
func (db *DB) DeletePurged(ctx context.Context, id int64) error {
	if _, err := db.Pool.Exec(ctx, `DELETE FROM files WHERE id = $1 AND purging_at IS NOT NULL`, id); err != nil {
		return fmt.Errorf("delete purged file %d: %w", id, err)
	}
	return nil
}
