package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
)

// Folders (migration 00024). Every change to a user's tree (create, move,
// trash, restore) runs in a transaction that first locks the user's row
// (lockTree), so that two moves cannot pass their cycle checks together
// and the count and depth limits hold. A file's move or upload into a
// folder locks that folder's row FOR SHARE in its own statement, so a
// folder going to the trash takes every file that reached it, and a file
// never lands in a folder already in the trash.

// Errors of the folder store.
var (
	ErrFolderNotFound  = core.Errorf(core.CodeFolderNotFound, "folder not found")
	ErrFolderForbidden = core.Errorf(core.CodeForbidden, "this folder belongs to another user")
	ErrNameTaken       = core.Errorf(core.CodeNameTaken, "a folder with this name is already there")
	ErrFolderCycle     = core.Errorf(core.CodeFolderCycle, "a folder cannot move into itself or into a folder inside it")
	ErrFolderTooDeep   = core.Errorf(core.CodeFolderTooDeep, "folders nest at most %d deep", core.MaxFolderDepth)
	ErrFolderLimit     = core.Errorf(core.CodeFolderLimit, "an account has at most %d folders (those in the trash count until purged)", core.MaxFolders)
)

const folderColumns = `id, user_id, parent_id, name, created_at, updated_at, deleted_at, purge_at`

func scanFolder(row pgx.Row) (core.Folder, error) {
	var f core.Folder
	err := row.Scan(&f.ID, &f.UserID, &f.ParentID, &f.Name, &f.CreatedAt, &f.UpdatedAt, &f.DeletedAt, &f.PurgeAt)
	return f, err
}

// lockTree locks userID's row against every other change to the user's
// tree until tx ends. ErrUserNotFound when the account is being deleted.
func lockTree(ctx context.Context, tx pgx.Tx, userID int64) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM users WHERE id = $1 AND deleting_at IS NULL FOR NO KEY UPDATE`, userID).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrUserNotFound
	}
	if err != nil {
		return fmt.Errorf("lock the folders of user %d: %w", userID, err)
	}
	return nil
}

// liveFolder returns userID's folder id if it is not in the trash:
// ErrFolderNotFound when there is no such live folder, ErrFolderForbidden
// when it is another user's.
func liveFolder(ctx context.Context, q querier, userID, id int64) (core.Folder, error) {
	f, err := scanFolder(q.QueryRow(ctx, `SELECT `+folderColumns+` FROM folders WHERE id = $1 AND deleted_at IS NULL`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return core.Folder{}, ErrFolderNotFound
	}
	if err != nil {
		return core.Folder{}, fmt.Errorf("select folder %d: %w", id, err)
	}
	if f.UserID != userID {
		return core.Folder{}, ErrFolderForbidden
	}
	return f, nil
}

// FolderForUser returns userID's live folder id. Errors as liveFolder.
func (db *DB) FolderForUser(ctx context.Context, userID, id int64) (core.Folder, error) {
	return liveFolder(ctx, db.Pool, userID, id)
}

// depthOf is how deep folder id is (a top-level folder is at 1).
func depthOf(ctx context.Context, q querier, id int64) (int, error) {
	var d int
	err := q.QueryRow(ctx, `WITH RECURSIVE up AS (
			SELECT parent_id, 1 AS d FROM folders WHERE id = $1
			UNION ALL SELECT f.parent_id, up.d + 1 FROM folders f JOIN up ON f.id = up.parent_id WHERE up.d <= $2
		) SELECT max(d) FROM up`, id, core.MaxFolderDepth).Scan(&d)
	if err != nil {
		return 0, fmt.Errorf("depth of folder %d: %w", id, err)
	}
	return d, nil
}

// subtree reports how many levels folder id and its live subfolders span
// (1 for a folder with none) and whether target is among them (id
// itself included).
func subtree(ctx context.Context, q querier, id, target int64) (height int, contains bool, err error) {
	err = q.QueryRow(ctx, `WITH RECURSIVE down AS (
			SELECT id, 1 AS d FROM folders WHERE id = $1
			UNION ALL SELECT f.id, down.d + 1 FROM folders f JOIN down ON f.parent_id = down.id
				WHERE f.deleted_at IS NULL AND down.d <= $3
		) SELECT max(d), coalesce(bool_or(id = $2), false) FROM down`, id, target, core.MaxFolderDepth).Scan(&height, &contains)
	if err != nil {
		return 0, false, fmt.Errorf("subtree of folder %d: %w", id, err)
	}
	return height, contains, nil
}

// inTx runs f in a transaction that holds userID's tree (lockTree).
func (db *DB) inTx(ctx context.Context, userID int64, what string, f func(tx pgx.Tx) error) error {
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin %s: %w", what, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	if err := lockTree(ctx, tx, userID); err != nil {
		return err
	}
	if err := f(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit %s: %w", what, err)
	}
	return nil
}

// nameErr maps a unique violation of folders_sibling_name_key to
// ErrNameTaken.
func nameErr(err error, what string) error {
	if isUniqueViolation(err) {
		return ErrNameTaken
	}
	return fmt.Errorf("%s: %w", what, err)
}

// CreateFolder makes folder name (from core.FolderName) in userID's
// folder parentID (nil: the root).
func (db *DB) CreateFolder(ctx context.Context, userID int64, parentID *int64, name string) (core.Folder, error) {
	var out core.Folder
	err := db.inTx(ctx, userID, "create folder", func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM folders WHERE user_id = $1`, userID).Scan(&n); err != nil {
			return fmt.Errorf("count folders: %w", err)
		}
		if n >= core.MaxFolders {
			return ErrFolderLimit
		}
		if parentID != nil {
			if _, err := liveFolder(ctx, tx, userID, *parentID); err != nil {
				return err
			}
			d, err := depthOf(ctx, tx, *parentID)
			if err != nil {
				return err
			}
			if d+1 > core.MaxFolderDepth {
				return ErrFolderTooDeep
			}
		}
		f, err := scanFolder(tx.QueryRow(ctx, `INSERT INTO folders (user_id, parent_id, name) VALUES ($1, $2, $3)
			RETURNING `+folderColumns, userID, parentID, name))
		if err != nil {
			return nameErr(err, "insert folder")
		}
		out = f
		return nil
	})
	return out, err
}

