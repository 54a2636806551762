package postgres

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
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
)

const fileColumns = `id, user_id, filename, original_filename, file_size, content_type, storage_location,
	object_key, access_url, checksum_sha256, checksum_crc64nvme, hot_etag, storage_class, uploaded_at, synced_at, deleted_at, purge_at`

func scanFile(row pgx.Row) (core.File, error) {
	var f core.File
	var loc string
	var sha, crc, etag *string
	err := row.Scan(&f.ID, &f.UserID, &f.Filename, &f.OriginalFilename, &f.Size, &f.ContentType, &loc,
		&f.ObjectKey, &f.AccessURL, &sha, &crc, &etag, &f.StorageClass, &f.UploadedAt, &f.SyncedAt, &f.DeletedAt, &f.PurgeAt)
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
func (db *DB) CreateFile(ctx context.Context, f *core.File) error {
	err := db.Pool.QueryRow(ctx, `INSERT INTO files
		(user_id, filename, original_filename, file_size, content_type, storage_location, object_key, access_url, checksum_sha256,
		checksum_crc64nvme, hot_etag, storage_class)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id, uploaded_at`,
		f.UserID, f.Filename, f.OriginalFilename, f.Size, f.ContentType, string(f.Location), f.ObjectKey, f.AccessURL, nullable(f.ChecksumSHA256),
		nullable(f.ChecksumCRC64NVME), nullable(f.HotETag), storageClass(f),
	).Scan(&f.ID, &f.UploadedAt)
	if err != nil {
		return fmt.Errorf("insert file: %w", err)
	}
	return nil
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

// ListParams filter and page a user's file list.
type ListParams struct {
	Limit    int       // 1..200
	Cursor   string    // opaque, from a previous page's next cursor
	Query    string    // literal, case-insensitive substring of the name
	Location core.Tier // empty: both tiers
}

// ListFiles returns a page of userID's files, newest first, and the cursor
// of the next page ("" on the last page). A malformed cursor yields
// ErrBadCursor.
func (db *DB) ListFiles(ctx context.Context, userID int64, p ListParams) ([]core.File, string, error) {
	args := []any{userID}
	where := []string{"user_id = $1", "deleted_at IS NULL"}
	if p.Cursor != "" {
		at, id, err := decodeCursor(p.Cursor)
		if err != nil {
			return nil, "", ErrBadCursor
		}
		args = append(args, at, id)
		where = append(where, fmt.Sprintf("(uploaded_at, id) < ($%d, $%d)", len(args)-1, len(args)))
	}
	if p.Query != "" {
		args = append(args, "%"+escapeLike(p.Query)+"%")
		where = append(where, fmt.Sprintf("original_filename ILIKE $%d", len(args)))
	}
	if p.Location != "" {
		args = append(args, string(p.Location))
		where = append(where, fmt.Sprintf("storage_location = $%d", len(args)))
	}
	args = append(args, p.Limit+1)
	q := `SELECT ` + fileColumns + ` FROM files WHERE ` + strings.Join(where, " AND ") +
		fmt.Sprintf(` ORDER BY uploaded_at DESC, id DESC LIMIT $%d`, len(args))
	rows, err := db.Pool.Query(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list files: %w", err)
	}
	files, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.File, error) { return scanFile(r) })
	if err != nil {
		return nil, "", fmt.Errorf("list files: %w", err)
	}
	next := ""
	if len(files) > p.Limit {
		files = files[:p.Limit]
		last := files[len(files)-1]
		next = encodeCursor(last.UploadedAt, last.ID)
	}
	return files, next, nil
}

// escapeLike makes s match literally inside a LIKE pattern (default escape
// character backslash).
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func encodeCursor(at time.Time, id int64) string {
	raw := strconv.FormatInt(at.UnixMicro(), 10) + ":" + strconv.FormatInt(id, 10)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeCursor(c string) (time.Time, int64, error) {
	if len(c) > 64 {
		return time.Time{}, 0, errors.New("cursor too long")
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, 0, err
	}
	us, ids, ok := strings.Cut(string(raw), ":")
	if !ok {
		return time.Time{}, 0, errors.New("cursor has no separator")
	}
	micros, err := strconv.ParseInt(us, 10, 64)
	if err != nil {
		return time.Time{}, 0, err
	}
	id, err := strconv.ParseInt(ids, 10, 64)
	if err != nil || id <= 0 {
		return time.Time{}, 0, errors.New("cursor id is not positive")
	}
	return time.UnixMicro(micros).UTC(), id, nil
}
