package postgres_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
)

func newFiles(t *testing.T, db *postgres.DB, userID int64, n int) []int64 {
	t.Helper()
	ids := make([]int64, n)
	for i := range ids {
		f := core.File{UserID: userID, Filename: fmt.Sprintf("f%d.bin", i), OriginalFilename: fmt.Sprintf("f%d.bin", i), Size: 100,
			ContentType: "application/octet-stream", Location: core.TierHot, ObjectKey: fmt.Sprintf("user-%d/bulk-%d", userID, i),
			AccessURL: "http://tier/x", ChecksumSHA256: strings.Repeat("0", 64)}
		if err := db.CreateFile(t.Context(), &f); err != nil {
			t.Fatal(err)
		}
		ids[i] = f.ID
	}
	return ids
}

func sorted(ids []int64) []int64 {
	s := slices.Clone(ids)
	slices.Sort(s)
	return s
}

// TrashFiles and RestoreFiles act on the caller's ids in the right state
// only, in one statement each, and the usage counters follow.
func TestBulkTrashAndRestore(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	me := createUser(t, db, "bulk@example.com")
	other := createUser(t, db, "bulk-other@example.com")
	mine := newFiles(t, db, me.ID, 4)
	theirs := newFiles(t, db, other.ID, 1)
	if _, err := db.TrashFile(ctx, me.ID, mine[3], time.Hour); err != nil {
		t.Fatal(err)
	}

	ask := []int64{mine[0], theirs[0], mine[1], 999999, mine[3]}
	got, err := db.TrashFiles(ctx, me.ID, ask, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if want := sorted([]int64{mine[0], mine[1]}); !slices.Equal(sorted(got), want) {
		t.Fatalf("trashed %v, want %v (not another user's, a missing one or one already in the trash)", got, want)
	}
	if _, err := db.FileForUser(ctx, other.ID, theirs[0]); err != nil {
		t.Fatalf("another user's file after my bulk trash: %v", err)
	}
	trash, _, err := db.ListTrash(ctx, me.ID, 10, "")
	if err != nil || len(trash) != 3 {
		t.Fatalf("trash %d files (%v), want 3", len(trash), err)
	}
	for _, e := range trash {
		f := e.File
		if f == nil {
			t.Fatalf("a folder entry in a trash of files: %+v", e.Folder)
		}
		if f.PurgeAt == nil || f.PurgeAt.Before(time.Now().Add(59*time.Minute)) {
			t.Errorf("file %d purge_at %v, want about an hour from now", f.ID, f.PurgeAt)
		}
	}
	checkUsage(t, db)

	// Restore: a live one, another user's and a purging one are left out.
	if _, err := db.TrashFile(ctx, other.ID, theirs[0], time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := db.BeginPurge(ctx, me.ID, mine[3]); err != nil {
		t.Fatal(err)
	}
	got, err = db.RestoreFiles(ctx, me.ID, []int64{mine[0], mine[2], theirs[0], mine[3], mine[1], 123456789})
	if err != nil {
		t.Fatal(err)
	}
	if want := sorted([]int64{mine[0], mine[1]}); !slices.Equal(sorted(got), want) {
		t.Fatalf("restored %v, want %v", got, want)
	}
	for _, id := range mine[:3] {
		if _, err := db.FileForUser(ctx, me.ID, id); err != nil {
			t.Errorf("file %d after restore: %v", id, err)
		}
	}
	if _, err := db.TrashedFileForUser(ctx, other.ID, theirs[0]); err != nil {
		t.Errorf("another user's trashed file after my bulk restore: %v", err)
	}
	checkUsage(t, db)

	// Nothing asked, nothing done.
	if got, err := db.RestoreFiles(ctx, me.ID, []int64{theirs[0]}); err != nil || len(got) != 0 {
		t.Fatalf("restore of another user's file: %v, %v", got, err)
	}
}

func checkUsage(t *testing.T, db *postgres.DB) {
	t.Helper()
	drifts, err := db.ReconcileUsage(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range drifts {
		t.Errorf("user %d's counters %v, rows %v", d.UserID, d.Had, d.Actual)
	}
}
