package postgres

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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
// among ids (a row flipped, released or taken over is left alone). The
// rows are locked in id order, as FlipSyncedBatch locks them: a renewal
// and a flip of the same files cannot deadlock.
func (db *DB) RenewSyncLeases(ctx context.Context, owner string, ids []int64, lease time.Duration) error {
	if _, err := db.Pool.Exec(ctx, `WITH held AS MATERIALIZED (
			SELECT id FROM files WHERE id = ANY($1) AND sync_owner = $2 AND storage_location = 'minio' AND sync_lease_until IS NOT NULL
			ORDER BY id FOR UPDATE)
		UPDATE files f SET sync_lease_until = now() + make_interval(secs => $3)
		FROM held WHERE f.id = held.id AND f.sync_owner = $2 AND f.storage_location = 'minio' AND f.sync_lease_until IS NOT NULL`,
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
// as m says: FlipSyncedBatch of one file. When it applies (FenceHeld) the
// row is returned as flipped; otherwise the fence says whether the row is
// gone or someone else's.
func (db *DB) FlipSynced(ctx context.Context, f core.File, owner string, m Moved) (core.File, Fence, error) {
	out, err := db.FlipSyncedBatch(ctx, []Flip{{File: f, Owner: owner, Moved: m}})
	if err != nil {
		return f, FenceHeld, err
	}
	return out[0].File, out[0].Fence, nil
}

// Flip is one file of a FlipSyncedBatch: File, leased to Owner, is in the
// cold tier as Moved says.
type Flip struct {
	File  core.File
	Owner string
	Moved Moved
}

// Flipped is what FlipSyncedBatch did with one Flip: with FenceHeld, File
// is the row as flipped; otherwise File is the Flip's and the fence says
// whether the row is gone or someone else's.
type Flipped struct {
	File  core.File
	Fence Fence
}

// FlipSyncedBatch flips the rows of flips to the cold tier in one
// statement (one transaction): UPDATE … FROM the flips' values, each row
// fenced as FlipSynced's was, on its own lease (WHERE id AND sync_owner =
// its Owner AND storage_location = 'minio'). A row whose fence does not
// hold is left alone and the others flip. The rows are locked in id order
// (as RenewSyncLeases does), so two batches over the same rows cannot
// deadlock. It returns one Flipped per flip, in order; an error means no
// row of the batch was flipped.
func (db *DB) FlipSyncedBatch(ctx context.Context, flips []Flip) ([]Flipped, error) {
	if len(flips) == 0 {
		return nil, nil
	}
	n := len(flips)
	ids, owners, urls, classes := make([]int64, n), make([]string, n), make([]string, n), make([]string, n)
	crcs, sums := make([]*string, n), make([]*string, n)
	for i, fl := range flips {
		ids[i], owners[i], urls[i] = fl.File.ID, fl.Owner, fl.Moved.AccessURL
		classes[i] = storageClass(&core.File{StorageClass: fl.Moved.StorageClass})
		crcs[i], sums[i] = nullable(fl.Moved.CRC64NVME), nullable(fl.Moved.SHA256)
	}
	rows, err := db.Pool.Query(ctx, `WITH v AS (
			SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
				AS v(id, owner, url, class, crc, sha)),
		held AS MATERIALIZED (
			SELECT f.id FROM files f JOIN v ON v.id = f.id
			WHERE f.sync_owner = v.owner AND f.storage_location = 'minio'
			ORDER BY f.id FOR UPDATE OF f)
		UPDATE files f SET storage_location = 's3', access_url = v.url, synced_at = now(),
			storage_class = v.class, checksum_crc64nvme = COALESCE(f.checksum_crc64nvme, v.crc),
			checksum_sha256 = COALESCE(f.checksum_sha256, v.sha),
			sync_attempts = f.sync_attempts + 1, last_sync_error = NULL, last_sync_attempt_at = now(),
			hot_deleted_at = NULL, sync_lease_until = NULL, updated_at = now()
		FROM v, held
		WHERE f.id = held.id AND v.id = f.id AND f.sync_owner = v.owner AND f.storage_location = 'minio'
		RETURNING `+prefixed("f.", fileColumns)+`, f.sync_owner`, ids, owners, urls, classes, crcs, sums)
	if err != nil {
		return nil, fmt.Errorf("flip %d files to s3: %w", n, err)
	}
	// A row is its flip's by id and owner: a batch may hold one file twice,
	// from a worker whose lease expired and the one that took it over.
	type flipKey struct {
		id    int64
		owner string
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (flipped struct {
		key  flipKey
		file core.File
	}, err error) {
		flipped.file, err = scanFile(withOwner{r, &flipped.key.owner})
		flipped.key.id = flipped.file.ID
		return flipped, err
	})
	if err != nil {
		return nil, fmt.Errorf("flip %d files to s3: %w", n, err)
	}
	byKey := make(map[flipKey]core.File, len(got))
	for _, g := range got {
		byKey[g.key] = g.file
	}
	out := make([]Flipped, n)
	var missed []int64
	for i, fl := range flips {
		if f, ok := byKey[flipKey{fl.File.ID, fl.Owner}]; ok {
			out[i] = Flipped{File: f, Fence: FenceHeld}
		} else {
			out[i] = Flipped{File: fl.File, Fence: FenceLost}
			missed = append(missed, fl.File.ID)
		}
	}
	if len(missed) == 0 {
		return out, nil
	}
	// The rows not flipped: gone (deleted by their owner) or someone else's.
	rows, err = db.Pool.Query(ctx, `SELECT id FROM files WHERE id = ANY($1)`, missed)
	if err != nil {
		return nil, fmt.Errorf("look up %d files not flipped: %w", len(missed), err)
	}
	exist, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("look up %d files not flipped: %w", len(missed), err)
	}
	there := make(map[int64]bool, len(exist))
	for _, id := range exist {
		there[id] = true
	}
	for i := range out {
		if out[i].Fence == FenceLost && !there[out[i].File.ID] {
			out[i].Fence = FenceGone
		}
	}
	return out, nil
}

// withOwner scans a file row followed by its sync_owner.
type withOwner struct {
	row   pgx.Row
	owner *string
}

func (w withOwner) Scan(dest ...any) error { return w.row.Scan(append(dest, w.owner)...) }

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

// WorkReport is what workers add to their run: one fan-out ticket's
// worker (FinishTicket), or all the worker loops of a local run
// (FinishSyncRun).
type WorkReport struct {
	Workers int      // worker loops or invocations it covers
	Batches int      // batches they claimed
	Errors  []string // one line per failed file, kept in the run's summary
	// Unrecorded counts failures no file row shows (a panic in a claim or
	// outside a file's move): the run's failed count adds them to its
	// files'.
	Unrecorded int
}

// FinishSyncRun records the work r of a local run's loops, all done, and
// closes the run (closeRun); runErr, when not empty, is what cut the run
// short: it leads the summary and the run is failed. It returns the run as
// closed, or an error when it is not running any more (another run's
// clean-up closed it as interrupted).
func (db *DB) FinishSyncRun(ctx context.Context, runID int64, r WorkReport, runErr string) (SyncRun, error) {
	var closed *SyncRun
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if runErr != "" {
			r.Errors = append([]string{runErr}, r.Errors...)
		}
		if err := addWork(ctx, tx, runID, r); err != nil {
			return fmt.Errorf("record sync run %d end: %w", runID, err)
		}
		var err error
		closed, err = closeRun(ctx, tx, runID, runErr != "")
		return err
	})
	if err != nil {
		return SyncRun{}, err
	}
	if closed == nil {
		return SyncRun{}, fmt.Errorf("record sync run %d end: it was closed meanwhile as interrupted", runID)
	}
	return *closed, nil
}

