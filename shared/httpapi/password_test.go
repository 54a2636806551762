package httpapi_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/testenv"
)

// withMail configures the stack's mail server: the tests' mailpit.
func withMail(tb testing.TB) (edit func(*config.Config), api string) {
	smtp, api := testenv.Mailpit(tb)
	return func(c *config.Config) {
		c.SMTPURL = "smtp://hs-test:any-password@" + smtp
		c.MailFrom = "hybrid-storage <no-reply@example.com>"
	}, api
}

// uniqueEmail is an address no other test (or run) mails: mailpit is shared.
func uniqueEmail(name string) string {
	return fmt.Sprintf("%s-%d@example.com", name, rand.Int64())
}

// fieldOf returns the field of an error answer.
func fieldOf(tb testing.TB, b []byte) string {
	var e struct {
		Field string `json:"field"`
	}
	_ = json.Unmarshal(b, &e)
	return e.Field
}

func (c *client) post(path, body string, header map[string]string) (*http.Response, []byte) {
	c.tb.Helper()
	h := map[string]string{"Content-Type": "application/json"}
	for k, v := range header {
		h[k] = v
	}
	return c.do("POST", path, strings.NewReader(body), h)
}

func TestPasswordChange(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("change@example.com")
	other := s.client(t)
	other.logIn("change@example.com", testPassword)

	resp, b := c.post("/api/auth/password", `{"current_password":"wrong password","new_password":"a brand new secret"}`, nil)
	wantError(t, resp, b, 401, "INVALID_CREDENTIALS")
	if f := fieldOf(t, b); f != "current_password" {
		t.Errorf("field %q, want current_password", f)
	}
	for _, weak := range []string{"password1", "12345678", "        ", "change@example.com", "CHANGE", "Iloveyou!"[:8]} {
		resp, b = c.post("/api/auth/password", `{"current_password":"`+testPassword+`","new_password":"`+weak+`"}`, nil)
		wantError(t, resp, b, 400, "VALIDATION_ERROR")
		if f := fieldOf(t, b); f != "new_password" {
			t.Errorf("weak %q: field %q, want new_password", weak, f)
		}
	}
	other.wantMe(200) // nothing changed yet
	resp, b = c.post("/api/auth/password", `{"current_password":"`+testPassword+`","new_password":"a brand new secret"}`, nil)
	if resp.StatusCode != 204 {
		t.Fatalf("change password: %d %s", resp.StatusCode, b)
	}
	c.wantMe(200)     // the caller's session goes on
	other.wantMe(401) // every other one ends, at once
	resp, b = other.refresh(nil)
	wantError(t, resp, b, 401, "SESSION_REVOKED")
	resp, b = s.client(t).post("/api/auth/login", `{"email":"change@example.com","password":"`+testPassword+`"}`, nil)
	wantError(t, resp, b, 401, "INVALID_CREDENTIALS")
	s.client(t).logIn("change@example.com", "a brand new secret")
}

var resetLink = regexp.MustCompile(`(https?://[^\s/]+)/reset-password#([A-Za-z0-9_-]{43})`)

// resetTokenFrom reads the reset link of the newest mail to email.
func resetTokenFrom(tb testing.TB, api, email string, want int) (origin, token string) {
	tb.Helper()
	mails := testenv.MailsTo(tb, api, email, want, 10*time.Second)
	if len(mails) < want {
		tb.Fatalf("%d mails to %s, want %d", len(mails), email, want)
	}
	m := resetLink.FindStringSubmatch(mails[0].Text)
	if m == nil {
		tb.Fatalf("no reset link in %q", mails[0].Text)
	}
	return m[1], m[2]
}

