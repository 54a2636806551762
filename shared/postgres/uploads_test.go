package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
	"github.com/hybrid-storage/hybrid-storage/shared/testenv"
)

// openDB opens a fresh migrated database for t, closed when t ends.
func openDB(t *testing.T) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), testenv.DatabaseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

func createUser(t *testing.T, db *postgres.DB, email string) core.User {
	t.Helper()
	u, err := db.CreateUser(t.Context(), email, "x")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

var openQuota = postgres.UploadQuota{Sessions: 10, Bytes: 1 << 40}

func newSession(t *testing.T, db *postgres.DB, userID int64) core.UploadSession {
	t.Helper()
	s := core.UploadSession{ID: uuid.NewString(), UserID: userID, ObjectKey: fmt.Sprintf("user-%d/%s-a.bin", userID, uuid.NewString()),
		StorageUploadID: "tier-upload", Filename: "a.bin", OriginalFilename: "a.bin", Size: 9 << 20,
		ContentType: "application/octet-stream", PartSize: 8 << 20, ExpiresAt: time.Now().Add(time.Hour)}
	if err := db.CreateUpload(t.Context(), &s, openQuota); err != nil {
		t.Fatal(err)
	}
	return s
}

// fileOf is the file a completion of s records.
func fileOf(s core.UploadSession) core.File {
	return core.File{UserID: s.UserID, Filename: s.Filename, OriginalFilename: s.OriginalFilename, Size: s.Size, ContentType: s.ContentType,
		Location: core.TierHot, ObjectKey: s.ObjectKey, AccessURL: "http://hot/" + s.ObjectKey, HotETag: "etag-" + s.ID, StorageClass: core.StorageStandard}
}

func sessionExists(t *testing.T, db *postgres.DB, id string) bool {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(t.Context(), `SELECT count(*) FROM upload_sessions WHERE id = $1::uuid`, id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// Ending a session holds no transaction while the tier's copies are
// removed (no network I/O inside a transaction): the row is not locked
// during discard, and nothing can complete, lease or record the session
// meanwhile. A failed discard leaves it marked, ended by a retry.
func TestEndUploadHoldsNoTransactionDuringDiscard(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t)
	u := createUser(t, db, "ending@example.com")
	other := createUser(t, db, "other-ending@example.com")
	s := newSession(t, db, u.ID)

	if err := db.EndUpload(ctx, other.ID, s.ID, func(core.UploadSession) error { return nil }); !errors.Is(err, postgres.ErrUploadForbidden) {
		t.Fatalf("another user's EndUpload = %v, want ErrUploadForbidden", err)
	}
	failing := errors.New("tier down")
	calls := 0
	err := db.EndUpload(ctx, u.ID, s.ID, func(got core.UploadSession) error {
		calls++
		if got.ID != s.ID || got.ObjectKey != s.ObjectKey || got.StorageUploadID != s.StorageUploadID {
			t.Errorf("discard got %+v, want session %s", got, s.ID)
		}
		// A lock held by EndUpload would make these wait: fail instead.
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		// Another connection may lock the row at once: no transaction of
		// EndUpload holds it.
		tx, err := db.Pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, `SELECT 1 FROM upload_sessions WHERE id = $1::uuid FOR UPDATE NOWAIT`, s.ID); err != nil {
			t.Errorf("the session's row is locked during discard: %v", err)
		}
		_ = tx.Rollback(ctx)
		// And the session cannot be completed, leased or claimed meanwhile.
		f := fileOf(s)
		if err := db.CompleteUpload(ctx, s.ID, &f); !errors.Is(err, postgres.ErrUploadNotFound) {
			t.Errorf("CompleteUpload during discard = %v, want ErrUploadNotFound", err)
		}
		now := time.Now()
		if _, err := db.LeaseUpload(ctx, u.ID, s.ID, now, now.Add(time.Hour)); !errors.Is(err, postgres.ErrUploadNotFound) {
			t.Errorf("LeaseUpload during discard = %v, want ErrUploadNotFound", err)
		}
		if _, claimed, err := db.ClaimFinish(ctx, u.ID, s.ID, now, now.Add(time.Minute)); claimed || !errors.Is(err, postgres.ErrUploadNotFound) {
			t.Errorf("ClaimFinish during discard = %v, %v; want not claimed, ErrUploadNotFound", claimed, err)
		}
		if _, err := db.UploadForUser(ctx, u.ID, s.ID, now); !errors.Is(err, postgres.ErrUploadNotFound) {
			t.Errorf("UploadForUser during discard = %v, want ErrUploadNotFound", err)
		}
		return failing
	})
	if !errors.Is(err, failing) || calls != 1 {
		t.Fatalf("EndUpload = %v after %d discards, want the discard's error after 1", err, calls)
	}
	if !sessionExists(t, db, s.ID) {
		t.Fatal("a session whose discard failed was deleted: its copies would be orphans")
	}
	var files int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM files WHERE upload_id = $1::uuid`, s.ID).Scan(&files); err != nil || files != 0 {
		t.Fatalf("%d files recorded for the ending session (%v)", files, err)
	}
	// A retry ends it.
	if err := db.EndUpload(ctx, u.ID, s.ID, func(core.UploadSession) error { return nil }); err != nil {
		t.Fatalf("retried EndUpload = %v", err)
	}
	if sessionExists(t, db, s.ID) {
		t.Fatal("session left after a successful EndUpload")
	}
	if err := db.EndUpload(ctx, u.ID, s.ID, func(core.UploadSession) error { return nil }); !errors.Is(err, postgres.ErrUploadNotFound) {
		t.Fatalf("EndUpload of an ended session = %v, want ErrUploadNotFound", err)
	}
	// A completion that recorded its file first wins: the abort finds no
	// session and discards nothing.
	done := newSession(t, db, u.ID)
	f := fileOf(done)
	if err := db.CompleteUpload(ctx, done.ID, &f); err != nil {
		t.Fatal(err)
	}
	err = db.EndUpload(ctx, u.ID, done.ID, func(core.UploadSession) error {
		t.Error("discard called for an upload already recorded as a file")
		return nil
	})
	if !errors.Is(err, postgres.ErrUploadNotFound) {
		t.Fatalf("EndUpload after the completion = %v, want ErrUploadNotFound", err)
	}
	if got, err := db.CompletedUpload(ctx, u.ID, done.ID); err != nil || got.ID != f.ID {
		t.Fatalf("the completed upload's file: %+v, %v", got, err)
	}
}

// The janitor ends expired sessions, and sessions left marked ending (an
// ender that crashed or failed) once the retry delay has passed, with no
// transaction open during discard; a fresh session and a fresh marking are
// left alone.
func TestEndExpiredUploads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t)
	u := createUser(t, db, "janitor-ending@example.com")
	fresh, expired, stuck, marked := newSession(t, db, u.ID), newSession(t, db, u.ID), newSession(t, db, u.ID), newSession(t, db, u.ID)
	for _, q := range []struct {
		sql, id string
	}{
		{`UPDATE upload_sessions SET expires_at = now() - interval '1 minute' WHERE id = $1::uuid`, expired.ID},
		{`UPDATE upload_sessions SET ending_at = now() - interval '11 minutes' WHERE id = $1::uuid`, stuck.ID},
		{`UPDATE upload_sessions SET ending_at = now() - interval '1 minute' WHERE id = $1::uuid`, marked.ID},
	} {
		if _, err := db.Pool.Exec(ctx, q.sql, q.id); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	n, err := db.EndExpiredUploads(ctx, time.Now(), 10, func(s core.UploadSession) error {
		seen = append(seen, s.ID)
		if _, err := db.Pool.Exec(ctx, `SELECT 1 FROM upload_sessions WHERE id = $1::uuid FOR UPDATE NOWAIT`, s.ID); err != nil {
			t.Errorf("row of %s locked during discard: %v", s.ID, err)
		}
		return nil
	})
	if err != nil || n != 2 || len(seen) != 2 {
		t.Fatalf("EndExpiredUploads = %d, %v (discarded %v); want the expired and the stuck session", n, err, seen)
	}
	for _, s := range []core.UploadSession{expired, stuck} {
		if sessionExists(t, db, s.ID) {
			t.Errorf("session %s left", s.ID)
		}
	}
	for _, s := range []core.UploadSession{fresh, marked} {
		if !sessionExists(t, db, s.ID) {
			t.Errorf("session %s ended too early", s.ID)
		}
	}
	// A failing discard leaves the session for a later run.
	if _, err := db.Pool.Exec(ctx, `UPDATE upload_sessions SET expires_at = now() - interval '1 minute' WHERE id = $1::uuid`, fresh.ID); err != nil {
		t.Fatal(err)
	}
	n, err = db.EndExpiredUploads(ctx, time.Now(), 10, func(core.UploadSession) error { return errors.New("tier down") })
	if n != 0 || err == nil || !sessionExists(t, db, fresh.ID) {
		t.Fatalf("failing discard: %d ended, %v, session kept %v; want 0, an error, kept", n, err, sessionExists(t, db, fresh.ID))
	}
	// Marked now, it is not taken again before the retry delay.
	if n, err := db.EndExpiredUploads(ctx, time.Now(), 10, func(core.UploadSession) error { return nil }); n != 0 || err != nil {
		t.Fatalf("run right after = %d, %v; want 0 (the marking is fresh)", n, err)
	}
	if n, err := db.EndExpiredUploads(ctx, time.Now().Add(11*time.Minute), 10, func(core.UploadSession) error { return nil }); n != 2 || err != nil {
		t.Fatalf("run after the retry delay = %d, %v; want the two marked sessions", n, err)
	}
}

// A completion holds its session from its lease until the tier has
// answered: an ender meanwhile discards but leaves the row (the tier may
// assemble the object after the discard), the completion learns of the end
// as it lets go and ends the session itself. Holds are counted, lapse at
// their deadline, and keep the janitor away.
func TestCompletionHoldsItsSession(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t)
	u := createUser(t, db, "holding@example.com")
	now := time.Now()
	lease := func(s core.UploadSession, until time.Time) {
		t.Helper()
		if _, err := db.LeaseUpload(ctx, u.ID, s.ID, now, until); err != nil {
			t.Fatal(err)
		}
	}
	discards := 0
	discard := func(core.UploadSession) error { discards++; return nil }

	// Let go before any end: the abort then deletes the row.
	s := newSession(t, db, u.ID)
	lease(s, now.Add(time.Minute))
	if err := db.ReleaseUpload(ctx, s.ID); err != nil {
		t.Fatalf("ReleaseUpload = %v", err)
	}
	if err := db.EndUpload(ctx, u.ID, s.ID, discard); err != nil || sessionExists(t, db, s.ID) {
		t.Fatalf("EndUpload after the release = %v, session kept %v; want it ended", err, sessionExists(t, db, s.ID))
	}

	// Ended while two completions hold it: the row stays until both let go.
	s = newSession(t, db, u.ID)
	lease(s, now.Add(time.Minute))
	lease(s, now.Add(time.Minute))
	discards = 0
	if err := db.EndUpload(ctx, u.ID, s.ID, discard); err != nil || discards != 1 {
		t.Fatalf("EndUpload of a held session = %v after %d discards; want nil after 1", err, discards)
	}
	if !sessionExists(t, db, s.ID) {
		t.Fatal("the ender deleted a held session: an object the tier assembles after its discard would be left with no row")
	}
	if _, err := db.UploadForUser(ctx, u.ID, s.ID, now); !errors.Is(err, postgres.ErrUploadNotFound) {
		t.Errorf("UploadForUser of the ended session = %v, want ErrUploadNotFound", err)
	}
	f := fileOf(s)
	if err := db.CompleteUpload(ctx, s.ID, &f); !errors.Is(err, postgres.ErrUploadNotFound) {
		t.Errorf("CompleteUpload of the ended session = %v, want ErrUploadNotFound", err)
	}
	// Marked ending long ago and still held: not the janitor's yet.
	if _, err := db.Pool.Exec(ctx, `UPDATE upload_sessions SET ending_at = now() - interval '11 minutes' WHERE id = $1::uuid`, s.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := db.EndExpiredUploads(ctx, time.Now(), 10, discard); n != 0 || err != nil {
		t.Fatalf("janitor on a held session = %d, %v; want 0", n, err)
	}
	for i := range 2 {
		if err := db.ReleaseUpload(ctx, s.ID); !errors.Is(err, postgres.ErrUploadEnding) {
			t.Fatalf("ReleaseUpload of the ended session = %v, want ErrUploadEnding", err)
		}
		discards = 0
		if err := db.EndHeldUpload(ctx, u.ID, s.ID, discard); err != nil || discards != 1 {
			t.Fatalf("EndHeldUpload %d = %v after %d discards; want nil after 1", i+1, err, discards)
		}
		if kept := sessionExists(t, db, s.ID); kept != (i == 0) {
			t.Fatalf("after %d of 2 holders ended it: session kept %v", i+1, kept)
		}
	}
	if err := db.ReleaseUpload(ctx, s.ID); !errors.Is(err, postgres.ErrUploadNotFound) {
		t.Fatalf("ReleaseUpload of a deleted session = %v, want ErrUploadNotFound", err)
	}

	// A hold whose completion died lapses at its deadline: the ender then
	// deletes the row, and the janitor takes a marked one after the lapse.
	s = newSession(t, db, u.ID)
	lease(s, now.Add(-time.Second))
	if err := db.EndUpload(ctx, u.ID, s.ID, discard); err != nil || sessionExists(t, db, s.ID) {
		t.Fatalf("EndUpload past the hold's deadline = %v, session kept %v; want it ended", err, sessionExists(t, db, s.ID))
	}
	s = newSession(t, db, u.ID)
	lease(s, now.Add(time.Minute))
	if _, err := db.Pool.Exec(ctx, `UPDATE upload_sessions SET ending_at = now() - interval '11 minutes' WHERE id = $1::uuid`, s.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := db.EndExpiredUploads(ctx, time.Now().Add(2*time.Minute), 10, discard); n != 1 || err != nil || sessionExists(t, db, s.ID) {
		t.Fatalf("janitor past the hold's deadline = %d, %v; want the session ended", n, err)
	}
}

// Nothing is recorded for an account marked deleting: neither a file, nor
// a completed upload's file, nor a new upload session.
func TestNothingIsRecordedForAnAccountBeingDeleted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t)
	u := createUser(t, db, "going@example.com")
	s := newSession(t, db, u.ID)
	if err := db.MarkUserDeleting(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	f := fileOf(s)
	if err := db.CompleteUpload(ctx, s.ID, &f); !errors.Is(err, postgres.ErrUploadNotFound) {
		t.Errorf("CompleteUpload = %v, want ErrUploadNotFound", err)
	}
	if !sessionExists(t, db, s.ID) {
		t.Error("the session went without its file: the account's deletion ends it")
	}
	f = fileOf(s)
	f.ObjectKey += "-streamed"
	if err := db.CreateFile(ctx, &f); !errors.Is(err, postgres.ErrUserNotFound) {
		t.Errorf("CreateFile = %v, want ErrUserNotFound", err)
	}
	next := core.UploadSession{ID: uuid.NewString(), UserID: u.ID, ObjectKey: fmt.Sprintf("user-%d/%s-b.bin", u.ID, uuid.NewString()),
		StorageUploadID: "tier-upload", Filename: "b.bin", OriginalFilename: "b.bin", Size: 1, ContentType: "application/octet-stream",
		PartSize: 8 << 20, ExpiresAt: time.Now().Add(time.Hour)}
	if err := db.CreateUpload(ctx, &next, openQuota); !errors.Is(err, postgres.ErrUserNotFound) {
		t.Errorf("CreateUpload = %v, want ErrUserNotFound", err)
	}
	var files int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM files WHERE user_id = $1`, u.ID).Scan(&files); err != nil || files != 0 {
		t.Errorf("%d files recorded for the account being deleted (%v)", files, err)
	}
	// And once the account is gone, a file is refused the same way, not
	// with a foreign-key violation.
	if err := db.EndUpload(ctx, u.ID, s.ID, func(core.UploadSession) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateFile(ctx, &f); !errors.Is(err, postgres.ErrUserNotFound) {
		t.Errorf("CreateFile for a deleted account = %v, want ErrUserNotFound", err)
	}
}
