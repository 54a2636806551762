package core

import (
	"fmt"
	"net/mail"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Password limits. bcrypt reads at most 72 bytes, so longer passwords are
// refused rather than silently truncated.
const (
	MinPasswordChars = 8
	MaxPasswordBytes = 72
	MaxEmailBytes    = 254
	MaxFilenameBytes = 255
)

// NormalizeEmail trims and lower-cases an email and checks its form.
func NormalizeEmail(s string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(s))
	if e == "" {
		return "", FieldError("email", "email is required")
	}
	if len(e) > MaxEmailBytes {
		return "", FieldError("email", "email is longer than %d bytes", MaxEmailBytes)
	}
	addr, err := mail.ParseAddress(e)
	if err != nil || addr.Address != e || addr.Name != "" || !strings.Contains(e[strings.LastIndexByte(e, '@')+1:], ".") {
		return "", FieldError("email", "email is not a valid address")
	}
	return e, nil
}

// ValidatePassword checks the password rule: at least 8 characters and at
// most 72 bytes.
func ValidatePassword(p string) error {
	if !utf8.ValidString(p) {
		return FieldError("password", "password is not valid UTF-8")
	}
	if utf8.RuneCountInString(p) < MinPasswordChars {
		return FieldError("password", "password must be at least %d characters", MinPasswordChars)
	}
	if len(p) > MaxPasswordBytes {
		return FieldError("password", "password must be at most %d bytes", MaxPasswordBytes)
	}
	return nil
}

// SanitizeFilename turns a client-supplied name into one safe for an object
// key: the base name only, no path separators, no "..", no control or
// invisible characters (StripInvisible's), valid UTF-8, at most 255 bytes (cut on a rune
// boundary, keeping the extension when it is short). It returns an
// INVALID_FILENAME error when nothing usable is left.
func SanitizeFilename(name string) (string, error) {
	name = strings.ToValidUTF8(name, "")
	// Keep only the last path element, whatever the separator.
	name = name[strings.LastIndexAny(name, `/\`)+1:]
	var b strings.Builder
	for _, r := range name {
		switch {
		case isInvisible(r):
			continue
		case unicode.IsSpace(r):
			b.WriteByte(' ')
		case unicode.IsControl(r), r == utf8.RuneError:
			continue
		case strings.ContainsRune(`<>:"|?*`, r):
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	s := strings.Trim(b.String(), " .")
	if s == "" {
		return "", Errorf(CodeInvalidFilename, "filename is empty or has no usable characters")
	}
	return fitName(s, MaxFilenameBytes), nil
}

// fitName cuts a sanitised name s to at most n bytes on a rune boundary,
// keeping its extension when that is at most 16 bytes long.
func fitName(s string, n int) string {
	if len(s) <= n {
		return s
	}
	ext := path.Ext(s)
	if len(ext) > 16 {
		ext = ""
	}
	return strings.TrimRight(truncateUTF8(s[:len(s)-len(ext)], n-len(ext)), " .") + ext
}

// MaxKeyNameBytes is the longest stored name: an object key ends in the
// segment "{uuid}-{name}", and S3 servers that keep objects in files
// (MinIO, versitygw) refuse a path segment over 255 bytes.
const MaxKeyNameBytes = MaxFilenameBytes - keyIDBytes

// keyIDBytes is the UUID and the dash before the name in a key's last segment.
const keyIDBytes = 36 + 1

// UploadFilenames checks the name a client gave a file and returns the two
// names the file keeps: stored, sanitised (SanitizeFilename) and cut to
// MaxKeyNameBytes for its object key, and original, the name downloads
// carry. Neither keeps bidi controls or zero-width characters
// (StripInvisible). Both upload paths call it. It returns an
// INVALID_FILENAME error for a name that is empty, not UTF-8, over 255
// bytes, has control characters, or has nothing usable left.
func UploadFilenames(name string) (stored, original string, err error) {
	if err := ValidateOriginalFilename(name); err != nil {
		return "", "", err
	}
	if name = StripInvisible(name); name == "" {
		return "", "", Errorf(CodeInvalidFilename, "filename has only invisible characters")
	}
	stored, err = SanitizeFilename(name)
	if err != nil {
		return "", "", err
	}
	return fitName(stored, MaxKeyNameBytes), name, nil
}

// RenameFilenames is UploadFilenames for a new name of an existing file,
// which must be a name and not a path: one with / or \ is refused.
func RenameFilenames(name string) (stored, original string, err error) {
	if strings.ContainsAny(name, `/\`) {
		return "", "", Errorf(CodeInvalidFilename, `filename cannot contain / or \`)
	}
	return UploadFilenames(name)
}

// ObjectKey is the key of a new object of user userID with stored name
// name (from UploadFilenames): "user-{id}/{uuid}-{name}", its last segment
// within 255 bytes.
func ObjectKey(userID int64, name string) string {
	return fmt.Sprintf("user-%d/%s-%s", userID, uuid.NewString(), fitName(name, MaxKeyNameBytes))
}

// ValidateOriginalFilename checks the name kept for downloads: valid UTF-8,
// no NUL or other control characters, not empty, at most 255 bytes.
func ValidateOriginalFilename(name string) error {
	if name == "" {
		return Errorf(CodeInvalidFilename, "filename is empty")
	}
	if !utf8.ValidString(name) {
		return Errorf(CodeInvalidFilename, "filename is not valid UTF-8")
	}
	if len(name) > MaxFilenameBytes {
		return Errorf(CodeInvalidFilename, "filename is longer than %d bytes", MaxFilenameBytes)
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return Errorf(CodeInvalidFilename, "filename contains control characters")
		}
	}
	return nil
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// StripInvisible removes from s the characters that change how a name
// reads without showing themselves, so that "invoice\u202egnp.exe" cannot
// pose as a PNG. They are chosen by Unicode general category (see
// invisible), not listed one by one: format characters (Cf: bidi
// controls, zero-width characters, the BOM, the soft hyphen, tag
// characters U+E0000–U+E007F, interlinear annotation U+FFF9–U+FFFB), line
// and paragraph separators (Zl U+2028, Zp U+2029), private use (Co), and
// code points unassigned in Go's Unicode tables (Cn, unicode.Version),
// noncharacters such as U+FFFF among them.
func StripInvisible(s string) string {
	return strings.Map(func(r rune) rune {
		if isInvisible(r) {
			return -1
		}
		return r
	}, s)
}

// isInvisible reports whether r is of a category StripInvisible removes:
// Cf, Co or Cn, all in the unicode package's table C (Other), which also
// lists the unassigned code points; its Cc, control characters, are left
// to the callers (refused in names, a space for a tab in SanitizeFilename);
// or Zl, Zp.
func isInvisible(r rune) bool {
	return unicode.In(r, unicode.Zl, unicode.Zp) || (unicode.Is(unicode.C, r) && !unicode.Is(unicode.Cc, r))
}

// NumberedName is name with " (n)" before its extension ("notes.txt" →
// "notes (2).txt"; "README" → "README (2)"; ".env" → ".env (2)"), its stem
// cut so that the whole stays within MaxFilenameBytes.
func NumberedName(name string, n int) string {
	ext := NameExt(name)
	stem, suffix := name[:len(name)-len(ext)], fmt.Sprintf(" (%d)", n)
	return truncateUTF8(stem, MaxFilenameBytes-len(suffix)-len(ext)) + suffix + ext
}

// NameExt is the extension a numbered name keeps: from the last dot, when
// that is not the first character and the extension is at most 16 bytes;
// else "".
func NameExt(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 || len(name)-i > 16 {
		return ""
	}
	return name[i:]
}