// addWork adds r to run runID, locking its row until the caller's
// transaction ends.
func addWork(ctx context.Context, tx pgx.Tx, runID int64, r WorkReport) error {
	var summary *string
	if len(r.Errors) > 0 {
		s := truncate(joinLines(r.Errors, 10), 4000)
		summary = &s
	}
	tag, err := tx.Exec(ctx, `UPDATE sync_runs SET workers = workers + $2, batches = batches + $3, files_failed = files_failed + $4,
		error_summary = left(concat_ws('; ', error_summary, $5::text), 4000) WHERE id = $1`,
		runID, r.Workers, r.Batches, r.Unrecorded, summary)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return errors.New("no such run")
	}
	return nil
}

// closeRun is where every run closes, local or fan-out: it records run
// runID (its row locked by the caller's transaction) finished with its
// totals and status, and returns it; nil when it was not running. The
// totals are the run's files as the table has them: synced, flipped by one
// of its workers (lease owners run-<id>/…); failed, released by one of them
// after failing, plus the failures its workers reported that no row shows;
// left, every file still waiting in the hot tier. So a fan-out worker that
// died before it reported anything still counts. The status: failed when
// failed says so (what cut a local run short), when files failed and none
// was synced, or when nothing was synced, files are left and errors were
// recorded (an abandoned ticket); partial when files failed or are left;
// else succeeded.
func closeRun(ctx context.Context, tx pgx.Tx, runID int64, failed bool) (*SyncRun, error) {
	var r SyncRun
	err := tx.QueryRow(ctx, `WITH mine AS (
			SELECT storage_location, file_size, sync_lease_until, last_sync_error FROM files
			WHERE split_part(sync_owner, '/', 1) = $2 AND sync_owner IS NOT NULL), -- files_sync_run_idx
		c AS (SELECT
			count(*) FILTER (WHERE storage_location = 's3') AS synced,
			coalesce(sum(file_size) FILTER (WHERE storage_location = 's3'), 0) AS bytes,
			count(*) FILTER (WHERE storage_location = 'minio' AND sync_lease_until IS NULL AND last_sync_error IS NOT NULL) AS failed
			FROM mine),
		l AS (SELECT count(*) AS left_ FROM files WHERE storage_location = 'minio' AND deleted_at IS NULL)
		UPDATE sync_runs SET finished_at = now(), files_synced = c.synced, bytes_synced = c.bytes,
			files_failed = files_failed + c.failed, files_left = l.left_, status = CASE
				WHEN $3 THEN 'failed'
				WHEN files_failed + c.failed > 0 AND c.synced = 0 THEN 'failed'
				WHEN c.synced = 0 AND l.left_ > 0 AND error_summary IS NOT NULL THEN 'failed'
				WHEN files_failed + c.failed > 0 OR l.left_ > 0 THEN 'partial'
				ELSE 'succeeded' END
		FROM c, l WHERE id = $1 AND status = 'running'
		RETURNING id, started_at, finished_at, status, trigger, files_synced, files_failed, files_left, bytes_synced,
			error_summary, workers, batches`, runID, fmt.Sprintf("run-%d", runID), failed).
		Scan(&r.ID, &r.StartedAt, &r.FinishedAt, &r.Status, &r.Trigger, &r.Synced, &r.Failed, &r.Left, &r.Bytes,
			&r.ErrorSummary, &r.Workers, &r.Batches)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil // closed already
	}
	if err != nil {
		return nil, fmt.Errorf("close sync run %d: %w", runID, err)
	}
	// Each user's part, as closing counted the run's: what the sync card
	// shows of this run from now on, whatever happens to the files.
	if _, err := tx.Exec(ctx, `WITH t AS (
			INSERT INTO sync_run_users (user_id, run_id, synced, failed)
			SELECT user_id, $1,
				count(*) FILTER (WHERE storage_location = 's3'),
				count(*) FILTER (WHERE storage_location = 'minio' AND sync_lease_until IS NULL AND last_sync_error IS NOT NULL)
			FROM files WHERE split_part(sync_owner, '/', 1) = $2 AND sync_owner IS NOT NULL -- files_sync_run_idx
			GROUP BY user_id)
		UPDATE sync_runs SET users_tallied = true WHERE id = $1`, runID, fmt.Sprintf("run-%d", runID)); err != nil {
		return nil, fmt.Errorf("tally sync run %d by user: %w", runID, err)
	}
	return &r, nil
}

