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
	for _, s := range []string{"report.pdf", "../../x", `a\b`, "\x00", "é.txt", strings.Repeat("a", 300), "..", "a/",
		strings.Repeat("日", 83) + ".txt", strings.Repeat("a", 215) + ".txt", "x" + strings.Repeat("😀", 62) + ".md",
		"invoice\u202egnp.exe", "\ufeff\u200b.txt", "\u2066a\u2069",
		"a\U000E0041\U000E0042.txt", "\ufff9note\ufffbb.pdf", "line\u2028para\u2029.txt", "\ue000pua\U000F0000.bin",
		"un\u0378assigned\uffff.txt", "\u00a0nbsp\u3000.txt"} {
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
			if !unicode.IsGraphic(r) {
				t.Fatalf("SanitizeFilename(%q) = %q: keeps %U, not a graphic character", in, out, r)
			}
		}
		if again, err := SanitizeFilename(out); err != nil || again != out {
			t.Fatalf("not idempotent: %q → %q → %q (%v)", in, out, again, err)
		}
		checkUploadFilenames(t, in)
	})
}

// checkUploadFilenames checks what UploadFilenames makes of in: a stored
// name that fits an object key's last segment, is sanitised and stays as
// it is when given again.
func checkUploadFilenames(t *testing.T, in string) {
	stored, original, err := UploadFilenames(in)
	if err != nil {
		if ErrorCode(err) != CodeInvalidFilename {
			t.Fatalf("UploadFilenames(%q): error code %s", in, ErrorCode(err))
		}
		return
	}
	if stored == "" || len(stored) > MaxKeyNameBytes || !utf8.ValidString(stored) {
		t.Fatalf("UploadFilenames(%q) stored %q: empty, over %d bytes or invalid UTF-8", in, stored, MaxKeyNameBytes)
	}
	if original == "" || len(original) > MaxFilenameBytes || !utf8.ValidString(original) {
		t.Fatalf("UploadFilenames(%q) original %q: empty, over %d bytes or invalid UTF-8", in, original, MaxFilenameBytes)
	}
	// Both names hold graphic characters only (letters, marks, numbers,
	// punctuation, symbols, spaces: unicode.IsGraphic, a definition apart
	// from StripInvisible's), and the original keeps every one the client
	// sent, in order: control characters are refused, the rest stripped.
	for _, name := range []string{stored, original} {
		for _, r := range name {
			if !unicode.IsGraphic(r) {
				t.Fatalf("UploadFilenames(%q) = %q, %q: keeps %U, not a graphic character", in, stored, original, r)
			}
		}
	}
	if visible := strings.Map(func(r rune) rune {
		if unicode.IsGraphic(r) {
			return r
		}
		return -1
	}, in); original != visible {
		t.Fatalf("UploadFilenames(%q) original %q, want the graphic characters sent, %q", in, original, visible)
	}
	if again, err := SanitizeFilename(stored); err != nil || again != stored {
		t.Fatalf("stored name %q is not sanitised: → %q (%v)", stored, again, err)
	}
	if again, _, err := UploadFilenames(stored); err != nil || again != stored {
		t.Fatalf("stored name %q changes when given again: → %q (%v)", stored, again, err)
	}
	if key := ObjectKey(1, stored); len(key[strings.LastIndexByte(key, '/')+1:]) > MaxFilenameBytes {
		t.Fatalf("ObjectKey(%q) = %q: last segment over %d bytes", stored, key, MaxFilenameBytes)
	}
}

