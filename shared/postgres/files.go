package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
)

// Errors of the file store.
var (
	ErrFileNotFound = core.Errorf(core.CodeFileNotFound, "file not found")
	ErrForbidden    = core.Errorf(core.CodeForbidden, "this file belongs to another user")
	ErrBadCursor    = &core.Error{Code: core.CodeValidation, Message: "cursor is not valid", Field: "cursor"}
	// ErrCursorSort: a list's cursor used with another sort or order than
	// the page that issued it.
	ErrCursorSort = &core.Error{Code: core.CodeValidation, Message: "cursor belongs to another sort or order", Field: "cursor"}
)

const fileColumns = `id, user_id, filename, original_filename, file_size, content_type, storage_location,
	object_key, access_url, checksum_sha256, checksum_crc64nvme, hot_etag, storage_class, uploaded_at, synced_at, deleted_at, purge_at, folder_id`

func scanFile(row pgx.Row) (core.File, error) {
	var f core.File
	var loc string
	var sha, crc, etag *string
	err := row.Scan(&f.ID, &f.UserID, &f.Filename, &f.OriginalFilename, &f.Size, &f.ContentType, &loc,
		&f.ObjectKey, &f.AccessURL, &sha, &crc, &etag, &f.StorageClass, &f.UploadedAt, &f.SyncedAt, &f.DeletedAt, &f.PurgeAt, &f.FolderID)
	f.Location = core.Tier(loc)
	f.ChecksumSHA256, f.ChecksumCRC64NVME, f.HotETag = deref(sha), deref(crc), deref(etag)
	return f, err
}

// deref is *s, or "" for NULL.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// nullable is s, or NULL when empty.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// storageClass is the class of a new row: STANDARD unless set.
func storageClass(f *core.File) string {
	if f.StorageClass == "" {
		f.StorageClass = core.StorageStandard
	}
	return f.StorageClass
}

// CreateFile records an uploaded file; ID and UploadedAt are filled in.
// ErrUserNotFound when the account is being deleted or gone (its deletion
// marked it while the upload was under way): nothing is written.
func (db *DB) CreateFile(ctx context.Context, f *core.File) error {
	return db.RecordUpload(ctx, f, "")
}

// RecordUpload is CreateFile that also drops quota reservation reservation
// ("": none) once the file's row counts instead: one statement, which
// holds the user's row (FOR SHARE, against MarkUserDeleting) only for
// itself. When nothing is written the reservation stays for its owner to
// release. The file goes into f.FolderID when that is still a live folder
// of the user (locked FOR SHARE, against a trash of the folder), else into
// the root: a file uploaded is never lost to a folder deleted meanwhile. A
// name another live file there has gets a number (file_name_pick, names.go).
// f's folder and names say where it went and the name it got.
func (db *DB) RecordUpload(ctx context.Context, f *core.File, reservation string) error {
	for b := range maxNameBlocks {
		originals, stored, err := nameCandidates(f.OriginalFilename, b)
		if err != nil {
			return err
		}
		args := []any{f.UserID, stored, originals, f.Size, f.ContentType, string(f.Location), f.ObjectKey, f.AccessURL,
			nullable(f.ChecksumSHA256), nullable(f.ChecksumCRC64NVME), nullable(f.HotETag), storageClass(f), f.FolderID}
		// Without a reservation the statement has no DELETE: even one that
		// deletes nothing would fire the reservations' usage trigger.
		release := ""
		if reservation != "" {
			release = `, released AS (DELETE FROM quota_reservations WHERE id = $14::uuid AND EXISTS (SELECT 1 FROM ins))`
			args = append(args, reservation)
		}
		var id *int64
		var pick *int
		var at *time.Time
		var folder *int64
		err = db.Pool.QueryRow(ctx, `WITH live AS (
				SELECT id FROM users WHERE id = $1 AND deleting_at IS NULL FOR SHARE
			), pick AS (
				SELECT p.o_folder, p.o_pick FROM live, file_name_pick($1, $13::bigint, $3::text[]) p
			), ins AS (
				INSERT INTO files (user_id, filename, original_filename, file_size, content_type, storage_location, object_key,
					access_url, checksum_sha256, checksum_crc64nvme, hot_etag, storage_class, folder_id)
				SELECT $1, ($2::text[])[o_pick], ($3::text[])[o_pick], $4::bigint, $5, $6, $7, $8, $9, $10, $11, $12, o_folder
				FROM pick WHERE o_pick IS NOT NULL RETURNING id, uploaded_at
			)`+release+`
			SELECT p.o_pick, p.o_folder, i.id, i.uploaded_at FROM pick p LEFT JOIN ins i ON true`, args...).Scan(&pick, &folder, &id, &at)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrUserNotFound
		}
		if err != nil {
			return fmt.Errorf("insert file: %w", err)
		}
		if pick == nil {
			continue // every name of the block is taken: the next block
		}
		f.ID, f.UploadedAt, f.FolderID = *id, *at, folder
		f.Filename, f.OriginalFilename = stored[*pick-1], originals[*pick-1]
		return nil
	}
	return ErrNamesExhausted
}