// ListFolders returns the live subfolders of userID's folder parentID (nil:
// the root), by name (case-insensitively, then by code point) and id.
func (db *DB) ListFolders(ctx context.Context, userID int64, parentID *int64) ([]core.Folder, error) {
	var parent int64
	if parentID != nil {
		if _, err := liveFolder(ctx, db.Pool, userID, *parentID); err != nil {
			return nil, err
		}
		parent = *parentID
	}
	rows, err := db.Pool.Query(ctx, `SELECT `+folderColumns+` FROM folders
		WHERE user_id = $1 AND coalesce(parent_id, 0) = $2 AND deleted_at IS NULL
		ORDER BY lower(name) COLLATE "C", id LIMIT $3`, userID, parent, core.MaxFolders)
	if err != nil {
		return nil, fmt.Errorf("list folders: %w", err)
	}
	folders, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.Folder, error) { return scanFolder(r) })
	if err != nil {
		return nil, fmt.Errorf("list folders: %w", err)
	}
	return folders, nil
}

// FolderPath returns userID's live folder id and its path from the
// top-level folder down to it. Errors as liveFolder.
func (db *DB) FolderPath(ctx context.Context, userID, id int64) (core.Folder, []core.PathItem, error) {
	f, err := liveFolder(ctx, db.Pool, userID, id)
	if err != nil {
		return core.Folder{}, nil, err
	}
	rows, err := db.Pool.Query(ctx, `WITH RECURSIVE up AS (
			SELECT id, parent_id, name, 1 AS d FROM folders WHERE id = $1
			UNION ALL SELECT f.id, f.parent_id, f.name, up.d + 1 FROM folders f JOIN up ON f.id = up.parent_id WHERE up.d <= $2
		) SELECT id, name FROM up ORDER BY d DESC`, id, core.MaxFolderDepth)
	if err != nil {
		return core.Folder{}, nil, fmt.Errorf("path of folder %d: %w", id, err)
	}
	path, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.PathItem, error) {
		var p core.PathItem
		return p, r.Scan(&p.ID, &p.Name)
	})
	if err != nil {
		return core.Folder{}, nil, fmt.Errorf("path of folder %d: %w", id, err)
	}
	return f, path, nil
}

