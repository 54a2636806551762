package postgres

import (
	"testing"
	"time"
)

func TestCursorRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 27, 12, 0, 0, 123456000, time.UTC)
	c := encodeCursor(at, 42)
	gotAt, gotID, err := decodeCursor(c)
	if err != nil || !gotAt.Equal(at) || gotID != 42 {
		t.Fatalf("decode(encode) = %v, %d, %v", gotAt, gotID, err)
	}
	for _, bad := range []string{"", "!!", "MTp4", "eA", "MTotMQ"} {
		if _, _, err := decodeCursor(bad); err == nil {
			t.Errorf("decodeCursor(%q) accepted", bad)
		}
	}
}

func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor(time.Now(), 1))
	f.Add("MTox")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		at, id, err := decodeCursor(s)
		if err != nil {
			return
		}
		if id <= 0 {
			t.Fatalf("decodeCursor(%q) gave id %d", s, id)
		}
		if again := encodeCursor(at, id); again != s {
			// Equivalent spellings are fine as long as they decode the same.
			at2, id2, err := decodeCursor(again)
			if err != nil || !at2.Equal(at) || id2 != id {
				t.Fatalf("re-encoding %q is not stable", s)
			}
		}
	})
}

func TestEscapeLike(t *testing.T) {
	if got := escapeLike(`100%_a\b`); got != `100\%\_a\\b` {
		t.Errorf("escapeLike = %q", got)
	}
}
