package postgres

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
)

// syncLockKey is the PostgreSQL advisory lock key held by an exclusive sync
// run ("hsync" in ASCII), shared by every process and Lambda on the database.
const syncLockKey int64 = 0x6873796e63

// Moved is what a sync move wrote to the cold tier: the row records it.
type Moved struct {
	AccessURL    string
	StorageClass string // the class written
	// CRC64NVME is the file's full-object CRC64NVME, computed by the move
	// from the bytes it read when the row had none; a row that has one
	// keeps it.
	CRC64NVME string
	// SHA256 is the file's SHA-256 (hex), computed by the move from the
	// bytes it read; it fills a row that has none yet (a presigned upload,
	// recorded without reading its bytes), and a row that has one keeps it.
	SHA256 string
}

// Fence is what a statement fenced on a sync lease found.
type Fence int

const (
	FenceHeld Fence = iota // the row is still the caller's: the statement applied
	FenceGone              // the row no longer exists (its owner deleted the file)
	FenceLost              // the row exists but is not the caller's: another worker took the lease, or it is in s3
)

func (f Fence) String() string {
	return [...]string{"held", "gone", "lost"}[f]
}

// ClaimSyncBatch leases up to limit hot-tier files to owner for lease, the
// oldest first, files in the trash left out, in one short statement: rows locked by another claim are
// skipped (FOR UPDATE SKIP LOCKED), rows leased by a live lease are left
// out, and so are rows a worker of the same run released after failing
// them (a run does not try a file twice, however many workers it has). An
// owner is run-<id>/<worker>; its run is what precedes the first slash. A
// row whose lease expired (its worker died) is claimable again, by the
// same run's other workers too. Nothing stays locked after it returns.
func (db *DB) ClaimSyncBatch(ctx context.Context, owner string, limit int, lease time.Duration) ([]core.File, error) {
	rows, err := db.Pool.Query(ctx, `WITH c AS (
			SELECT id FROM files
			WHERE storage_location = 'minio' AND deleted_at IS NULL AND (sync_lease_until IS NULL OR sync_lease_until < now())
				AND NOT (sync_lease_until IS NULL AND sync_owner IS NOT NULL
					AND split_part(sync_owner, '/', 1) = split_part($1, '/', 1))
			ORDER BY uploaded_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
		UPDATE files f SET sync_owner = $1, sync_lease_until = now() + make_interval(secs => $3)
		FROM c WHERE f.id = c.id
		RETURNING `+prefixed("f.", fileColumns), owner, limit, lease.Seconds())
	if err != nil {
		return nil, fmt.Errorf("claim files for sync: %w", err)
	}
	files, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.File, error) { return scanFile(r) })
	if err != nil {
		return nil, fmt.Errorf("claim files for sync: %w", err)
	}
	sort.Slice(files, func(i, k int) bool {
		a, b := files[i], files[k]
		return a.UploadedAt.Before(b.UploadedAt) || a.UploadedAt.Equal(b.UploadedAt) && a.ID < b.ID
	})
	return files, nil
}

