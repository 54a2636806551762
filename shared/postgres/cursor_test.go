package postgres

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
)

func TestCursorRoundTrip(t *testing.T) {
	f := core.File{ID: 42, OriginalFilename: "Report: Q3.pdf", Size: 1234,
		UploadedAt: time.Date(2026, 11, 27, 12, 0, 0, 123456000, time.UTC)}
	for _, s := range core.FileSorts {
		for _, o := range core.SortOrders {
			want := cursorAfter(s, o, f)
			got, err := decodeCursor(want.encode())
			if err != nil || got != want {
				t.Errorf("%s %s: decode(encode) = %+v, %v; want %+v", s, o, got, err, want)
			}
		}
	}
	at := cursorAfter(core.SortUploadedAt, core.OrderDesc, f).keyArg()
	if got, ok := at.(time.Time); !ok || !got.Equal(f.UploadedAt) {
		t.Errorf("uploaded_at key = %v, want %v", at, f.UploadedAt)
	}
	if got := cursorAfter(core.SortSize, core.OrderAsc, f).keyArg(); got != int64(1234) {
		t.Errorf("size key = %v, want 1234", got)
	}
	if got := cursorAfter(core.SortName, core.OrderAsc, f).keyArg(); got != f.OriginalFilename {
		t.Errorf("name key = %v, want %q", got, f.OriginalFilename)
	}
	// A longest name still makes a cursor decodeCursor accepts.
	long := f
	long.OriginalFilename = strings.Repeat("é", core.MaxFilenameBytes/2)
	if _, err := decodeCursor(cursorAfter(core.SortName, core.OrderDesc, long).encode()); err != nil {
		t.Errorf("cursor of a %d-byte name: %v", len(long.OriginalFilename), err)
	}
}

func TestDecodeCursorRefuses(t *testing.T) {
	raw := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, bad := range []string{
		"", "!!", "MTp4", "eA", "MTotMQ",
		raw("1700000000000000:42"),                  // the cursor of the list before sorting
		raw("uploaded_at:desc:42"),                  // no key
		raw("date:desc:42:1"),                       // unknown sort
		raw("size:up:42:1"),                         // unknown order
		raw("size:asc:0:1"),                         // id not positive
		raw("size:asc:+4:1"),                        // id spelt twice
		raw("size:asc:4:-1"),                        // negative size
		raw("size:asc:4:1.5"),                       // not a whole number
		raw("uploaded_at:asc:4:999999999999999999"), // after year 9999
		raw("name:asc:4:"),                          // empty name
		raw("name:asc:4:a\x00b"),                    // NUL
		raw("name:asc:4:\xff"),                      // not UTF-8
		raw("name:asc:4:" + strings.Repeat("a", core.MaxFilenameBytes+1)),
	} {
		if c, err := decodeCursor(bad); err == nil {
			t.Errorf("decodeCursor(%q) = %+v, want an error", bad, c)
		}
	}
}

func TestTimeCursorRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 27, 12, 0, 0, 123456000, time.UTC)
	c := encodeTimeCursor(at, 42)
	gotAt, gotID, err := decodeTimeCursor(c)
	if err != nil || !gotAt.Equal(at) || gotID != 42 {
		t.Fatalf("decode(encode) = %v, %d, %v", gotAt, gotID, err)
	}
	for _, bad := range []string{"", "!!", "MTp4", "eA", "MTotMQ"} {
		if _, _, err := decodeTimeCursor(bad); err == nil {
			t.Errorf("decodeTimeCursor(%q) accepted", bad)
		}
	}
}

// FuzzDecodeCursor: whatever decodeCursor accepts names a known sort and
// order, a positive id and a key of its sort that the query can bind, and
// encodes back to itself.
func FuzzDecodeCursor(f *testing.F) {
	file := core.File{ID: 7, OriginalFilename: "a:b.txt", Size: 10, UploadedAt: time.Now()}
	for _, s := range core.FileSorts {
		for _, o := range core.SortOrders {
			f.Add(cursorAfter(s, o, file).encode())
		}
	}
	f.Add(encodeTimeCursor(time.Now(), 1))
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeCursor(s)
		if err != nil {
			return
		}
		if !c.Sort.Valid() || !c.Order.Valid() || c.ID <= 0 {
			t.Fatalf("decodeCursor(%q) = %+v", s, c)
		}
		switch k := c.keyArg().(type) {
		case time.Time:
			if k.Year() > 9999 || k.Year() < 1970 {
				t.Fatalf("decodeCursor(%q) gave time %v", s, k)
			}
		case int64:
			if k < 0 {
				t.Fatalf("decodeCursor(%q) gave size %d", s, k)
			}
		case string:
			if k == "" || len(k) > core.MaxFilenameBytes || strings.ContainsRune(k, 0) {
				t.Fatalf("decodeCursor(%q) gave name %q", s, k)
			}
		}
		again, err := decodeCursor(c.encode())
		if err != nil || again != c {
			t.Fatalf("re-encoding %q: %+v, %v; want %+v", s, again, err, c)
		}
	})
}

func TestEscapeLike(t *testing.T) {
	if got := escapeLike(`100%_a\b`); got != `100\%\_a\\b` {
		t.Errorf("escapeLike = %q", got)
	}
}
