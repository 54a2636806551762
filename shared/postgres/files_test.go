package postgres_test

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
)

// seedSortable records files for userID whose names, sizes and upload
// times repeat (ties that only the id breaks), differ in case only, and
// sit in both tiers; every fifth goes to the trash. It returns the live
// ones.
func seedSortable(t *testing.T, db *postgres.DB, userID int64) []core.File {
	t.Helper()
	names := []string{"b.txt", "A.txt", "a.txt", "B.txt", "report.pdf", "Report.PDF", "a.txt", "zeta", "_under", "10.bin",
		"9.bin", "Alpha beta", "alpha Beta", "z", "Z", "photo 2.jpg", "photo 10.jpg", "a.txt", "~tilde", "file:colon"}
	base := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var live []core.File
	for i, name := range names {
		loc := core.TierHot
		if i%3 == 0 {
			loc = core.TierCold
		}
		f := core.File{UserID: userID, Filename: "stored-" + name, OriginalFilename: name, Size: int64(i % 4 * 100),
			ContentType: "text/plain", Location: loc, ObjectKey: fmt.Sprintf("user-%d/%d-%s", userID, i, name),
			AccessURL: "http://tier/" + name, ChecksumSHA256: strings.Repeat("0", 64)}
		if err := db.CreateFile(t.Context(), &f); err != nil {
			t.Fatal(err)
		}
		// Upload times in fours, each four at the same microsecond.
		f.UploadedAt = base.Add(time.Duration(i/4) * time.Minute)
		if _, err := db.Pool.Exec(t.Context(), `UPDATE files SET uploaded_at = $2 WHERE id = $1`, f.ID, f.UploadedAt); err != nil {
			t.Fatal(err)
		}
		if i%5 == 4 {
			if _, err := db.Pool.Exec(t.Context(), `UPDATE files SET deleted_at = now(), purge_at = now() + interval '1 day' WHERE id = $1`, f.ID); err != nil {
				t.Fatal(err)
			}
			continue
		}
		live = append(live, f)
	}
	return live
}

// wantOrder is files in sort s and order o, ties by id: names compare by
// their lowercase bytes (the seed's names are ASCII, where that is what
// lower() in the "C" collation does).
func wantOrder(files []core.File, s core.FileSort, o core.SortOrder) []int64 {
	sorted := slices.Clone(files)
	slices.SortFunc(sorted, func(a, b core.File) int {
		var c int
		switch s {
		case core.SortName:
			c = strings.Compare(strings.ToLower(a.OriginalFilename), strings.ToLower(b.OriginalFilename))
		case core.SortSize:
			c = cmp.Compare(a.Size, b.Size)
		default:
			c = a.UploadedAt.Compare(b.UploadedAt)
		}
		if c == 0 {
			c = cmp.Compare(a.ID, b.ID)
		}
		if o == core.OrderDesc {
			c = -c
		}
		return c
	})
	ids := make([]int64, len(sorted))
	for i, f := range sorted {
		ids[i] = f.ID
	}
	return ids
}

// walk lists every page of p, limit rows at a time, and returns the ids
// in the order listed.
func walk(t *testing.T, db *postgres.DB, userID int64, p postgres.ListParams) []int64 {
	t.Helper()
	var ids []int64
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatalf("%+v: more than 100 pages", p)
		}
		files, next, err := db.ListFiles(t.Context(), userID, p)
		if err != nil {
			t.Fatalf("%+v: %v", p, err)
		}
		if len(files) > p.Limit {
			t.Fatalf("%+v: %d rows, limit %d", p, len(files), p.Limit)
		}
		for _, f := range files {
			ids = append(ids, f.ID)
		}
		if next == "" {
			return ids
		}
		p.Cursor = next
	}
}