// FileForUser returns file id if userID owns it: ErrFileNotFound when no
// such file exists or it is in the trash, ErrForbidden when another user
// owns it.
func (db *DB) FileForUser(ctx context.Context, userID, id int64) (core.File, error) {
	f, err := scanFile(db.Pool.QueryRow(ctx, `SELECT `+fileColumns+` FROM files WHERE id = $1 AND deleted_at IS NULL`, id))
	return ownedFile(f, err, userID)
}

func ownedFile(f core.File, err error, userID int64) (core.File, error) {
	if errors.Is(err, pgx.ErrNoRows) {
		return core.File{}, ErrFileNotFound
	}
	if err != nil {
		return core.File{}, fmt.Errorf("select file: %w", err)
	}
	if f.UserID != userID {
		return core.File{}, ErrForbidden
	}
	return f, nil
}

// FileChange is what UpdateFile changes: the names when Stored is set
// (Stored and Original from core.RenameFilenames), the folder when Move is
// (FolderID nil: the root).
type FileChange struct {
	Stored, Original string
	Move             bool
	FolderID         *int64
}

// UpdateFile renames and/or moves userID's live file id and returns it:
// metadata only, the object key and every tier's object stay as they are.
// The target folder is locked FOR SHARE by the statement, so a file never
// lands in a folder that went to the trash. Errors as FileForUser, and
// ErrFolderNotFound / ErrFolderForbidden for the target folder.
func (db *DB) UpdateFile(ctx context.Context, userID, id int64, c FileChange) (core.File, error) {
	f, err := scanFile(db.Pool.QueryRow(ctx, `WITH dest AS (
			SELECT id FROM folders WHERE id = $6::bigint AND user_id = $2 AND deleted_at IS NULL FOR SHARE
		) UPDATE files SET filename = coalesce(nullif($3, ''), filename), original_filename = coalesce(nullif($4, ''), original_filename),
			folder_id = CASE WHEN $5 THEN (SELECT id FROM dest) ELSE folder_id END, updated_at = now()
		WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL AND (NOT $5 OR $6::bigint IS NULL OR EXISTS (SELECT 1 FROM dest))
		RETURNING `+fileColumns, id, userID, c.Stored, c.Original, c.Move, c.FolderID))
	if errors.Is(err, pgx.ErrNoRows) {
		// Not found, or another user's (ErrForbidden), or the folder is
		// not a live one of the user's; live again by now (restored
		// meanwhile): not changed, so not found.
		if _, err := db.FileForUser(ctx, userID, id); err != nil {
			return core.File{}, err
		}
		if c.Move && c.FolderID != nil {
			if _, err := liveFolder(ctx, db.Pool, userID, *c.FolderID); err != nil {
				return core.File{}, err
			}
		}
		return core.File{}, ErrFileNotFound
	}
	if err != nil {
		return core.File{}, fmt.Errorf("update file %d: %w", id, err)
	}
	return f, nil
}

// MoveFiles moves those of ids that are userID's live files into folder
// (nil: the root), in one statement, and returns the ids it moved (in no
// order). ErrFolderNotFound / ErrFolderForbidden when folder is not a
// live folder of the user's (then nothing moved); that is looked up only
// when nothing moved, the caller having checked the folder before.
func (db *DB) MoveFiles(ctx context.Context, userID int64, ids []int64, folder *int64) ([]int64, error) {
	done, err := db.updatedIDs(ctx, fmt.Sprintf("move %d files of user %d", len(ids), userID), `WITH dest AS (
			SELECT id FROM folders WHERE id = $3::bigint AND user_id = $1 AND deleted_at IS NULL FOR SHARE
		) UPDATE files SET folder_id = (SELECT id FROM dest), updated_at = now()
		WHERE user_id = $1 AND id = ANY($2) AND deleted_at IS NULL AND ($3::bigint IS NULL OR EXISTS (SELECT 1 FROM dest))
		RETURNING id`, userID, ids, folder)
	if err != nil {
		return nil, err
	}
	if len(done) == 0 && folder != nil {
		// The folder went to the trash meanwhile?
		if _, err := liveFolder(ctx, db.Pool, userID, *folder); err != nil {
			return nil, err
		}
	}
	return done, nil
}