// FolderChange is what UpdateFolder changes: the name when Name is set,
// the parent when Move is (ParentID nil: the root).
type FolderChange struct {
	Name     *string
	Move     bool
	ParentID *int64
}

// UpdateFolder renames and/or moves userID's live folder id. Moving it
// into itself or below itself is ErrFolderCycle; past the depth limit,
// ErrFolderTooDeep; onto a sibling's name, ErrNameTaken.
func (db *DB) UpdateFolder(ctx context.Context, userID, id int64, c FolderChange) (core.Folder, error) {
	var out core.Folder
	err := db.inTx(ctx, userID, "update folder", func(tx pgx.Tx) error {
		f, err := liveFolder(ctx, tx, userID, id)
		if err != nil {
			return err
		}
		parent := f.ParentID
		if c.Move {
			parent = c.ParentID
			if parent != nil {
				if _, err := liveFolder(ctx, tx, userID, *parent); err != nil {
					return err
				}
				height, cycle, err := subtree(ctx, tx, id, *parent)
				if err != nil {
					return err
				}
				if cycle {
					return ErrFolderCycle
				}
				d, err := depthOf(ctx, tx, *parent)
				if err != nil {
					return err
				}
				if d+height > core.MaxFolderDepth {
					return ErrFolderTooDeep
				}
			}
		}
		name := f.Name
		if c.Name != nil {
			name = *c.Name
		}
		out, err = scanFolder(tx.QueryRow(ctx, `UPDATE folders SET name = $2, parent_id = $3, updated_at = now()
			WHERE id = $1 RETURNING `+folderColumns, id, name, parent))
		if err != nil {
			return nameErr(err, "update folder")
		}
		return nil
	})
	return out, err
}

