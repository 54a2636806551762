package postgres_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
)

// usageModel drives random operations of the stores over a few users.
type usageModel struct {
	t   *testing.T
	db  *postgres.DB
	rnd *rand.Rand

	mu           sync.Mutex
	users        []int64
	reservations []string
	sessions     []core.UploadSession
	n            int
	flipped      atomic.Int64 // files the sync flips moved to the cold tier
}

func (m *usageModel) pick(xs []int64) int64 { return xs[m.rnd.IntN(len(xs))] }

func (m *usageModel) newUser() {
	m.n++
	u, err := m.db.CreateUser(m.t.Context(), fmt.Sprintf("u%d-%s@example.com", m.n, uuid.NewString()[:8]), "x")
	if err != nil {
		m.t.Error(err)
		return
	}
	m.users = append(m.users, u.ID)
}

func (m *usageModel) file(uid int64) core.File {
	key := fmt.Sprintf("user-%d/%s", uid, uuid.NewString())
	return core.File{UserID: uid, Filename: "f.bin", OriginalFilename: "f.bin", Size: m.rnd.Int64N(1 << 20), ContentType: "application/octet-stream",
		Location: core.TierHot, ObjectKey: key, AccessURL: "http://hot/" + key, HotETag: "etag", StorageClass: core.StorageStandard}
}

// ids returns up to n random file ids matching cond (SQL over files).
func (m *usageModel) ids(cond string, n int) []int64 {
	rows, err := m.db.Pool.Query(m.t.Context(), `SELECT id FROM files WHERE `+cond+` ORDER BY random() LIMIT $1`, n)
	if err != nil {
		m.t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			m.t.Fatal(err)
		}
		out = append(out, id)
	}
	return out
}

func (m *usageModel) owner(id int64) int64 {
	var uid int64
	if err := m.db.Pool.QueryRow(m.t.Context(), `SELECT user_id FROM files WHERE id = $1`, id).Scan(&uid); err != nil {
		return 0
	}
	return uid
}

// ok fails on errors other than the ones a lost race may give.
func (m *usageModel) ok(op string, err error) {
	if err != nil && !errors.Is(err, postgres.ErrFileNotFound) && !errors.Is(err, postgres.ErrUploadNotFound) &&
		!errors.Is(err, postgres.ErrUserNotFound) && !errors.Is(err, postgres.ErrQuotaExceeded) && !errors.Is(err, postgres.ErrUploadForbidden) &&
		!errors.Is(err, postgres.ErrForbidden) {
		m.t.Errorf("%s: %v", op, err)
	}
}

