package core

import (
	_ "embed"
	"strings"
	"sync"
	"unicode/utf8"
)

// CheckNewPassword checks a password someone chooses (signup, change,
// reset): ValidatePassword's length rules, then that it is not one
// character repeated, not the account's email or the part of it before @,
// and not a common password (CommonPassword). Errors are VALIDATION_ERROR
// naming the field "password" and saying which rule.
func CheckNewPassword(password, email string) error {
	if err := ValidatePassword(password); err != nil {
		return err
	}
	lower := strings.ToLower(password)
	first, _ := utf8.DecodeRuneInString(lower)
	if strings.Trim(lower, string(first)) == "" {
		return FieldError("password", "password must not be one character repeated")
	}
	local, _, _ := strings.Cut(strings.ToLower(email), "@")
	if email != "" && (lower == strings.ToLower(email) || lower == local) {
		return FieldError("password", "password must not be your email address")
	}
	if CommonPassword(password) {
		return FieldError("password", "this password is one of the most common ones; choose another")
	}
	return nil
}

// CommonPassword reports whether password (compared in lower case) is on
// the blocklist of common passwords.
func CommonPassword(password string) bool {
	_, ok := commonPasswords()[strings.ToLower(password)]
	return ok
}

// commonPasswordsFile is the blocklist, one password a line, lower case:
// those of zxcvbn's 30,000 most common passwords (its "passwords"
// frequency list, from the Xato corpus; zxcvbn and the Go port
// github.com/trustelem/zxcvbn are MIT-licensed) that ValidatePassword
// would otherwise accept (8 characters to 72 bytes). NIST SP 800-63B
// 3.1.1.2: check new passwords against values known to be commonly used.
// TestCommonPasswordsFile keeps it equal to the list of the zxcvbn module
// go.mod pins (-update rewrites it).
//
//go:embed common-passwords.txt
var commonPasswordsFile string

// CommonPasswords is the blocklist, in the list's order (most common
// first), for GET /api/auth/password-blocklist.
func CommonPasswords() []string { return commonPasswordList() }

var commonPasswordList = sync.OnceValue(func() []string {
	return strings.Fields(commonPasswordsFile)
})

var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	list := commonPasswordList()
	m := make(map[string]struct{}, len(list))
	for _, p := range list {
		m[p] = struct{}{}
	}
	return m
})
