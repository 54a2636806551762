package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
)

// Errors of the share store.
var (
	ErrShareNotFound  = core.Errorf(core.CodeShareNotFound, "share not found")
	ErrShareGone      = core.Errorf(core.CodeShareGone, "this share link has expired, was revoked, has no downloads left, or its file was deleted")
	ErrShareForbidden = core.Errorf(core.CodeForbidden, "this share belongs to another user")
	ErrTooManyShares  = core.Errorf(core.CodeValidation, "a file has at most %d live share links: revoke one first", core.MaxLiveShares)
)

const shareColumns = `s.id, coalesce(s.file_id, 0), s.user_id, coalesce(s.password_hash, ''), s.expires_at, s.max_downloads,
	s.downloads, s.revoked_at, s.created_at`

// shareLive is the condition of a share that still serves its file, over
// shares s, files f (LEFT JOIN: NULL once deleted) and users u.
const shareLive = `s.revoked_at IS NULL AND s.expires_at > now()
	AND (s.max_downloads IS NULL OR s.downloads < s.max_downloads)
	AND f.id IS NOT NULL AND f.deleted_at IS NULL AND u.deleting_at IS NULL`

func scanShare(row pgx.Row, extra ...any) (core.Share, error) {
	var s core.Share
	var maxDl *int32
	dest := append([]any{&s.ID, &s.FileID, &s.UserID, &s.PasswordHash, &s.ExpiresAt, &maxDl, &s.Downloads, &s.RevokedAt, &s.CreatedAt}, extra...)
	err := row.Scan(dest...)
	if maxDl != nil {
		n := int(*maxDl)
		s.MaxDownloads = &n
	}
	return s, err
}

// CreateShare records s (FileID, UserID, PasswordHash, ExpiresAt,
// MaxDownloads) under tokenHash, the SHA-256 of its token; ID, CreatedAt
// and ExpiresAt (as stored) are filled in. The file must be a live file of
// s.UserID with fewer than core.MaxLiveShares live shares: otherwise
// ErrFileNotFound, ErrForbidden or ErrTooManyShares. It also deletes up to
// 100 shares that ended 30 days ago or more.
func (db *DB) CreateShare(ctx context.Context, s *core.Share, tokenHash []byte) error {
	if _, err := db.FileForUser(ctx, s.UserID, s.FileID); err != nil {
		return err
	}
	var maxDl *int32
	if s.MaxDownloads != nil {
		n := int32(*s.MaxDownloads)
		maxDl = &n
	}
	err := db.Pool.QueryRow(ctx, `
		INSERT INTO shares (file_id, user_id, token_hash, password_hash, expires_at, max_downloads)
		SELECT f.id, $2, $3, $4, $5, $6 FROM files f
		WHERE f.id = $1 AND f.user_id = $2 AND f.deleted_at IS NULL
			AND (SELECT count(*) FROM shares s JOIN users u ON u.id = s.user_id
				WHERE s.file_id = f.id AND `+shareLive+`) < $7
		RETURNING id, created_at, expires_at`,
		s.FileID, s.UserID, tokenHash, nullable(s.PasswordHash), s.ExpiresAt, maxDl, core.MaxLiveShares,
	).Scan(&s.ID, &s.CreatedAt, &s.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		// The file went to the trash meanwhile, or has too many shares.
		return db.createShareRefused(ctx, s)
	}
	if err != nil {
		return fmt.Errorf("insert share of file %d: %w", s.FileID, err)
	}
	if _, err := db.Pool.Exec(ctx, `DELETE FROM shares WHERE id = ANY (ARRAY(
		SELECT id FROM shares WHERE expires_at < now() - interval '30 days' LIMIT 100))`); err != nil {
		return fmt.Errorf("delete ended shares: %w", err)
	}
	return nil
}

