package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
)

// Errors of the upload session store.
var (
	ErrUploadNotFound  = core.Errorf(core.CodeUploadNotFound, "upload not found (it may have expired, completed or been aborted)")
	ErrUploadForbidden = core.Errorf(core.CodeForbidden, "this upload belongs to another user")
	// ErrUploadEnding: the session was marked ending (aborted, its account
	// deleted, expired) while a completion held it (ReleaseUpload).
	ErrUploadEnding = core.Errorf(core.CodeUploadNotFound, "upload not found: it was cancelled while being completed")
)

// held is true of a session some completion holds (LeaseUpload) and may
// still be asking the hot tier to assemble: its ender leaves the row to
// that completion.
const held = `(assemblers > 0 AND assembling_until > now())`

const uploadColumns = `id::text, user_id, object_key, storage_upload_id, filename, original_filename,
	declared_size, content_type, part_size, created_at, expires_at, assembled_at, finish_until`

func scanUpload(row pgx.Row) (core.UploadSession, error) {
	var s core.UploadSession
	err := row.Scan(&s.ID, &s.UserID, &s.ObjectKey, &s.StorageUploadID, &s.Filename, &s.OriginalFilename,
		&s.Size, &s.ContentType, &s.PartSize, &s.CreatedAt, &s.ExpiresAt, &s.AssembledAt, &s.FinishUntil)
	return s, err
}

// ownedUpload maps a scanned session to ErrUploadNotFound (none, or
// expired at now) or ErrUploadForbidden (another user's).
func ownedUpload(s core.UploadSession, err error, userID int64, now time.Time) (core.UploadSession, error) {
	if errors.Is(err, pgx.ErrNoRows) {
		return core.UploadSession{}, ErrUploadNotFound
	}
	if err != nil {
		return core.UploadSession{}, fmt.Errorf("select upload session: %w", err)
	}
	if s.UserID != userID {
		return core.UploadSession{}, ErrUploadForbidden
	}
	if !now.Before(s.ExpiresAt) {
		return core.UploadSession{}, ErrUploadNotFound
	}
	return s, nil
}

// UploadQuota caps one user's open upload sessions: how many, and the
// bytes their declared sizes add up to.
type UploadQuota struct {
	Sessions int
	Bytes    int64
}

// Errors of the upload quota.
var (
	ErrTooManyUploads = &core.Error{Code: core.CodeTooManyUploads, Message: "too many uploads in progress: complete or cancel one first", RetryAfter: 60}
	ErrUploadQuota    = core.Errorf(core.CodeUploadQuota, "the uploads in progress would add up to more than you may upload at once: complete or cancel one first")
)

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// checkQuota returns ErrTooManyUploads or ErrUploadQuota when one more
// session of size bytes would take userID over q.
func checkQuota(ctx context.Context, db querier, userID, size int64, q UploadQuota) error {
	var n int
	var bytes int64
	if err := db.QueryRow(ctx, `SELECT count(*), coalesce(sum(declared_size), 0) FROM upload_sessions
		WHERE user_id = $1 AND expires_at > now()`, userID).Scan(&n, &bytes); err != nil {
		return fmt.Errorf("count open uploads of user %d: %w", userID, err)
	}
	switch {
	case n+1 > q.Sessions:
		return ErrTooManyUploads
	case bytes+size > q.Bytes:
		return ErrUploadQuota
	}
	return nil
}

// CheckUploadQuota returns ErrTooManyUploads or ErrUploadQuota when a new
// session of size bytes would take userID over q (a check before any work;
// CreateUpload checks again).
func (db *DB) CheckUploadQuota(ctx context.Context, userID, size int64, q UploadQuota) error {
	return checkQuota(ctx, db.Pool, userID, size, q)
}