func prefixed(p, columns string) string {
	parts := strings.Split(columns, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// RenewSyncLeases extends to now() + lease the leases owner still holds
// among ids (a row flipped, released or taken over is left alone).
func (db *DB) RenewSyncLeases(ctx context.Context, owner string, ids []int64, lease time.Duration) error {
	if _, err := db.Pool.Exec(ctx, `UPDATE files SET sync_lease_until = now() + make_interval(secs => $3)
		WHERE id = ANY($1) AND sync_owner = $2 AND storage_location = 'minio' AND sync_lease_until IS NOT NULL`,
		ids, owner, lease.Seconds()); err != nil {
		return fmt.Errorf("renew sync leases: %w", err)
	}
	return nil
}

// ReleaseSyncLeases frees the leases owner holds among ids without
// counting an attempt (files claimed but not started): the owner is
// cleared too, so any worker may claim them, of this run (the next worker
// of a fan-out run) or a later one.
func (db *DB) ReleaseSyncLeases(ctx context.Context, owner string, ids []int64) error {
	if _, err := db.Pool.Exec(ctx, `UPDATE files SET sync_lease_until = NULL, sync_owner = NULL
		WHERE id = ANY($1) AND sync_owner = $2 AND storage_location = 'minio'`, ids, owner); err != nil {
		return fmt.Errorf("release sync leases: %w", err)
	}
	return nil
}

// FlipSynced records that file f, leased to owner, is now in the cold tier
// as m says: UPDATE … WHERE id AND sync_owner AND storage_location =
// 'minio', one statement. When it applies (FenceHeld) the row is returned as
// flipped; otherwise the fence says whether the row is gone or someone
// else's.
func (db *DB) FlipSynced(ctx context.Context, f core.File, owner string, m Moved) (core.File, Fence, error) {
	flipped, err := scanFile(db.Pool.QueryRow(ctx, `UPDATE files SET storage_location = 's3', access_url = $3, synced_at = now(),
		storage_class = $4, checksum_crc64nvme = COALESCE(checksum_crc64nvme, $5), checksum_sha256 = COALESCE(checksum_sha256, $6),
		sync_attempts = sync_attempts + 1, last_sync_error = NULL, last_sync_attempt_at = now(),
		hot_deleted_at = NULL, sync_lease_until = NULL, updated_at = now()
		WHERE id = $1 AND sync_owner = $2 AND storage_location = 'minio' RETURNING `+fileColumns,
		f.ID, owner, m.AccessURL, storageClass(&core.File{StorageClass: m.StorageClass}), nullable(m.CRC64NVME), nullable(m.SHA256)))
	if errors.Is(err, pgx.ErrNoRows) {
		fence, err := db.fenceOf(ctx, f.ID)
		return f, fence, err
	}
	if err != nil {
		return f, FenceHeld, fmt.Errorf("flip file %d to s3: %w", f.ID, err)
	}
	return flipped, FenceHeld, nil
}

// fenceOf says why a fenced statement on file id applied to no row.
func (db *DB) fenceOf(ctx context.Context, id int64) (Fence, error) {
	var exists bool
	if err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM files WHERE id = $1)`, id).Scan(&exists); err != nil {
		return FenceLost, fmt.Errorf("look up file %d: %w", id, err)
	}
	if exists {
		return FenceLost, nil
	}
	return FenceGone, nil
}

// RecordSyncFailure counts a failed sync attempt of file id, leased to
// owner, and keeps its error; with release it also frees the lease (the
// last attempt of the run), else the lease is kept for the retry. A file
// deleted, synced or taken over meanwhile is left alone and the fence says
// which.
func (db *DB) RecordSyncFailure(ctx context.Context, id int64, owner, msg string, release bool) (Fence, error) {
	tag, err := db.Pool.Exec(ctx, `UPDATE files SET sync_attempts = sync_attempts + 1, last_sync_error = $3,
		last_sync_attempt_at = now(), sync_lease_until = CASE WHEN $4 THEN NULL ELSE sync_lease_until END
		WHERE id = $1 AND sync_owner = $2 AND storage_location = 'minio'`, id, owner, truncate(msg, 1000), release)
	if err != nil {
		return FenceHeld, fmt.Errorf("record sync failure of file %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return db.fenceOf(ctx, id)
	}
	return FenceHeld, nil
}

// SyncState is the sync bookkeeping of one file.
type SyncState struct {
	Attempts      int
	LastError     *string
	LastAttemptAt *time.Time
	HotDeletedAt  *time.Time
}

// SyncStateOf returns the sync bookkeeping of file id, or ErrFileNotFound.
func (db *DB) SyncStateOf(ctx context.Context, id int64) (SyncState, error) {
	var s SyncState
	err := db.Pool.QueryRow(ctx, `SELECT sync_attempts, last_sync_error, last_sync_attempt_at, hot_deleted_at
		FROM files WHERE id = $1`, id).Scan(&s.Attempts, &s.LastError, &s.LastAttemptAt, &s.HotDeletedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, ErrFileNotFound
	}
	if err != nil {
		return s, fmt.Errorf("select sync state of file %d: %w", id, err)
	}
	return s, nil
}

// HotCopy names a synced file whose hot copy may still exist.
type HotCopy struct {
	ID        int64
	ObjectKey string
}

// HotCopiesToDelete returns up to limit files in the cold tier whose hot
// copy has not been recorded as deleted, in id order after afterID.
func (db *DB) HotCopiesToDelete(ctx context.Context, afterID int64, limit int) ([]HotCopy, error) {
	rows, err := db.Pool.Query(ctx, `SELECT id, object_key FROM files
		WHERE storage_location = 's3' AND hot_deleted_at IS NULL AND id > $1 ORDER BY id LIMIT $2`, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("list hot copies to delete: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[HotCopy])
	if err != nil {
		return nil, fmt.Errorf("list hot copies to delete: %w", err)
	}
	return out, nil
}

// MarkHotDeleted records that the hot copy of synced file id is gone.
func (db *DB) MarkHotDeleted(ctx context.Context, id int64) error {
	if _, err := db.Pool.Exec(ctx, `UPDATE files SET hot_deleted_at = now()
		WHERE id = $1 AND storage_location = 's3' AND hot_deleted_at IS NULL`, id); err != nil {
		return fmt.Errorf("mark hot copy of file %d deleted: %w", id, err)
	}
	return nil
}

// CountPending returns how many files wait in the hot tier for the sync job.
func (db *DB) CountPending(ctx context.Context) (int, error) {
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM files WHERE storage_location = 'minio' AND deleted_at IS NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count pending files: %w", err)
	}
	return n, nil
}

// PendingForUser returns how many of userID's files wait in the hot tier.
func (db *DB) PendingForUser(ctx context.Context, userID int64) (int, error) {
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM files WHERE user_id = $1 AND storage_location = 'minio' AND deleted_at IS NULL`,
		userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count pending files of user %d: %w", userID, err)
	}
	return n, nil
}

