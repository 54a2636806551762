package httpapi_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/auth"
)

// enableTOTP turns two-factor login on for c's account and returns the
// secret and the recovery codes. The code it used is of the current step.
func enableTOTP(t *testing.T, c *client) (string, []string) {
	t.Helper()
	var setup struct {
		Secret     string `json:"secret"`
		OtpauthURI string `json:"otpauth_uri"`
	}
	c.json("POST", "/api/auth/totp/setup", nil, 200, &setup)
	u, err := url.Parse(setup.OtpauthURI)
	if err != nil || u.Scheme != "otpauth" || u.Query().Get("secret") != setup.Secret || u.Query().Get("issuer") != "hybrid-storage" {
		t.Fatalf("setup answer %+v", setup)
	}
	resp, b := c.post("/api/auth/totp/enable", `{"code":"000000"}`, nil)
	if resp.StatusCode != 400 || fieldOf(t, b) != "code" {
		cur, _ := auth.TOTPCode(setup.Secret, time.Now())
		if cur != "000000" {
			t.Fatalf("enable with a wrong code: %d %s", resp.StatusCode, b)
		}
	}
	code, _ := auth.TOTPCode(setup.Secret, time.Now())
	var on struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	c.json("POST", "/api/auth/totp/enable", map[string]string{"code": code}, 200, &on)
	if len(on.RecoveryCodes) != 10 {
		t.Fatalf("recovery codes %v", on.RecoveryCodes)
	}
	return setup.Secret, on.RecoveryCodes
}

func TestTOTPLogin(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	const email = "twofa@example.com"
	c := s.client(t).signup(email)
	resp, b := c.post("/api/auth/totp/enable", `{"code":"123456"}`, nil)
	wantError(t, resp, b, 409, "TOTP_SETUP_REQUIRED")
	enabledAt := time.Now()
	secret, recovery := enableTOTP(t, c)
	var me struct {
		TOTPEnabled bool `json:"totp_enabled"`
	}
	c.json("GET", "/api/auth/me", nil, 200, &me)
	if !me.TOTPEnabled {
		t.Error("me: totp_enabled false after enable")
	}
	resp, b = c.post("/api/auth/totp/setup", ``, nil)
	wantError(t, resp, b, 409, "TOTP_ENABLED")
	var rows int
	if err := s.app.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM users WHERE position($1::bytea IN totp_secret) > 0`, []byte(secret)).Scan(&rows); err != nil || rows != 0 {
		t.Errorf("the TOTP secret is stored in clear (%d, %v)", rows, err)
	}

	login := func(extra string) (int, []byte) {
		resp, b := s.client(t).post("/api/auth/login", `{"email":"`+email+`","password":"`+testPassword+`"`+extra+`}`, nil)
		return resp.StatusCode, b
	}
	// The right password alone: TOTP_REQUIRED; a wrong password says nothing of it.
	resp, b = s.client(t).post("/api/auth/login", `{"email":"`+email+`","password":"`+testPassword+`"}`, nil)
	wantError(t, resp, b, 401, "TOTP_REQUIRED")
	resp, b = s.client(t).post("/api/auth/login", `{"email":"`+email+`","password":"wrong password","totp_code":"123456"}`, nil)
	wantError(t, resp, b, 401, "INVALID_CREDENTIALS")

	// The code enable used is spent (unless its step ended meanwhile); the
	// next step's works once.
	t0 := time.Now()
	now, _ := auth.TOTPCode(secret, t0)
	if st, b := login(`,"totp_code":"` + now + `"`); (st != 401 || fieldOf(t, b) != "totp_code") && t0.Unix()/30 == enabledAt.Unix()/30 {
		t.Fatalf("login with the code enable used: %d %s, want 401 totp_code", st, b)
	}
	next, _ := auth.TOTPCode(secret, t0.Add(30*time.Second))
	if st, b := login(`,"totp_code":"` + next + `"`); st != 200 {
		t.Fatalf("login with the next code: %d %s", st, b)
	}
	if st, b := login(`,"totp_code":"` + next + `"`); st != 401 {
		t.Fatalf("the same code again: %d %s, want 401 (a code works once)", st, b)
	}
	// A recovery code, typed any way, once.
	if st, b := login(`,"recovery_code":"` + strings.ToUpper(recovery[0]) + `"`); st != 200 {
		t.Fatalf("login with a recovery code: %d %s", st, b)
	}
	if st, b := login(`,"recovery_code":"` + recovery[0] + `"`); st != 401 || fieldOf(t, b) != "recovery_code" {
		t.Fatalf("a used recovery code: %d %s, want 401 recovery_code", st, b)
	}

	// Disable: the password and a code, each checked.
	resp, b = c.post("/api/auth/totp/disable", `{"password":"wrong password","code":"`+recovery[1]+`"}`, nil)
	wantError(t, resp, b, 401, "INVALID_CREDENTIALS")
	if f := fieldOf(t, b); f != "password" {
		t.Errorf("field %q, want password", f)
	}
	resp, b = c.post("/api/auth/totp/disable", `{"password":"`+testPassword+`","code":"000000"}`, nil)
	wantError(t, resp, b, 401, "INVALID_CREDENTIALS")
	if f := fieldOf(t, b); f != "code" {
		t.Errorf("field %q, want code", f)
	}
	resp, b = c.post("/api/auth/totp/disable", `{"password":"`+testPassword+`","code":"`+recovery[1]+`"}`, nil)
	if resp.StatusCode != 204 {
		t.Fatalf("disable: %d %s", resp.StatusCode, b)
	}
	if st, b := login(``); st != 200 {
		t.Fatalf("login after disable: %d %s", st, b)
	}
	resp, b = c.post("/api/auth/totp/disable", `{"password":"`+testPassword+`","code":"`+recovery[2]+`"}`, nil)
	wantError(t, resp, b, 409, "TOTP_NOT_ENABLED")
}

// TestTOTPGuessing: wrong codes with the right password are wrong guesses
// under the login limits (five free, then progressive delays).
func TestTOTPGuessing(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	const email = "brute@example.com"
	c := s.client(t).signup(email)
	secret, _ := enableTOTP(t, c)
	attacker := s.clientFrom(t, "127.0.9.9")
	statuses := map[int]int{}
	for i := range 7 {
		code := strings.Repeat(string(rune('0'+i)), 6)
		if cur, _ := auth.TOTPCode(secret, time.Now()); cur == code {
			code = "999999"
		}
		resp, _ := attacker.post("/api/auth/login", `{"email":"`+email+`","password":"`+testPassword+`","totp_code":"`+code+`"}`, nil)
		statuses[resp.StatusCode]++
	}
	if statuses[401] != 5 || statuses[429] != 2 {
		t.Errorf("7 wrong codes: %v, want 5 x 401 then 429", statuses)
	}
	// Asking without a code is no guess, and no way around the delay either.
	resp, b := attacker.post("/api/auth/login", `{"email":"`+email+`","password":"`+testPassword+`"}`, nil)
	if resp.StatusCode != 429 {
		t.Errorf("login without a code while delayed: %d %s, want 429", resp.StatusCode, b)
	}
}