// TestListFilesSortsAndPages walks every sort × order page by page (with
// and without the search and tier filters): each live file exactly once,
// in order, ties by id, none of the trash and none of another user.
func TestListFilesSortsAndPages(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	u := createUser(t, db, "sorter@example.com")
	other := createUser(t, db, "other-sorter@example.com")
	live := seedSortable(t, db, u.ID)
	seedSortable(t, db, other.ID)

	filters := []struct {
		name     string
		q        string
		location core.Tier
		keep     func(core.File) bool
	}{
		{"all", "", "", func(core.File) bool { return true }},
		{"q=a.", "A.", "", func(f core.File) bool { return strings.Contains(strings.ToLower(f.OriginalFilename), "a.") }},
		{"location=minio", "", core.TierHot, func(f core.File) bool { return f.Location == core.TierHot }},
	}
	for _, s := range append(core.FileSorts, "") {
		for _, o := range append(core.SortOrders, "") {
			for _, fl := range filters {
				for _, limit := range []int{1, 3, 200} {
					t.Run(fmt.Sprintf("%s/%s/%s/limit=%d", s, o, fl.name, limit), func(t *testing.T) {
						files := slices.DeleteFunc(slices.Clone(live), func(f core.File) bool { return !fl.keep(f) })
						ws, wo := s, o
						if ws == "" {
							ws = core.DefaultFileSort
						}
						if wo == "" {
							wo = ws.DefaultOrder()
						}
						want := wantOrder(files, ws, wo)
						got := walk(t, db, u.ID, postgres.ListParams{Limit: limit, Sort: s, Order: o, Query: fl.q, Location: fl.location})
						if !slices.Equal(got, want) {
							t.Errorf("got ids %v, want %v", got, want)
						}
					})
				}
			}
		}
	}
}

// TestListFilesDefaults: no sort is uploaded_at newest first; each sort
// has its own default order (name A to Z, size largest first).
func TestListFilesDefaults(t *testing.T) {
	if got := core.DefaultFileSort; got != core.SortUploadedAt {
		t.Errorf("default sort %q, want uploaded_at", got)
	}
	for s, want := range map[core.FileSort]core.SortOrder{core.SortName: core.OrderAsc, core.SortSize: core.OrderDesc, core.SortUploadedAt: core.OrderDesc} {
		if got := s.DefaultOrder(); got != want {
			t.Errorf("%s: default order %q, want %q", s, got, want)
		}
	}
}

// TestListFilesRefusesCursorOfAnotherSort: a cursor carries its sort and
// order; with another sort or order it is refused, as are unknown sorts,
// orders and cursors that are not ours.
func TestListFilesRefusesCursorOfAnotherSort(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	u := createUser(t, db, "cursor-sort@example.com")
	seedSortable(t, db, u.ID)
	_, next, err := db.ListFiles(t.Context(), u.ID, postgres.ListParams{Limit: 2, Sort: core.SortName, Order: core.OrderAsc})
	if err != nil || next == "" {
		t.Fatalf("first page: next %q, %v", next, err)
	}
	field := func(err error) string {
		var e *core.Error
		if !errors.As(err, &e) || e.Code != core.CodeValidation {
			return fmt.Sprintf("not a validation error: %v", err)
		}
		return e.Field
	}
	for _, tc := range []struct {
		name      string
		p         postgres.ListParams
		wantField string
		wantErr   error
	}{
		{"same sort, other order", postgres.ListParams{Sort: core.SortName, Order: core.OrderDesc, Cursor: next}, "cursor", postgres.ErrCursorSort},
		{"other sort, same order", postgres.ListParams{Sort: core.SortSize, Order: core.OrderAsc, Cursor: next}, "cursor", postgres.ErrCursorSort},
		{"defaults", postgres.ListParams{Cursor: next}, "cursor", postgres.ErrCursorSort},
		{"not a cursor", postgres.ListParams{Sort: core.SortName, Cursor: "nope!"}, "cursor", postgres.ErrBadCursor},
		{"unknown sort", postgres.ListParams{Sort: "date"}, "sort", nil},
		{"unknown order", postgres.ListParams{Sort: core.SortName, Order: "up"}, "order", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.p.Limit = 2
			files, _, err := db.ListFiles(t.Context(), u.ID, tc.p)
			if got := field(err); got != tc.wantField {
				t.Errorf("got field %q (%v, %d files), want %q", got, err, len(files), tc.wantField)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("got %v, want %v", err, tc.wantErr)
			}
		})
	}
	// The same cursor with its own sort and order goes on.
	if _, _, err := db.ListFiles(t.Context(), u.ID, postgres.ListParams{Limit: 2, Sort: core.SortName, Order: core.OrderAsc, Cursor: next}); err != nil {
		t.Errorf("own cursor: %v", err)
	}
}
