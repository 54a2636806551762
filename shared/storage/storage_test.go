package storage

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
)

func TestContentDisposition(t *testing.T) {
	tests := []struct{ in, want string }{
		{"report.pdf", `attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`},
		{"Résumé.pdf", `attachment; filename="R_sum_.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9.pdf`},
		{`a"b\c;d.txt`, `attachment; filename="a_b_c_d.txt"; filename*=UTF-8''a%22b%5Cc%3Bd.txt`},
		{"日本.txt", `attachment; filename="__.txt"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt`},
		{"日本", `attachment; filename="download"; filename*=UTF-8''%E6%97%A5%E6%9C%AC`},
		// Bidi controls and zero-width characters never reach the header.
		{"invoice\u202egnp.exe", `attachment; filename="invoicegnp.exe"; filename*=UTF-8''invoicegnp.exe`},
		{"\ufeffa\u200b\u200c\u200db\u2060\u2066\u2069\u200e\u200f\u061c.txt", `attachment; filename="ab.txt"; filename*=UTF-8''ab.txt`},
	}
	for _, tc := range tests {
		if got := ContentDisposition(tc.in); got != tc.want {
			t.Errorf("ContentDisposition(%q)\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

func FuzzContentDisposition(f *testing.F) {
	for _, s := range []string{"a.txt", "Résumé.pdf", `"quoted"`, "line\nbreak", "\x00", "%41", "日本語.doc", "a\u202eb", "\u200b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		h := ContentDisposition(name)
		for i := 0; i < len(h); i++ {
			if h[i] < 0x20 || h[i] > 0x7e {
				t.Fatalf("header %q has byte %#x outside printable ASCII", h, h[i])
			}
		}
		disp, params, err := mime.ParseMediaType(h)
		if err != nil || disp != "attachment" {
			t.Fatalf("header %q does not parse: %v", h, err)
		}
		// The exact name round-trips through filename* when it is valid UTF-8.
		// The exact name, less invisible characters, round-trips through
		// filename* when it is valid UTF-8.
		if want := core.StripInvisible(name); utf8.ValidString(name) && params["filename"] != want {
			_, enc, _ := strings.Cut(h, "filename*=UTF-8''")
			dec, err := url.PathUnescape(enc)
			if err != nil || dec != want {
				t.Fatalf("filename* of %q decodes to %q (%v), want %q", name, dec, err, want)
			}
		}
	})
}

func TestRangeReader(t *testing.T) {
	data := []byte("0123456789abcdefghij")
	opens := 0
	r := RangeReader(int64(len(data)), nil, func(off, n int64) (io.ReadCloser, error) {
		opens++
		if n != int64(len(data))-off {
			t.Errorf("open(%d, %d): want the rest of the object", off, n)
		}
		return io.NopCloser(bytes.NewReader(data[off:])), nil
	})
	if opens != 0 {
		t.Fatal("opened before reading")
	}
	if n, _ := r.Seek(-5, io.SeekEnd); n != 15 {
		t.Fatalf("Seek end-5 = %d", n)
	}
	got, _ := io.ReadAll(r)
	if string(got) != "fghij" {
		t.Errorf("tail = %q", got)
	}
	r.Seek(3, io.SeekStart)
	buf := make([]byte, 4)
	io.ReadFull(r, buf)
	if string(buf) != "3456" || opens != 2 {
		t.Errorf("read %q after seek, %d opens", buf, opens)
	}
	if _, err := r.Seek(-1, io.SeekStart); err == nil {
		t.Error("negative seek accepted")
	}
	short := RangeReader(10, nil, func(off, n int64) (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader("abc")), nil
	})
	if _, err := io.ReadAll(short); err != io.ErrUnexpectedEOF {
		t.Errorf("short object: err %v, want ErrUnexpectedEOF", err)
	}
}

// With spans, each GET stops at the end of the span it starts in: a
// multi-range download costs one bounded GET per range.
func TestRangeReaderSpans(t *testing.T) {
	data := []byte("0123456789abcdefghij")
	var asked []ByteRange
	spans := []ByteRange{{2, 3}, {10, 5}}
	r := RangeReader(int64(len(data)), spans, func(off, n int64) (io.ReadCloser, error) {
		asked = append(asked, ByteRange{off, n})
		// A server that sends more than asked is cut to the span.
		return io.NopCloser(bytes.NewReader(data[off:])), nil
	})
	read := func(off, n int64) string {
		t.Helper()
		if _, err := r.Seek(off, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			t.Fatalf("read %d bytes at %d: %v", n, off, err)
		}
		return string(buf)
	}
	if got := read(2, 3); got != "234" {
		t.Errorf("span 2+3 = %q", got)
	}
	if got := read(10, 5); got != "abcde" {
		t.Errorf("span 10+5 = %q", got)
	}
	// Past a span's end, reading goes on with a GET to the end of the object.
	if got := read(3, 5); got != "34567" {
		t.Errorf("3+5 across a span end = %q", got)
	}
	want := []ByteRange{{2, 3}, {10, 5}, {3, 2}, {5, 15}}
	if fmt.Sprint(asked) != fmt.Sprint(want) {
		t.Errorf("GETs %v, want %v", asked, want)
	}
	if rest, err := io.ReadAll(r); err != nil || string(rest) != "89abcdefghij" {
		t.Errorf("rest %q, %v", rest, err)
	}
}

func TestTrimETag(t *testing.T) {
	for in, want := range map[string]string{
		`"abc"`: "abc", "abc": "abc", `""`: "", `"`: `"`, "": "", `"a"b"`: `a"b`, `"abc`: `"abc`,
	} {
		if got := TrimETag(in); got != want {
			t.Errorf("TrimETag(%q) = %q, want %q", in, got, want)
		}
	}
}