func TestUploadFilenames(t *testing.T) {
	tests := []struct {
		name, in   string
		wantStored string // "" means: only check the limits
		ok         bool
	}{
		{"short", "report.pdf", "report.pdf", true},
		{"218 bytes stay", strings.Repeat("a", 214) + ".txt", strings.Repeat("a", 214) + ".txt", true},
		{"219 bytes are cut", strings.Repeat("a", 215) + ".txt", strings.Repeat("a", 214) + ".txt", true},
		{"255 bytes are cut", strings.Repeat("a", 251) + ".txt", strings.Repeat("a", 214) + ".txt", true},
		{"3-byte rune at the cut", strings.Repeat("日", 83) + ".txt", strings.Repeat("日", 71) + ".txt", true},
		{"4-byte rune at the cut", "x" + strings.Repeat("😀", 62) + ".md", "x" + strings.Repeat("😀", 53) + ".md", true},
		{"space at the cut", strings.Repeat("f", 213) + " g" + strings.Repeat("h", 30) + ".txt", strings.Repeat("f", 213) + ".txt", true},
		{"long extension dropped", strings.Repeat("h", 200) + "." + strings.Repeat("x", 40), strings.Repeat("h", 200) + "." + strings.Repeat("x", 17), true},
		{"256 bytes refused", strings.Repeat("a", 252) + ".txt", "", false},
		{"empty refused", "", "", false},
		{"control refused", "a\x01.txt", "", false},
		{"bidi override", "invoice\u202egnp.exe", "invoicegnp.exe", true},
		{"zero-width and BOM", "\ufeffre\u200bport\u200c\u200d\u2060.pdf", "report.pdf", true},
		{"bidi isolates and marks", "a\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u202a\u202b\u202c\u202db.txt", "ab.txt", true},
		{"only invisible refused", "\u200b\u202e\ufeff", "", false},
		{"tag characters (Cf)", "a\U000E0041\U000E0042\U000E007Fb.txt", "ab.txt", true},
		{"interlinear annotation (Cf)", "\ufff9note\ufffa\ufffbb.pdf", "noteb.pdf", true},
		{"line and paragraph separators (Zl, Zp)", "line\u2028para\u2029.txt", "linepara.txt", true},
		{"private use (Co)", "\ue000pua\U000F0000\U0010FFFD.bin", "pua.bin", true},
		{"unassigned and noncharacters (Cn)", "un\u0378assigned\ufdd0\uffff.txt", "unassigned.txt", true},
		{"soft hyphen and Mongolian vowel separator (Cf)", "soft\u00adhy\u180ephen.txt", "softhyphen.txt", true},
		{"visible spaces stay", "a\u00a0b\u3000c.txt", "a b c.txt", true},
		{"only tag characters refused", "\U000E0041\U000E0042", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stored, original, err := UploadFilenames(tc.in)
			if !tc.ok {
				if ErrorCode(err) != CodeInvalidFilename {
					t.Fatalf("UploadFilenames(%d bytes) = %q, %v; want INVALID_FILENAME", len(tc.in), stored, err)
				}
				return
			}
			if err != nil || original != StripInvisible(tc.in) || stored != tc.wantStored {
				t.Fatalf("UploadFilenames(%d bytes) = %q (%d bytes), %q, %v; want %q", len(tc.in), stored, len(stored), original, err, tc.wantStored)
			}
			seg := ObjectKey(7, stored)
			if !strings.HasPrefix(seg, "user-7/") || len(seg[len("user-7/"):]) > 255 || !strings.HasSuffix(seg, "-"+stored) {
				t.Errorf("ObjectKey = %q: last segment over 255 bytes or not ending in the name", seg)
			}
		})
	}
}

// A new name is a name: any / or \ is refused (an upload keeps only the
// last path element instead); the rest is UploadFilenames.
func TestRenameFilenames(t *testing.T) {
	for _, bad := range []string{"a/b.txt", `a\b.txt`, "/", `..\x`, "", "a\x01.txt", "\u200b", strings.Repeat("a", 256)} {
		if _, _, err := RenameFilenames(bad); ErrorCode(err) != CodeInvalidFilename {
			t.Errorf("RenameFilenames(%q): %v, want INVALID_FILENAME", bad, err)
		}
	}
	stored, original, err := RenameFilenames("Q3: plan?\u200b.txt")
	if err != nil || stored != "Q3_ plan_.txt" || original != "Q3: plan?.txt" {
		t.Errorf("RenameFilenames: %q, %q, %v", stored, original, err)
	}
}

func TestNumberedName(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		want string
	}{
		{"notes.txt", 1, "notes (1).txt"},
		{"archive.tar.gz", 2, "archive.tar (2).gz"},
		{"README", 3, "README (3)"},
		{".env", 1, ".env (1)"},
		{"photo.a-very-long-extension-indeed", 1, "photo.a-very-long-extension-indeed (1)"},
	} {
		if got := NumberedName(tc.name, tc.n); got != tc.want {
			t.Errorf("NumberedName(%q, %d) = %q, want %q", tc.name, tc.n, got, tc.want)
		}
	}
	long := strings.Repeat("é", 126) + ".txt" // 256 bytes before the number
	if got := NumberedName(long, 12); len(got) > MaxFilenameBytes || !strings.HasSuffix(got, " (12).txt") || !utf8.ValidString(got) {
		t.Errorf("NumberedName(long) = %q (%d bytes)", got, len(got))
	}
}