func TestPasswordResetByMail(t *testing.T) {
	t.Parallel()
	edit, api := withMail(t)
	s := newStack(t, edit)
	email := uniqueEmail("reset")
	c := s.client(t).signup(email)
	other := s.client(t)
	other.logIn(email, testPassword)

	var accepted struct {
		Message string `json:"message"`
	}
	s.client(t).json("POST", "/api/auth/password-reset", map[string]string{"email": strings.ToUpper(email)}, 202, &accepted)
	origin, tok := resetTokenFrom(t, api, email, 1)
	if origin != "http://localhost:5173" { // the first of CORS_ORIGINS without an Origin header
		t.Errorf("link origin %q, want the web app's", origin)
	}
	mails := testenv.MailsTo(t, api, email, 1, 0)
	if mails[0].From.Address != "no-reply@example.com" || !strings.Contains(mails[0].Subject, "Reset") {
		t.Errorf("mail from %q subject %q", mails[0].From.Address, mails[0].Subject)
	}

	// A weak new password is refused and the token stays usable.
	anon := s.client(t)
	resp, b := anon.post("/api/auth/password-reset/confirm", `{"token":"`+tok+`","new_password":"password1"}`, nil)
	wantError(t, resp, b, 400, "VALIDATION_ERROR")
	if f := fieldOf(t, b); f != "new_password" {
		t.Errorf("field %q, want new_password", f)
	}
	resp, b = anon.post("/api/auth/password-reset/confirm", `{"token":"`+tok+`","new_password":"reset and renewed"}`, nil)
	if resp.StatusCode != 204 {
		t.Fatalf("confirm: %d %s", resp.StatusCode, b)
	}
	// Every session ended; the link works once.
	c.wantMe(401)
	other.wantMe(401)
	resp, b = c.refresh(nil)
	wantError(t, resp, b, 401, "SESSION_REVOKED")
	resp, b = anon.post("/api/auth/password-reset/confirm", `{"token":"`+tok+`","new_password":"reset once more"}`, nil)
	wantError(t, resp, b, 400, "RESET_TOKEN_INVALID")
	s.client(t).logIn(email, "reset and renewed")

	// An expired link.
	s.client(t).json("POST", "/api/auth/password-reset", map[string]string{"email": email}, 202, nil)
	_, tok2 := resetTokenFrom(t, api, email, 2)
	if tok2 == tok {
		t.Fatal("the same token twice")
	}
	if _, err := s.app.DB.Pool.Exec(t.Context(), `UPDATE password_resets SET expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	resp, b = anon.post("/api/auth/password-reset/confirm", `{"token":"`+tok2+`","new_password":"too late for this"}`, nil)
	wantError(t, resp, b, 400, "RESET_TOKEN_INVALID")

	// A password change uses up pending links.
	s.client(t).json("POST", "/api/auth/password-reset", map[string]string{"email": email}, 202, nil)
	_, tok3 := resetTokenFrom(t, api, email, 3)
	me := s.client(t)
	me.logIn(email, "reset and renewed")
	me.json("POST", "/api/auth/password", map[string]string{"current_password": "reset and renewed", "new_password": "changed in between"}, 204, nil)
	resp, b = anon.post("/api/auth/password-reset/confirm", `{"token":"`+tok3+`","new_password":"stale link here"}`, nil)
	wantError(t, resp, b, 400, "RESET_TOKEN_INVALID")
}

// TestPasswordResetEnumeration: whether an account has the address shows
// neither in the answer nor in its time nor in the limits.
func TestPasswordResetEnumeration(t *testing.T) {
	t.Parallel()
	edit, api := withMail(t)
	s := newStack(t, edit)
	known := uniqueEmail("known")
	s.client(t).signup(known)
	unknown := uniqueEmail("unknown")

	timed := func(email string) (time.Duration, int, string) {
		c := s.client(t)
		start := time.Now()
		resp, b := c.post("/api/auth/password-reset", `{"email":"`+email+`"}`, nil)
		return time.Since(start), resp.StatusCode, string(b)
	}
	// The fastest of three answers each: a busy machine (this test runs in
	// parallel with others) only ever adds time, so the minimums compare
	// the server's own times.
	dk, du := time.Hour, time.Hour
	for range 3 {
		d1, st1, b1 := timed(known)
		d2, st2, b2 := timed(unknown)
		if st1 != 202 || st2 != 202 || b1 != b2 {
			t.Fatalf("known: %d %s; unknown: %d %s: want the same 202", st1, b1, st2, b2)
		}
		if d1 < 900*time.Millisecond || d2 < 900*time.Millisecond {
			t.Errorf("answers in %v and %v, want both padded to 1 s", d1, d2)
		}
		dk, du = min(dk, d1), min(du, d2)
	}
	if diff := (dk - du).Abs(); diff > 150*time.Millisecond {
		t.Errorf("known addresses answer %v apart from unknown ones at best (%v vs %v)", diff, dk, du)
	}
	if n := len(testenv.MailsTo(t, api, known, 3, 10*time.Second)); n != 3 {
		t.Errorf("%d mails to the account, want 3", n)
	}
	if n := len(testenv.MailsTo(t, api, unknown, 0, 0)); n != 0 {
		t.Errorf("%d mails to an address without an account", n)
	}
	// The fourth request in the hour: 429 for both alike.
	_, st1, b1 := timed(known)
	_, st2, b2 := timed(unknown)
	if st1 != 429 || st2 != 429 {
		t.Errorf("4th request: known %d %s, unknown %d %s; want 429 for both", st1, b1, st2, b2)
	}
	// Malformed input is refused as such, without a lookup.
	resp, b := s.client(t).post("/api/auth/password-reset", `{"email":"not-an-address"}`, nil)
	wantError(t, resp, b, 400, "VALIDATION_ERROR")
	resp, b = s.client(t).post("/api/auth/password-reset", `{"email":"x@example.com"}`, map[string]string{"Origin": "https://evil.example"})
	wantError(t, resp, b, 403, "FORBIDDEN")
}

// TestResetTokenGuessing: confirm attempts are limited per client address.
func TestResetTokenGuessing(t *testing.T) {
	t.Parallel()
	s := newStack(t, func(c *config.Config) { c.AuthRateMin = 5 })
	c := s.client(t)
	resp, b := c.post("/api/auth/password-reset/confirm", `{"token":"short","new_password":"whatever it may be"}`, nil)
	wantError(t, resp, b, 400, "RESET_TOKEN_INVALID")
	statuses := map[int]int{}
	for i := range 7 {
		tok := strings.Repeat(string(rune('A'+i)), 43)
		resp, _ := c.post("/api/auth/password-reset/confirm", `{"token":"`+tok+`","new_password":"whatever it may be"}`, nil)
		statuses[resp.StatusCode]++
	}
	if statuses[400] != 4 || statuses[429] != 3 {
		t.Errorf("7 guesses after 1: %v, want 4 x 400 then 3 x 429", statuses)
	}
}

func TestPasswordResetWithoutMailServer(t *testing.T) {
	t.Parallel()
	if onLambda() {
		t.Skip("the functions' test configuration is dev mode (the test S3 server's keys are public)")
	}
	s := newStack(t, func(c *config.Config) { c.DevMode = false })
	resp, b := s.client(t).post("/api/auth/password-reset", `{"email":"someone@example.com"}`, nil)
	wantError(t, resp, b, 503, "SERVICE_UNAVAILABLE")
	// In dev mode the link is logged instead (make dev without SMTP_URL).
	dev := newStack(t, nil)
	dev.client(t).signup("dev-reset@example.com")
	resp, b = dev.client(t).post("/api/auth/password-reset", `{"email":"dev-reset@example.com"}`, nil)
	if resp.StatusCode != 202 {
		t.Fatalf("dev mode without SMTP: %d %s", resp.StatusCode, b)
	}
}

func TestPasswordRulesBeforeSending(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t)
	var cfg struct {
		Password struct {
			MinChars     int    `json:"min_chars"`
			MaxBytes     int    `json:"max_bytes"`
			BlocklistURL string `json:"blocklist_url"`
		} `json:"password"`
		PasswordReset bool `json:"password_reset"`
	}
	c.json("GET", "/api/config", nil, 200, &cfg)
	if cfg.Password.MinChars != 8 || cfg.Password.MaxBytes != 72 || cfg.Password.BlocklistURL == "" || !cfg.PasswordReset {
		t.Fatalf("config %+v", cfg)
	}
	var list struct {
		Passwords []string `json:"passwords"`
	}
	resp := c.json("GET", cfg.Password.BlocklistURL, nil, 200, &list)
	if len(list.Passwords) < 10000 || !strings.Contains(resp.Header.Get("Cache-Control"), "max-age") {
		t.Fatalf("%d passwords, Cache-Control %q", len(list.Passwords), resp.Header.Get("Cache-Control"))
	}
	// What the list says is what signup refuses, naming the field.
	for _, p := range []string{list.Passwords[0], strings.ToUpper(list.Passwords[len(list.Passwords)-1]), "        "} {
		resp, b := c.post("/api/auth/signup", `{"email":"weak@example.com","password":"`+p+`"}`, nil)
		wantError(t, resp, b, 400, "VALIDATION_ERROR")
		if f := fieldOf(t, b); f != "password" {
			t.Errorf("signup with %q: field %q, want password", p, f)
		}
	}
}

// TestPasswordResetLinkOrigin: the link's origin never comes from the
// request's Host (password reset poisoning): the request's Origin when it
// is one of CORS_ORIGINS, else the first of them.
func TestPasswordResetLinkOrigin(t *testing.T) {
	t.Parallel()
	edit, api := withMail(t)
	s := newStack(t, edit)
	email := uniqueEmail("poison")
	s.client(t).signup(email)
	forged := s.client(t)
	req, _ := http.NewRequest("POST", forged.base+"/api/auth/password-reset", strings.NewReader(`{"email":"`+email+`"}`))
	req.Host = "evil.example"
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-Host", "evil.example")
	resp, err := forged.hc.Do(req)
	if err != nil || resp.StatusCode != 202 {
		t.Fatalf("reset with a forged Host: %v %v", resp, err)
	}
	resp.Body.Close()
	if origin, _ := resetTokenFrom(t, api, email, 1); origin != "http://localhost:5173" {
		t.Errorf("link origin %q after a forged Host, want the web app's", origin)
	}
}