// TrashFolder moves userID's live folder id, its live subfolders and every
// live file in them to the trash as one entry until now+retention; with
// purge, they are marked purging at once (no trash: the caller then purges
// the user's purging files and DeletePurgedFolders). Files and folders
// already in the trash stay their own entries.
func (db *DB) TrashFolder(ctx context.Context, userID, id int64, retention time.Duration, purge bool) error {
	return db.inTx(ctx, userID, "trash folder", func(tx pgx.Tx) error {
		if _, err := liveFolder(ctx, tx, userID, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `WITH RECURSIVE sub AS (
				SELECT id FROM folders WHERE id = $1
				UNION ALL SELECT f.id FROM folders f JOIN sub ON f.parent_id = sub.id WHERE f.deleted_at IS NULL
			) UPDATE folders SET deleted_at = now(), purge_at = now() + make_interval(secs => $2), updated_at = now(),
				trash_root_id = CASE WHEN id = $1 THEN NULL ELSE $1 END,
				purging_at = CASE WHEN $3 THEN now() END
			WHERE id IN (SELECT id FROM sub)`, id, retention.Seconds(), purge); err != nil {
			return fmt.Errorf("trash folder %d: %w", id, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE files SET deleted_at = now(), purge_at = now() + make_interval(secs => $3),
				updated_at = now(), trash_folder_id = $1, purging_at = CASE WHEN $4 THEN now() END
			WHERE user_id = $2 AND deleted_at IS NULL
				AND folder_id IN (SELECT id FROM folders WHERE id = $1 OR trash_root_id = $1)`,
			id, userID, retention.Seconds(), purge); err != nil {
			return fmt.Errorf("trash the files of folder %d: %w", id, err)
		}
		return nil
	})
}

// trashedFolder returns folder id of userID's trash (an entry, not being
// purged): ErrFolderNotFound or ErrFolderForbidden as liveFolder.
func trashedFolder(ctx context.Context, q querier, userID, id int64) (core.Folder, error) {
	f, err := scanFolder(q.QueryRow(ctx, `SELECT `+folderColumns+` FROM folders
		WHERE id = $1 AND deleted_at IS NOT NULL AND trash_root_id IS NULL AND purging_at IS NULL`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return core.Folder{}, ErrFolderNotFound
	}
	if err != nil {
		return core.Folder{}, fmt.Errorf("select trashed folder %d: %w", id, err)
	}
	if f.UserID != userID {
		return core.Folder{}, ErrFolderForbidden
	}
	return f, nil
}

// RestoreFolder takes folder id out of userID's trash with everything that
// went there with it, back into its parent, or into the root when the
// parent is gone or in the trash (or when the parent is now too deep for
// it). ErrNameTaken when a live sibling has its name meanwhile.
func (db *DB) RestoreFolder(ctx context.Context, userID, id int64) (core.Folder, error) {
	var out core.Folder
	err := db.inTx(ctx, userID, "restore folder", func(tx pgx.Tx) error {
		f, err := trashedFolder(ctx, tx, userID, id)
		if err != nil {
			return err
		}
		parent := f.ParentID
		if parent != nil {
			if _, err := liveFolder(ctx, tx, userID, *parent); err != nil {
				parent = nil
			}
		}
		if parent != nil {
			var height int
			if err := tx.QueryRow(ctx, `WITH RECURSIVE down AS (
					SELECT id, 1 AS d FROM folders WHERE id = $1
					UNION ALL SELECT f.id, down.d + 1 FROM folders f JOIN down ON f.parent_id = down.id
						WHERE f.trash_root_id = $1 AND down.d <= $2
				) SELECT max(d) FROM down`, id, core.MaxFolderDepth).Scan(&height); err != nil {
				return fmt.Errorf("subtree of trashed folder %d: %w", id, err)
			}
			d, err := depthOf(ctx, tx, *parent)
			if err != nil {
				return err
			}
			if d+height > core.MaxFolderDepth {
				parent = nil
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE folders SET deleted_at = NULL, purge_at = NULL, trash_root_id = NULL, updated_at = now(),
				parent_id = CASE WHEN id = $1 THEN $2 ELSE parent_id END
			WHERE id = $1 OR trash_root_id = $1`, id, parent); err != nil {
			return nameErr(err, "restore folder")
		}
		if _, err := tx.Exec(ctx, `UPDATE files SET `+restoreSet+`, trash_folder_id = NULL
			WHERE trash_folder_id = $1 AND purging_at IS NULL`, id); err != nil {
			return fmt.Errorf("restore the files of folder %d: %w", id, err)
		}
		out, err = liveFolder(ctx, tx, userID, id)
		return err
	})
	return out, err
}

// BeginPurgeFolder marks folder id of userID's trash, and every file that
// went there with it, as purging: the caller then purges the user's
// purging files and calls DeletePurgedFolders. Errors as trashedFolder.
func (db *DB) BeginPurgeFolder(ctx context.Context, userID, id int64) error {
	return db.inTx(ctx, userID, "purge folder", func(tx pgx.Tx) error {
		if _, err := trashedFolder(ctx, tx, userID, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE folders SET purging_at = now() WHERE id = $1`, id); err != nil {
			return fmt.Errorf("purge folder %d: %w", id, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE files SET purging_at = now() WHERE trash_folder_id = $1 AND purging_at IS NULL`, id); err != nil {
			return fmt.Errorf("purge the files of folder %d: %w", id, err)
		}
		return nil
	})
}

// DeletePurgedFolders deletes the trash entries of userID (0: of every
// user) that are being purged or whose purge time has passed, once no file
// that went to the trash with them is left (the purges of the files come
// first), together with the folders that went with them. A folder trashed
// on its own earlier under one of them stays an entry of its own, in the
// root. It returns how many entries it deleted.
func (db *DB) DeletePurgedFolders(ctx context.Context, userID int64) (int, error) {
	// Two statements, each served by an index: a user's trash entries
	// (folders_user_trash_idx), or every expired and every purging one
	// (folders_purge_idx, folders_purging_idx).
	due := `SELECT id FROM folders WHERE user_id = $1 AND deleted_at IS NOT NULL AND trash_root_id IS NULL
			AND (purging_at IS NOT NULL OR purge_at <= now())`
	args := []any{userID}
	if userID == 0 {
		due = `SELECT id FROM folders WHERE deleted_at IS NOT NULL AND trash_root_id IS NULL AND purge_at <= now()
			UNION SELECT id FROM folders WHERE purging_at IS NOT NULL AND trash_root_id IS NULL`
		args = nil
	}
	tag, err := db.Pool.Exec(ctx, `DELETE FROM folders fo WHERE id IN (`+due+`)
		AND NOT EXISTS (SELECT 1 FROM files WHERE trash_folder_id = fo.id)`, args...)
	if err != nil {
		return 0, fmt.Errorf("delete purged folders: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
