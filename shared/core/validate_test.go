package core

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestNormalizeEmail(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"  Ada@Example.COM ", "ada@example.com", true},
		{"a.b+c@sub.example.org", "a.b+c@sub.example.org", true},
		{"", "", false},
		{"no-at-sign", "", false},
		{"a@b", "", false},
		{"Ada <ada@example.com>", "", false},
		{"a@@example.com", "", false},
		{strings.Repeat("a", 250) + "@example.com", "", false},
	}
	for _, tc := range tests {
		got, err := NormalizeEmail(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && ErrorCode(err) != CodeValidation {
			t.Errorf("NormalizeEmail(%q) code %s, want VALIDATION_ERROR", tc.in, ErrorCode(err))
		}
	}
}

func TestValidatePassword(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"1234567", false},
		{"12345678", true},
		{strings.Repeat("x", 72), true},
		{strings.Repeat("x", 73), false},
		{strings.Repeat("é", 36), true},  // 72 bytes
		{strings.Repeat("é", 37), false}, // 74 bytes
		{"ééééééé", false},               // 7 characters, 14 bytes
		{"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8", false},
	}
	for _, tc := range tests {
		if err := ValidatePassword(tc.in); (err == nil) != tc.ok {
			t.Errorf("ValidatePassword(%q) = %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}

func TestSanitizeFilename(t *testing.T) {
	tests := []struct{ in, want string }{
		{"report.pdf", "report.pdf"},
		{"../../etc/passwd", "passwd"},
		{`C:\Users\me\file.txt`, "file.txt"},
		{"a\x00b\x1fc.txt", "abc.txt"},
		{"  spaced  .txt  ", "spaced  .txt"},
		{"tab\there.txt", "tab here.txt"},
		{"what?.txt", "what_.txt"},
		{"Résumé.pdf", "Résumé.pdf"},
		{"rtl\u202egpj.exe", "rtlgpj.exe"},
		{"...", ""},
		{"/", ""},
		{"", ""},
	}
	for _, tc := range tests {
		got, err := SanitizeFilename(tc.in)
		if tc.want == "" {
			if err == nil || ErrorCode(err) != CodeInvalidFilename {
				t.Errorf("SanitizeFilename(%q) = %q, %v; want INVALID_FILENAME", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("SanitizeFilename(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	long := strings.Repeat("é", 200) + ".tar.gz"
	got, err := SanitizeFilename(long)
	if err != nil || len(got) > MaxFilenameBytes || !strings.HasSuffix(got, ".gz") || !utf8.ValidString(got) {
		t.Errorf("long name → %q (%d bytes), %v", got, len(got), err)
	}
}

func FuzzSanitizeFilename(f *testing.F) {
	for _, s := range []string{"report.pdf", "../../x", `a\b`, "\x00", "é.txt", strings.Repeat("a", 300), "..", "a/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := SanitizeFilename(in)
		if err != nil {
			if ErrorCode(err) != CodeInvalidFilename {
				t.Fatalf("error code %s", ErrorCode(err))
			}
			return
		}
		if out == "" || len(out) > MaxFilenameBytes || !utf8.ValidString(out) {
			t.Fatalf("SanitizeFilename(%q) = %q: empty, too long or invalid UTF-8", in, out)
		}
		if strings.ContainsAny(out, `/\`) || out == "." || out == ".." || strings.HasPrefix(out, ".") {
			t.Fatalf("SanitizeFilename(%q) = %q: path element", in, out)
		}
		for _, r := range out {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
				t.Fatalf("SanitizeFilename(%q) = %q: control or format character %U", in, out, r)
			}
		}
		if again, err := SanitizeFilename(out); err != nil || again != out {
			t.Fatalf("not idempotent: %q → %q → %q (%v)", in, out, again, err)
		}
	})
}