// DeleteFile deletes file id of userID without waiting for the sync job
// and with no transaction open across network I/O: it reads the row, calls
// removeObjects with the file (the objects of both tiers), and only if that
// succeeds deletes the row, so a failed removal leaves the metadata in place
// and the file still downloadable. A sync job copying the file meanwhile
// holds a lease, not a lock: its fenced flip then finds no row and it
// removes the cold copy it wrote (postgres.FlipSynced, FenceGone).
func (db *DB) DeleteFile(ctx context.Context, userID, id int64, removeObjects func(core.File) error) (core.File, error) {
	f, err := db.FileForUser(ctx, userID, id)
	if err != nil {
		return core.File{}, err
	}
	if err := removeObjects(f); err != nil {
		return core.File{}, fmt.Errorf("remove objects of file %d: %w", id, err)
	}
	if _, err := db.Pool.Exec(ctx, `DELETE FROM files WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL`, id, userID); err != nil {
		return core.File{}, fmt.Errorf("delete file %d: %w", id, err)
	}
	return f, nil
}

// ListParams filter, sort and page a user's file list.
type ListParams struct {
	Limit    int            // 1..200
	Cursor   string         // opaque, from a previous page's next cursor of the same sort and order
	Query    string         // literal, case-insensitive substring of the name
	Location core.Tier      // empty: both tiers
	Sort     core.FileSort  // empty: core.DefaultFileSort
	Order    core.SortOrder // empty: the sort's DefaultOrder
	// InFolder lists the files of one folder only: FolderID (0: the root).
	// Without it, the files of every folder.
	InFolder bool
	FolderID int64
}

// sortColumns are the list's sort keys as SQL, each served by a partial
// index on (user_id, key, id) WHERE deleted_at IS NULL, scanned forwards
// or backwards (migrations 00011 and 00023). Names compare by
// lower(original_filename) in the "C" collation: case folded by the
// database's LC_CTYPE, then ordered by code point, the same on every
// server whatever its LC_COLLATE.
var sortColumns = map[core.FileSort]string{
	core.SortName:       `lower(original_filename) COLLATE "C"`,
	core.SortSize:       `file_size`,
	core.SortUploadedAt: `uploaded_at`,
}

// ListFiles returns a page of userID's live files in p's sort and order,
// ties broken by id in the same direction, and the cursor of the next page
// ("" on the last page). A malformed cursor yields ErrBadCursor; one of
// another sort or order, ErrCursorSort; an unknown sort or order, a
// validation error naming it.
func (db *DB) ListFiles(ctx context.Context, userID int64, p ListParams) ([]core.File, string, error) {
	if err := core.CheckSort(p.Sort, p.Order); err != nil {
		return nil, "", err
	}
	if p.Sort == "" {
		p.Sort = core.DefaultFileSort
	}
	if p.Order == "" {
		p.Order = p.Sort.DefaultOrder()
	}
	key, dir, after := sortColumns[p.Sort], "ASC", ">"
	if p.Order == core.OrderDesc {
		dir, after = "DESC", "<"
	}
	args := []any{userID}
	where := []string{"user_id = $1", "deleted_at IS NULL"}
	if p.Cursor != "" {
		c, err := decodeCursor(p.Cursor)
		if err != nil {
			return nil, "", ErrBadCursor
		}
		if c.Sort != p.Sort || c.Order != p.Order {
			return nil, "", ErrCursorSort
		}
		args = append(args, c.keyArg(), c.ID)
		param := fmt.Sprintf("$%d", len(args)-1)
		if p.Sort == core.SortName {
			param = fmt.Sprintf(`lower($%d) COLLATE "C"`, len(args)-1)
		}
		where = append(where, fmt.Sprintf("(%s, id) %s (%s, $%d)", key, after, param, len(args)))
	}
	if p.Query != "" {
		args = append(args, "%"+escapeLike(p.Query)+"%")
		where = append(where, fmt.Sprintf("original_filename ILIKE $%d", len(args)))
	}
	if p.InFolder {
		// coalesce(folder_id, 0): the expression of the files_folder_*
		// indexes (00024).
		args = append(args, p.FolderID)
		where = append(where, fmt.Sprintf("coalesce(folder_id, 0) = $%d", len(args)))
	}
	if p.Location != "" {
		args = append(args, string(p.Location))
		where = append(where, fmt.Sprintf("storage_location = $%d", len(args)))
	}
	args = append(args, p.Limit+1)
	q := `SELECT ` + fileColumns + ` FROM files WHERE ` + strings.Join(where, " AND ") +
		fmt.Sprintf(` ORDER BY %s %s, id %s LIMIT $%d`, key, dir, dir, len(args))
	rows, err := db.Pool.Query(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list files by %s %s: %w", p.Sort, p.Order, err)
	}
	files, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.File, error) { return scanFile(r) })
	if err != nil {
		return nil, "", fmt.Errorf("list files by %s %s: %w", p.Sort, p.Order, err)
	}
	next := ""
	if len(files) > p.Limit {
		files = files[:p.Limit]
		next = cursorAfter(p.Sort, p.Order, files[len(files)-1]).encode()
	}
	return files, next, nil
}

// escapeLike makes s match literally inside a LIKE pattern (default escape
// character backslash).
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