// CheckShareable returns nil when userID may add a share to file fileID
// now, so that a request bound to be refused is refused before any costly
// work (a password's hash): ErrFileNotFound or ErrForbidden as FileForUser,
// ErrTooManyShares when the file has core.MaxLiveShares live shares.
// CreateShare checks the same again as it inserts.
func (db *DB) CheckShareable(ctx context.Context, userID, fileID int64) error {
	if _, err := db.FileForUser(ctx, userID, fileID); err != nil {
		return err
	}
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM shares s
		JOIN files f ON f.id = s.file_id JOIN users u ON u.id = s.user_id
		WHERE s.file_id = $1 AND `+shareLive, fileID).Scan(&n); err != nil {
		return fmt.Errorf("count live shares of file %d: %w", fileID, err)
	}
	if n >= core.MaxLiveShares {
		return ErrTooManyShares
	}
	return nil
}

// createShareRefused says why CreateShare's insert did not happen.
func (db *DB) createShareRefused(ctx context.Context, s *core.Share) error {
	if _, err := db.FileForUser(ctx, s.UserID, s.FileID); err != nil {
		return err
	}
	return ErrTooManyShares
}

// LiveShares returns the live shares of file fileID of userID, newest
// first: ErrFileNotFound or ErrForbidden as FileForUser.
func (db *DB) LiveShares(ctx context.Context, userID, fileID int64) ([]core.Share, error) {
	if _, err := db.FileForUser(ctx, userID, fileID); err != nil {
		return nil, err
	}
	rows, err := db.Pool.Query(ctx, `SELECT `+shareColumns+` FROM shares s
		JOIN files f ON f.id = s.file_id JOIN users u ON u.id = s.user_id
		WHERE s.file_id = $1 AND s.user_id = $2 AND `+shareLive+`
		ORDER BY s.created_at DESC, s.id DESC LIMIT $3`, fileID, userID, core.MaxLiveShares)
	if err != nil {
		return nil, fmt.Errorf("list shares of file %d: %w", fileID, err)
	}
	defer rows.Close()
	var out []core.Share
	for rows.Next() {
		s, err := scanShare(rows)
		if err != nil {
			return nil, fmt.Errorf("scan share: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list shares of file %d: %w", fileID, err)
	}
	return out, nil
}

// RevokeShare ends share id of userID at once. Revoking a share already
// revoked (or otherwise ended) is not an error. ErrShareNotFound when no
// such share exists, ErrShareForbidden when another user's.
func (db *DB) RevokeShare(ctx context.Context, userID, id int64) error {
	var owner int64
	err := db.Pool.QueryRow(ctx, `
		WITH upd AS (UPDATE shares SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING user_id)
		SELECT user_id FROM upd UNION ALL SELECT user_id FROM shares WHERE id = $1 LIMIT 1`, id, userID).Scan(&owner)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return ErrShareNotFound
	case err != nil:
		return fmt.Errorf("revoke share %d: %w", id, err)
	case owner != userID:
		return ErrShareForbidden
	}
	return nil
}

// ShareByToken returns the share whose token hashes to tokenHash and its
// file (zero when deleted), Gone set when it no longer serves the file:
// ErrShareNotFound when no share has this token.
func (db *DB) ShareByToken(ctx context.Context, tokenHash []byte) (core.Share, core.File, error) {
	var f core.File
	var name, ctype *string
	var size *int64
	var gone bool
	s, err := scanShare(db.Pool.QueryRow(ctx, `SELECT `+shareColumns+`, f.original_filename, f.file_size, f.content_type,
		NOT (`+shareLive+`)
		FROM shares s LEFT JOIN files f ON f.id = s.file_id JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = $1`, tokenHash), &name, &size, &ctype, &gone)
	if errors.Is(err, pgx.ErrNoRows) {
		return core.Share{}, core.File{}, ErrShareNotFound
	}
	if err != nil {
		return core.Share{}, core.File{}, fmt.Errorf("select share: %w", err)
	}
	s.Gone = gone
	if s.FileID != 0 && name != nil {
		f.ID, f.UserID, f.OriginalFilename, f.ContentType = s.FileID, s.UserID, *name, deref(ctype)
		if size != nil {
			f.Size = *size
		}
	}
	return s, f, nil
}

// ClaimDownload counts one download of share id if it is still live, in one
// statement (parallel claims cannot pass max_downloads together), and
// returns its file as it is now (its current tier): ErrShareGone when the
// share no longer serves it.
func (db *DB) ClaimDownload(ctx context.Context, id int64) (core.File, error) {
	f, err := scanFile(db.Pool.QueryRow(ctx, `UPDATE shares s SET downloads = s.downloads + 1
		FROM files f, users u
		WHERE s.id = $1 AND f.id = s.file_id AND u.id = s.user_id AND `+shareLive+`
		RETURNING `+prefixed("f.", fileColumns), id))
	if errors.Is(err, pgx.ErrNoRows) {
		return core.File{}, ErrShareGone
	}
	if err != nil {
		return core.File{}, fmt.Errorf("count download of share %d: %w", id, err)
	}
	return f, nil
}