// step runs one random operation and returns its name.
func (m *usageModel) step() string {
	ctx := m.t.Context()
	m.mu.Lock()
	uid := m.pick(m.users)
	m.mu.Unlock()
	noDiscard := func(core.UploadSession) error { return nil }
	switch op := m.rnd.IntN(18); op {
	case 0, 1: // a streamed upload: reserve, then the row that drops the reservation
		f := m.file(uid)
		id, _, err := m.db.ReserveQuota(ctx, uid, f.Size+1, 1, 1<<40, time.Hour)
		m.ok("reserve", err)
		if err == nil {
			m.ok("record upload", m.db.RecordUpload(ctx, &f, id))
		}
		return "upload"
	case 2: // a reservation left open, possibly already expired
		ttl := time.Hour
		if m.rnd.IntN(2) == 0 {
			ttl = 0
		}
		id, _, err := m.db.ReserveQuota(ctx, uid, 1+m.rnd.Int64N(1<<20), 1, 1<<40, ttl)
		m.ok("reserve", err)
		m.mu.Lock()
		m.reservations = append(m.reservations, id)
		m.mu.Unlock()
		return "reserve"
	case 3: // release one
		m.mu.Lock()
		var id string
		if len(m.reservations) > 0 {
			i := m.rnd.IntN(len(m.reservations))
			id = m.reservations[i]
			m.reservations = append(m.reservations[:i], m.reservations[i+1:]...)
		}
		m.mu.Unlock()
		m.ok("release", m.db.ReleaseQuota(ctx, id))
		return "release"
	case 4: // a presigned upload session, possibly already expired
		s := core.UploadSession{ID: uuid.NewString(), UserID: uid, ObjectKey: fmt.Sprintf("user-%d/%s", uid, uuid.NewString()),
			StorageUploadID: "u", Filename: "a.bin", OriginalFilename: "a.bin", Size: 1 + m.rnd.Int64N(1<<30),
			ContentType: "application/octet-stream", PartSize: 8 << 20, ExpiresAt: time.Now().Add(time.Hour)}
		if m.rnd.IntN(3) == 0 {
			s.ExpiresAt = time.Now().Add(-time.Minute)
		}
		err := m.db.CreateUpload(ctx, &s, postgres.UploadQuota{Sessions: 1000, Bytes: 1 << 50})
		m.ok("create upload", err)
		if err == nil {
			m.mu.Lock()
			m.sessions = append(m.sessions, s)
			m.mu.Unlock()
		}
		return "create upload"
	case 5, 6: // complete or abort a session
		m.mu.Lock()
		if len(m.sessions) == 0 {
			m.mu.Unlock()
			return "none"
		}
		i := m.rnd.IntN(len(m.sessions))
		s := m.sessions[i]
		m.sessions = append(m.sessions[:i], m.sessions[i+1:]...)
		m.mu.Unlock()
		if op == 5 {
			f := fileOf(s)
			m.ok("complete upload", m.db.CompleteUpload(ctx, s.ID, &f))
			return "complete upload"
		}
		m.ok("abort upload", m.db.EndUpload(ctx, s.UserID, s.ID, noDiscard))
		return "abort upload"
	case 7: // the sync: a claim, then one batched flip of several users' files
		owner := fmt.Sprintf("run-%d/w", m.rnd.IntN(1<<30))
		claimed, err := m.db.ClaimSyncBatch(ctx, owner, 1+m.rnd.IntN(5), time.Minute)
		m.ok("claim", err)
		flips := make([]postgres.Flip, len(claimed))
		for i, f := range claimed {
			flips[i] = postgres.Flip{File: f, Owner: owner, Moved: postgres.Moved{AccessURL: "http://cold/" + f.ObjectKey,
				StorageClass: core.StorageStandard, SHA256: strings.Repeat("0", 64)}}
		}
		done, err := m.db.FlipSyncedBatch(ctx, flips)
		m.ok("flip", err)
		for _, d := range done {
			if d.Fence == postgres.FenceHeld {
				m.flipped.Add(1)
			}
		}
		return "flip"
	case 8, 9: // trash
		for _, id := range m.ids(`deleted_at IS NULL`, 1) {
			retention := time.Hour
			if m.rnd.IntN(2) == 0 {
				retention = 0 // expired at once: the sweep's
			}
			_, err := m.db.TrashFile(ctx, m.owner(id), id, retention)
			m.ok("trash", err)
		}
		return "trash"
	case 10: // restore
		for _, id := range m.ids(`deleted_at IS NOT NULL AND purging_at IS NULL`, 1) {
			_, err := m.db.RestoreFile(ctx, m.owner(id), id)
			m.ok("restore", err)
		}
		return "restore"
	case 11: // purge one trashed file, or the whole trash of a user
		if m.rnd.IntN(2) == 0 {
			for _, id := range m.ids(`deleted_at IS NOT NULL`, 1) {
				f, err := m.db.BeginPurge(ctx, m.owner(id), id)
				m.ok("begin purge", err)
				if err == nil {
					m.ok("delete purged", m.db.DeletePurged(ctx, f.ID))
				}
			}
			return "purge"
		}
		_, err := m.db.BeginPurgeTrash(ctx, uid)
		m.ok("begin purge trash", err)
		return "purge trash"
	case 12: // the sweep: expired trash, expired sessions, stale reservations (many users at once)
		fs, err := m.db.BeginPurgeExpired(ctx, 0, 50)
		m.ok("begin purge expired", err)
		for _, f := range fs {
			m.ok("delete purged", m.db.DeletePurged(ctx, f.ID))
		}
		_, err = m.db.EndExpiredUploads(ctx, time.Now(), 50, noDiscard)
		m.ok("end expired uploads", err)
		_, err = m.db.DeleteExpiredReservations(ctx)
		m.ok("delete expired reservations", err)
		return "sweep"
	case 13: // delete a file for good
		for _, id := range m.ids(`deleted_at IS NULL`, 1) {
			_, err := m.db.DeleteFile(ctx, m.owner(id), id, func(core.File) error { return nil })
			m.ok("delete file", err)
		}
		return "delete file"
	case 14: // account deletion, all the way
		m.mu.Lock()
		if len(m.users) < 3 {
			m.mu.Unlock()
			return "none"
		}
		for i, u := range m.users {
			if u == uid {
				m.users = append(m.users[:i], m.users[i+1:]...)
				break
			}
		}
		m.newUser()
		m.mu.Unlock()
		m.ok("mark deleting", m.db.MarkUserDeleting(ctx, uid))
		_, err := m.db.BeginPurgeAll(ctx, uid)
		m.ok("begin purge all", err)
		fs, err := m.db.PurgingFiles(ctx, uid, 0, 10000)
		m.ok("purging files", err)
		for _, f := range fs {
			m.ok("delete purged", m.db.DeletePurged(ctx, f.ID))
		}
		ids, err := m.db.UploadsOfUser(ctx, uid)
		m.ok("uploads of user", err)
		for _, id := range ids {
			m.ok("end upload", m.db.EndUpload(ctx, uid, id, noDiscard))
		}
		m.ok("delete user", m.db.DeleteUser(ctx, uid))
		return "delete account"
	case 16: // bulk trash: some of the user's live files and another id or two, in one statement
		ids := append(m.ids(`deleted_at IS NULL`, 3), m.ids(`true`, 1)...)
		_, err := m.db.TrashFiles(ctx, uid, ids, time.Duration(m.rnd.IntN(2))*time.Hour)
		m.ok("bulk trash", err)
		return "bulk trash"
	case 17: // bulk restore
		ids := append(m.ids(`deleted_at IS NOT NULL`, 3), m.ids(`true`, 1)...)
		_, err := m.db.RestoreFiles(ctx, uid, ids)
		m.ok("bulk restore", err)
		return "bulk restore"
	default: // a plain file, as the tests and the presigned path record them
		f := m.file(uid)
		m.ok("create file", m.db.CreateFile(ctx, &f))
		return "create file"
	}
}

