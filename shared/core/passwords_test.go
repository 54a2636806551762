package core

import (
	"flag"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn/frequency"
)

var update = flag.Bool("update", false, "rewrite common-passwords.txt from the zxcvbn module")

// TestCommonPasswordsFile: the embedded blocklist is zxcvbn's passwords
// list (of the version go.mod pins) filtered to what the length rules
// accept, lower case, without blanks (a line is one password).
func TestCommonPasswordsFile(t *testing.T) {
	var want []string
	seen := map[string]bool{}
	for _, p := range frequency.FrequencyLists["passwords"] {
		p = strings.ToLower(p)
		if utf8.RuneCountInString(p) < MinPasswordChars || len(p) > MaxPasswordBytes || strings.ContainsAny(p, " \t\r\n") || seen[p] {
			continue
		}
		seen[p] = true
		want = append(want, p)
	}
	file := strings.Join(want, "\n") + "\n"
	if *update {
		if err := os.WriteFile("common-passwords.txt", []byte(file), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if commonPasswordsFile != file {
		t.Fatalf("common-passwords.txt differs from zxcvbn's list (%d passwords): go test ./shared/core -run TestCommonPasswordsFile -update", len(want))
	}
	if len(want) < 10000 {
		t.Errorf("only %d common passwords", len(want))
	}
}

func TestCheckNewPassword(t *testing.T) {
	tests := []struct {
		password, email string
		ok              bool
	}{
		{"password", "", false},
		{"12345678", "", false},
		{"PassWord1", "", false}, // case-insensitive
		{"iloveyou", "", false},
		{"        ", "", false}, // eight spaces
		{"aaaaaaaaaa", "", false},
		{"éééééééé", "", false},
		{"ada@example.com", "Ada@Example.com", false},
		{"adalovelace", "adalovelace@example.com", false},
		{"short", "", false},
		{"correct horse battery", "ada@example.com", true},
		{"Tr0ub4dor&3x", "", true},
	}
	for _, tc := range tests {
		err := CheckNewPassword(tc.password, tc.email)
		if (err == nil) != tc.ok {
			t.Errorf("CheckNewPassword(%q, %q) = %v, want ok %v", tc.password, tc.email, err, tc.ok)
		}
		if err != nil && ErrorCode(err) != CodeValidation {
			t.Errorf("CheckNewPassword(%q): code %s", tc.password, ErrorCode(err))
		}
	}
}