// SyncRun is one recorded run of the sync job.
type SyncRun struct {
	ID           int64
	StartedAt    time.Time
	FinishedAt   *time.Time
	Status       string // running, succeeded, partial, failed
	Trigger      string
	Synced       int
	Failed       int
	Left         int
	Bytes        int64
	ErrorSummary *string
	Workers      int // worker loops (local) or worker invocations (fan-out) that reported
	Batches      int
}

// StartSyncRun records a run as running and returns its id and start time.
func (db *DB) StartSyncRun(ctx context.Context, trigger string) (int64, time.Time, error) {
	var id int64
	var at time.Time
	if err := db.Pool.QueryRow(ctx, `INSERT INTO sync_runs (trigger) VALUES ($1) RETURNING id, started_at`,
		trigger).Scan(&id, &at); err != nil {
		return 0, time.Time{}, fmt.Errorf("record sync run start: %w", err)
	}
	return id, at, nil
}

// FinishSyncRun records the outcome of run r.ID.
func (db *DB) FinishSyncRun(ctx context.Context, r SyncRun) error {
	var summary *string
	if r.ErrorSummary != nil {
		s := truncate(*r.ErrorSummary, 4000)
		summary = &s
	}
	_, err := db.Pool.Exec(ctx, `UPDATE sync_runs SET finished_at = now(), status = $2, files_synced = $3,
		files_failed = $4, files_left = $5, bytes_synced = $6, error_summary = $7, workers = $8, batches = $9 WHERE id = $1`,
		r.ID, r.Status, r.Synced, r.Failed, r.Left, r.Bytes, summary, r.Workers, r.Batches)
	if err != nil {
		return fmt.Errorf("record sync run %d end: %w", r.ID, err)
	}
	return nil
}

// LastSyncRun returns the most recently started run, or nil when none ran.
func (db *DB) LastSyncRun(ctx context.Context) (*SyncRun, error) {
	runs, err := db.RecentSyncRuns(ctx, 1)
	if err != nil || len(runs) == 0 {
		return nil, err
	}
	return &runs[0], nil
}

// UserSyncRun is one run as one user sees it: the run's times and status,
// and how many of the user's files it synced and failed.
type UserSyncRun struct {
	StartedAt  time.Time
	FinishedAt *time.Time
	Status     string
	Synced     int
	Failed     int
}