// closeInterrupted closes as failed the runs that died running: its
// caller holds the sync lock (and has found no live fan-out run), so no
// run can be going.
func closeInterrupted(ctx context.Context, q interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}) error {
	if _, err := q.Exec(ctx, `UPDATE sync_runs SET status = 'failed', finished_at = now(),
		error_summary = left(concat_ws('; ', error_summary, 'interrupted: the run ended without recording its result'), 4000)
		WHERE status = 'running'`); err != nil {
		return fmt.Errorf("close interrupted sync runs: %w", err)
	}
	return nil
}

func joinLines(lines []string, max int) string {
	out := ""
	for i, l := range lines {
		if i == max {
			return out + fmt.Sprintf("; and %d more", len(lines)-max)
		}
		if i > 0 {
			out += "; "
		}
		out += l
	}
	return out
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
// of userID's files in it, or nil when none ran. A closed run's counts are
// those taken when it closed (sync_run_users, by the run's claims): they
// stay what the run did when files are deleted later. A run under way, or
// one closed as interrupted, is counted from the files: synced when its
// synced_at falls within the run (from its start to its end, or now), and
// failed when still in the hot tier with an error recorded by an attempt
// within the run (runs never overlap: the advisory lock of LockSync).
func (db *DB) LastSyncRunForUser(ctx context.Context, userID int64) (*UserSyncRun, error) {
	var r UserSyncRun
	// The live counts are ranges of one user's index (migration 00021).
	err := db.Pool.QueryRow(ctx, `SELECT r.started_at, r.finished_at, r.status,
		CASE WHEN r.users_tallied THEN coalesce(t.synced, 0) ELSE
			(SELECT count(*) FROM files f WHERE f.user_id = $1 AND f.storage_location = 's3'
				AND f.synced_at BETWEEN r.started_at AND coalesce(r.finished_at, now())) END,
		CASE WHEN r.users_tallied THEN coalesce(t.failed, 0) ELSE
			(SELECT count(*) FROM files f WHERE f.user_id = $1 AND f.storage_location = 'minio' AND f.last_sync_error IS NOT NULL
				AND f.last_sync_attempt_at BETWEEN r.started_at AND coalesce(r.finished_at, now())) END
		FROM (SELECT * FROM sync_runs ORDER BY started_at DESC, id DESC LIMIT 1) r
		LEFT JOIN sync_run_users t ON t.user_id = $1 AND t.run_id = r.id`, userID).
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
	if err := closeInterrupted(ctx, conn); err != nil {
		db.unlockSync(conn)
		return nil, fmt.Errorf("sync lock: %w", err)
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