// CreateUpload records a new upload session unless it would take its user
// over q (ErrTooManyUploads, ErrUploadQuota) or the user's account is being
// deleted (ErrUserNotFound): the check and the insert are one transaction
// holding the user's row, so concurrent creations cannot pass the caps
// together and none follows the account's deletion mark. CreatedAt is
// filled in.
func (db *DB) CreateUpload(ctx context.Context, s *core.UploadSession, q UploadQuota) error {
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin create upload: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	// NO KEY UPDATE: serialises a user's creations without blocking the
	// key-share locks of inserts that reference the user.
	var live bool
	err = tx.QueryRow(ctx, `SELECT true FROM users WHERE id = $1 AND deleting_at IS NULL FOR NO KEY UPDATE`, s.UserID).Scan(&live)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrUserNotFound // the account is being deleted
	}
	if err != nil {
		return fmt.Errorf("lock user %d: %w", s.UserID, err)
	}
	if err := checkQuota(ctx, tx, s.UserID, s.Size, q); err != nil {
		return err
	}
	err = tx.QueryRow(ctx, `INSERT INTO upload_sessions
		(id, user_id, object_key, storage_upload_id, filename, original_filename, declared_size, content_type, part_size, expires_at, folder_id)
		VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING created_at`,
		s.ID, s.UserID, s.ObjectKey, s.StorageUploadID, s.Filename, s.OriginalFilename, s.Size, s.ContentType, s.PartSize, s.ExpiresAt, s.FolderID,
	).Scan(&s.CreatedAt)
	if err != nil {
		return fmt.Errorf("insert upload session: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit upload session: %w", err)
	}
	return nil
}

// UploadForUser returns session id if userID owns it and it has not
// expired at now: ErrUploadNotFound when it does not exist, has expired or
// is being ended,
// ErrUploadForbidden when another user owns it. id must be a UUID.
func (db *DB) UploadForUser(ctx context.Context, userID int64, id string, now time.Time) (core.UploadSession, error) {
	s, err := scanUpload(db.Pool.QueryRow(ctx, `SELECT `+uploadColumns+` FROM upload_sessions WHERE id = $1::uuid AND ending_at IS NULL`, id))
	return ownedUpload(s, err, userID, now)
}

// LeaseUpload holds session id of userID for a completion that is about to
// ask the hot tier to assemble its object, until until (the completion's
// deadline): the completion counts among the session's assemblers until it
// lets go (ReleaseUpload, EndHeldUpload) or until passes, so that an ender
// leaves the row to it (EndUpload), and the janitor leaves the session alone
// for an hour past until. Errors as UploadForUser.
func (db *DB) LeaseUpload(ctx context.Context, userID int64, id string, now, until time.Time) (core.UploadSession, error) {
	s, err := scanUpload(db.Pool.QueryRow(ctx, `UPDATE upload_sessions SET
		expires_at = greatest(expires_at, $4::timestamptz + interval '1 hour'),
		assemblers = CASE WHEN assembling_until > $3 THEN assemblers + 1 ELSE 1 END,
		assembling_until = greatest(assembling_until, $4)
		WHERE id = $1::uuid AND user_id = $2 AND expires_at > $3 AND ending_at IS NULL RETURNING `+uploadColumns, id, userID, now, until))
	if errors.Is(err, pgx.ErrNoRows) {
		// Tell "another user's" from "none or expired".
		return db.UploadForUser(ctx, userID, id, now)
	}
	return ownedUpload(s, err, userID, now)
}