// LastSyncRunForUser returns the most recently started run with the counts
// of userID's files in it, or nil when none ran. A file counts as synced by
// the run when its synced_at falls within the run (from its start to its
// end, or now while it runs), and as failed when it is still in the hot
// tier with an error recorded by an attempt within the run. The runs of
// the job never overlap (the advisory lock of LockSync), so the window is
// the run's; a file deleted since is not counted.
func (db *DB) LastSyncRunForUser(ctx context.Context, userID int64) (*UserSyncRun, error) {
	var r UserSyncRun
	err := db.Pool.QueryRow(ctx, `SELECT r.started_at, r.finished_at, r.status,
		count(f.id) FILTER (WHERE f.storage_location = 's3' AND f.synced_at BETWEEN r.started_at AND coalesce(r.finished_at, now())),
		count(f.id) FILTER (WHERE f.storage_location = 'minio' AND f.last_sync_error IS NOT NULL
			AND f.last_sync_attempt_at BETWEEN r.started_at AND coalesce(r.finished_at, now()))
		FROM (SELECT * FROM sync_runs ORDER BY started_at DESC, id DESC LIMIT 1) r
		LEFT JOIN files f ON f.user_id = $1
		GROUP BY r.id, r.started_at, r.finished_at, r.status`, userID).
		Scan(&r.StartedAt, &r.FinishedAt, &r.Status, &r.Synced, &r.Failed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("select last sync run of user %d: %w", userID, err)
	}
	return &r, nil
}

// RecentSyncRuns returns up to limit runs, the most recently started first.
func (db *DB) RecentSyncRuns(ctx context.Context, limit int) ([]SyncRun, error) {
	rows, err := db.Pool.Query(ctx, `SELECT id, started_at, finished_at, status, trigger, files_synced, files_failed,
		files_left, bytes_synced, error_summary, workers, batches FROM sync_runs ORDER BY started_at DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("select sync runs: %w", err)
	}
	runs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[SyncRun])
	if err != nil {
		return nil, fmt.Errorf("select sync runs: %w", err)
	}
	return runs, nil
}

// ErrSyncRunning is returned by LockSync when another run holds the lock.
var ErrSyncRunning = core.Errorf(core.CodeSyncRunning, "a sync run is already in progress")

// LockSync takes the sync job's advisory lock (pg_try_advisory_lock) on a
// connection of its own, so it holds across processes and Lambdas until
// unlock is called (or the connection dies with its process). It returns
// ErrSyncRunning when another session holds it, or when a fan-out run is
// live (its workers hold no lock; see OpenFanoutRun). Runs that died
// without finishing are then marked failed: while the lock is held no
// other run can be going.
func (db *DB) LockSync(ctx context.Context) (unlock func(), err error) {
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("sync lock: acquire connection: %w", err)
	}
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, syncLockKey).Scan(&got); err != nil {
		conn.Release()
		return nil, fmt.Errorf("sync lock: %w", err)
	}
	if !got {
		conn.Release()
		return nil, ErrSyncRunning
	}
	var live bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sync_runs WHERE `+liveFanout+`)`).Scan(&live); err != nil || live {
		db.unlockSync(conn)
		if err != nil {
			return nil, fmt.Errorf("sync lock: look for a fan-out run: %w", err)
		}
		return nil, ErrSyncRunning // a fan-out run's workers are going
	}
	if _, err := conn.Exec(ctx, `UPDATE sync_runs SET status = 'failed', finished_at = now(),
		error_summary = 'interrupted: the run ended without recording its result'
		WHERE status = 'running'`); err != nil {
		db.unlockSync(conn)
		return nil, fmt.Errorf("sync lock: close interrupted runs: %w", err)
	}
	return func() { db.unlockSync(conn) }, nil
}

// unlockSync releases the advisory lock and the connection. If the unlock
// cannot be sent the connection is closed, which releases the lock too.
func (db *DB) unlockSync(conn *pgxpool.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, syncLockKey); err != nil {
		_ = conn.Hijack().Close(ctx)
		return
	}
	conn.Release()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
