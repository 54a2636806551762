package storage

import (
	"bytes"
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
	r := RangeReader(int64(len(data)), func(off int64) (io.ReadCloser, error) {
		opens++
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
	short := RangeReader(10, func(off int64) (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader("abc")), nil
	})
	if _, err := io.ReadAll(short); err != io.ErrUnexpectedEOF {
		t.Errorf("short object: err %v, want ErrUnexpectedEOF", err)
	}
}
