package postgres_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
)

// A streamed upload whose folder went to the trash while its bytes
// arrived is recorded in the root, not lost to the trash.
func TestRecordUploadFolderGone(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	u := createUser(t, db, "folder-gone@example.com")
	d, err := db.CreateFolder(ctx, u.ID, nil, "Gone")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.TrashFolder(ctx, u.ID, d.ID, time.Hour, false); err != nil {
		t.Fatal(err)
	}
	f := core.File{UserID: u.ID, Filename: "a.txt", OriginalFilename: "a.txt", Size: 1, ContentType: "text/plain",
		Location: core.TierHot, ObjectKey: "user-x/gone-a.txt", AccessURL: "u", ChecksumSHA256: strings.Repeat("a", 64), FolderID: &d.ID}
	if err := db.CreateFile(ctx, &f); err != nil {
		t.Fatal(err)
	}
	if f.FolderID != nil {
		t.Errorf("recorded into folder %d (in the trash), want the root", *f.FolderID)
	}
	live, err := db.CreateFolder(ctx, u.ID, nil, "Live")
	if err != nil {
		t.Fatal(err)
	}
	g := core.File{UserID: u.ID, Filename: "b.txt", OriginalFilename: "b.txt", Size: 1, ContentType: "text/plain",
		Location: core.TierHot, ObjectKey: "user-x/live-b.txt", AccessURL: "u", ChecksumSHA256: strings.Repeat("a", 64), FolderID: &live.ID}
	if err := db.CreateFile(ctx, &g); err != nil || g.FolderID == nil || *g.FolderID != live.ID {
		t.Errorf("recorded into %v (%v), want Live", g.FolderID, err)
	}
}