// check fails when any user's counters differ from their rows.
func (m *usageModel) check(after string) {
	m.t.Helper()
	drifts, err := m.db.ReconcileUsage(m.t.Context())
	if err != nil {
		m.t.Fatal(err)
	}
	for _, d := range drifts {
		m.t.Errorf("after %s: user %d's counters %v, rows %v (hot, cold, trash, files, upload, reserved)", after, d.UserID, d.Had, d.Actual)
	}
}

// TestUsageCountersFollowEveryOperation drives random sequences of every
// operation that changes what the quota counts and checks after each step
// that every user's counters equal a recomputation from the rows; then runs
// four such sequences at once (multi-user statements must not deadlock)
// and checks again.
func TestUsageCountersFollowEveryOperation(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	db := openDB(t)
	m := &usageModel{t: t, db: db, rnd: rand.New(rand.NewPCG(seed, 27))}
	for range 4 {
		m.newUser()
	}
	ops := map[string]int{}
	for range 400 {
		op := m.step()
		ops[op]++
		m.check(op)
		if t.Failed() {
			t.Fatalf("operations so far: %v", ops)
		}
	}
	t.Logf("sequential: %v, %d files flipped", ops, m.flipped.Load())
	if m.flipped.Load() == 0 {
		t.Fatal("no sync flip moved a file: the flips' counters went untested")
	}

	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gm := &usageModel{t: t, db: db, rnd: rand.New(rand.NewPCG(seed, uint64(g))), users: append([]int64(nil), m.users...), n: 1000 * (g + 1)}
			for range 100 {
				gm.step()
			}
		}()
	}
	wg.Wait()
	m.check("concurrent sequences")
}