// ReleaseUpload lets go of a completion's hold (LeaseUpload) on session id
// once the hot tier has answered its request to assemble the object (or it
// was never sent). When the session was marked ending meanwhile it returns
// ErrUploadEnding and keeps the hold: its ender has left the row, and what
// the tier assembled after the ender's discard, to this completion, which
// ends it with EndHeldUpload. ErrUploadNotFound when the session is gone (a
// concurrent completion recorded it).
func (db *DB) ReleaseUpload(ctx context.Context, id string) error {
	tag, err := db.Pool.Exec(ctx, `UPDATE upload_sessions SET assemblers = greatest(assemblers - 1, 0)
		WHERE id = $1::uuid AND ending_at IS NULL`, id)
	if err != nil {
		return fmt.Errorf("release upload %s: %w", id, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM upload_sessions WHERE id = $1::uuid`, id).Scan(&n); err != nil {
		return fmt.Errorf("release upload %s: %w", id, err)
	}
	if n == 0 {
		return ErrUploadNotFound
	}
	return ErrUploadEnding
}

// ClaimFinish marks session id of userID completing (the hot tier has
// assembled its object) and leases the rest of its completion to the
// caller until until, unless another caller holds an unexpired lease: then
// claimed is false and the session is returned as it is. The session is
// kept from the janitor for an hour past the lease. Errors as
// UploadForUser.
func (db *DB) ClaimFinish(ctx context.Context, userID int64, id string, now, until time.Time) (s core.UploadSession, claimed bool, err error) {
	s, err = scanUpload(db.Pool.QueryRow(ctx, `UPDATE upload_sessions SET assembled_at = coalesce(assembled_at, $3),
		finish_until = $4, expires_at = greatest(expires_at, $4::timestamptz + interval '1 hour')
		WHERE id = $1::uuid AND user_id = $2 AND expires_at > $3 AND ending_at IS NULL AND (finish_until IS NULL OR finish_until <= $3)
		RETURNING `+uploadColumns, id, userID, now, until))
	if errors.Is(err, pgx.ErrNoRows) {
		s, err = db.UploadForUser(ctx, userID, id, now)
		return s, false, err
	}
	s, err = ownedUpload(s, err, userID, now)
	return s, err == nil, err
}

// ReleaseFinish gives up the lease of ClaimFinish on session id, so that
// the next request finishes its completion at once. The session stays
// completing.
func (db *DB) ReleaseFinish(ctx context.Context, id string) error {
	if _, err := db.Pool.Exec(ctx, `UPDATE upload_sessions SET finish_until = NULL WHERE id = $1::uuid`, id); err != nil {
		return fmt.Errorf("release completion of upload %s: %w", id, err)
	}
	return nil
}

// CompleteUpload records the file of a completed upload and ends session
// id in one transaction. ErrUploadNotFound means the session was ended or
// is being ended meanwhile (aborted, expired, or completed by a concurrent
// request) or its account is being deleted; then nothing is written.
func (db *DB) CompleteUpload(ctx context.Context, id string, f *core.File) error {
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin complete upload: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	if err := lockLiveUser(ctx, tx, f.UserID); errors.Is(err, ErrUserNotFound) {
		return ErrUploadNotFound // the account's deletion ends the session
	} else if err != nil {
		return err
	}
	var folder *int64
	err = tx.QueryRow(ctx, `DELETE FROM upload_sessions WHERE id = $1::uuid AND ending_at IS NULL RETURNING folder_id`, id).Scan(&folder)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrUploadNotFound
	}
	if err != nil {
		return fmt.Errorf("end upload session %s: %w", id, err)
	}
	// The session's folder if it is still live (else the root: the file
	// is not lost to a folder deleted meanwhile), and a free name there,
	// as RecordUpload (file_name_pick's lock holds until the commit).
	var pick *int
	var originals, stored []string
	for b := 0; pick == nil; b++ {
		if b == maxNameBlocks {
			return ErrNamesExhausted
		}
		if originals, stored, err = nameCandidates(f.OriginalFilename, b); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT o_folder, o_pick FROM file_name_pick($1, $2::bigint, $3::text[])`,
			f.UserID, folder, originals).Scan(&f.FolderID, &pick); err != nil {
			return fmt.Errorf("name the file of upload %s: %w", id, err)
		}
	}
	f.Filename, f.OriginalFilename = stored[*pick-1], originals[*pick-1]
	err = tx.QueryRow(ctx, `INSERT INTO files
		(user_id, filename, original_filename, file_size, content_type, storage_location, object_key, access_url, checksum_sha256,
		checksum_crc64nvme, hot_etag, storage_class, upload_id, folder_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::uuid, $14::bigint) RETURNING id, uploaded_at`,
		f.UserID, f.Filename, f.OriginalFilename, f.Size, f.ContentType, string(f.Location), f.ObjectKey, f.AccessURL, nullable(f.ChecksumSHA256),
		nullable(f.ChecksumCRC64NVME), nullable(f.HotETag), storageClass(f), id, f.FolderID,
	).Scan(&f.ID, &f.UploadedAt)
	if err != nil {
		return fmt.Errorf("insert file of upload %s: %w", id, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit upload %s: %w", id, err)
	}
	return nil
}

// CompletedUpload returns the file that upload id was completed into:
// ErrUploadNotFound when there is none (never completed, or the file was
// deleted or trashed since), ErrUploadForbidden when another user owns it. id must be
// a UUID.
func (db *DB) CompletedUpload(ctx context.Context, userID int64, id string) (core.File, error) {
	f, err := scanFile(db.Pool.QueryRow(ctx, `SELECT `+fileColumns+` FROM files WHERE upload_id = $1::uuid AND deleted_at IS NULL`, id))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return core.File{}, ErrUploadNotFound
	case err != nil:
		return core.File{}, fmt.Errorf("select file of upload %s: %w", id, err)
	case f.UserID != userID:
		return core.File{}, ErrUploadForbidden
	}
	return f, nil
}

// EndUpload ends session id of userID. It marks the session ending in a
// statement of its own (from then on no lease, completion or file record
// can take it: a completion that recorded its file first wins, and this
// finds no session), calls discard with the session with no transaction
// open, and deletes the row only if discard succeeds and no completion
// holds the session (LeaseUpload): the tier may assemble the object of a
// held session after discard, and the completion then removes it and the
// row (EndHeldUpload). A session whose discard failed stays marked: a
// retry, or the janitor after ten minutes, ends it. Expired and
// already-marked sessions can be ended too. Errors: ErrUploadNotFound,
// ErrUploadForbidden, or discard's error.
func (db *DB) EndUpload(ctx context.Context, userID int64, id string, discard func(core.UploadSession) error) error {
	return db.endUpload(ctx, userID, id, discard, false)
}

// EndHeldUpload is EndUpload for the completion holding session id (after
// ReleaseUpload's ErrUploadEnding): it lets go of its hold after discard,
// then deletes the row unless another completion still holds it.
func (db *DB) EndHeldUpload(ctx context.Context, userID int64, id string, discard func(core.UploadSession) error) error {
	return db.endUpload(ctx, userID, id, discard, true)
}

func (db *DB) endUpload(ctx context.Context, userID int64, id string, discard func(core.UploadSession) error, holder bool) error {
	s, err := scanUpload(db.Pool.QueryRow(ctx, `UPDATE upload_sessions SET ending_at = coalesce(ending_at, now())
		WHERE id = $1::uuid AND user_id = $2 RETURNING `+uploadColumns, id, userID))
	if errors.Is(err, pgx.ErrNoRows) {
		var owner int64 // none, or another user's
		switch err := db.Pool.QueryRow(ctx, `SELECT user_id FROM upload_sessions WHERE id = $1::uuid`, id).Scan(&owner); {
		case errors.Is(err, pgx.ErrNoRows):
			return ErrUploadNotFound
		case err != nil:
			return fmt.Errorf("select upload session %s: %w", id, err)
		}
		return ErrUploadForbidden
	}
	if err != nil {
		return fmt.Errorf("mark upload %s ending: %w", id, err)
	}
	derr := discard(s)
	if holder {
		if _, err := db.Pool.Exec(ctx, `UPDATE upload_sessions SET assemblers = greatest(assemblers - 1, 0) WHERE id = $1::uuid`, id); err != nil {
			return fmt.Errorf("release upload %s: %w", id, err)
		}
	}
	if derr != nil {
		return fmt.Errorf("discard upload %s: %w", id, derr)
	}
	if _, err := db.Pool.Exec(ctx, `DELETE FROM upload_sessions WHERE id = $1::uuid AND NOT `+held, id); err != nil {
		return fmt.Errorf("delete upload session %s: %w", id, err)
	}
	return nil
}

// endingRetry is how long a session marked ending is left to its ender
// before the janitor takes it over.
const endingRetry = 10 * time.Minute

// EndExpiredUploads ends up to limit sessions, oldest first: those that
// expired before now and those marked ending longer than endingRetry ago
// (an ender that crashed or could not discard), unless a completion holds
// them (LeaseUpload; it ends them itself). It marks them in one
// statement (skipping rows another transaction holds, and taking over the
// marks it renews, so two janitors do not take the same session), calls
// discard for each with no transaction open, and deletes the rows whose
// discard succeeded; a failing session is left for a later run. It returns
// how many ended and the first discard error.
func (db *DB) EndExpiredUploads(ctx context.Context, now time.Time, limit int, discard func(core.UploadSession) error) (int, error) {
	rows, err := db.Pool.Query(ctx, `UPDATE upload_sessions SET ending_at = $1 WHERE id IN (
		SELECT id FROM upload_sessions WHERE ((expires_at <= $1 AND ending_at IS NULL) OR ending_at <= $3)
			AND NOT (assemblers > 0 AND assembling_until > $1)
		ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING `+uploadColumns, now, limit, now.Add(-endingRetry))
	if err != nil {
		return 0, fmt.Errorf("mark expired uploads ending: %w", err)
	}
	expired, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.UploadSession, error) { return scanUpload(r) })
	if err != nil {
		return 0, fmt.Errorf("mark expired uploads ending: %w", err)
	}
	var ended []string
	var firstErr error
	for _, s := range expired {
		if err := discard(s); err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("discard expired upload %s: %w", s.ID, err)
			}
			continue
		}
		ended = append(ended, s.ID)
	}
	if len(ended) > 0 {
		if _, err := db.Pool.Exec(ctx, `DELETE FROM upload_sessions WHERE id = ANY($1::uuid[])`, ended); err != nil {
			return 0, fmt.Errorf("delete expired uploads: %w", err)
		}
	}
	return len(ended), firstErr
}
