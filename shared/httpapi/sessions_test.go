package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// refreshCookieOf returns the refresh cookie the jar of c holds ("" none).
func (c *client) refreshCookie() string {
	c.tb.Helper()
	u, _ := url.Parse(c.base + "/api/auth/refresh")
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == "refresh_token" {
			return ck.Value
		}
	}
	return ""
}

// setRefreshCookie puts v in c's jar as the refresh cookie.
func (c *client) setRefreshCookie(v string) {
	u, _ := url.Parse(c.base + "/api/auth")
	c.hc.Jar.SetCookies(u, []*http.Cookie{{Name: "refresh_token", Value: v, Path: "/api/auth"}})
}

type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	SessionID   int64  `json:"session_id"`
	User        struct {
		ID    int64  `json:"id"`
		Email string `json:"email"`
	} `json:"user"`
}

// refresh posts to /api/auth/refresh as the web app does and returns the
// answer; on 200 the client takes the new access token.
func (c *client) refresh(header map[string]string) (*http.Response, []byte) {
	c.tb.Helper()
	h := map[string]string{"Content-Type": "application/json"}
	for k, v := range header {
		h[k] = v
	}
	resp, b := c.do("POST", "/api/auth/refresh", nil, h)
	return resp, b
}

// logIn logs c in (a new session) and returns the answer.
func (c *client) logIn(email, password string) tokenAnswer {
	c.tb.Helper()
	var out tokenAnswer
	c.json("POST", "/api/auth/login", map[string]string{"email": email, "password": password}, 200, &out)
	c.token = out.AccessToken
	return out
}

// wantMe checks what GET /api/auth/me answers with c's access token.
func (c *client) wantMe(status int) {
	c.tb.Helper()
	resp, b := c.do("GET", "/api/auth/me", nil, nil)
	if resp.StatusCode != status {
		c.tb.Fatalf("GET /api/auth/me: %d %s, want %d", resp.StatusCode, b, status)
	}
}

func setCookieHeader(resp *http.Response) string {
	for _, v := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(v, "refresh_token=") {
			return v
		}
	}
	return ""
}

func TestSignupLogsInWithSessionCookie(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t)
	var out struct {
		tokenAnswer
		Message string `json:"message"`
		UserID  int64  `json:"user_id"`
	}
	resp := c.json("POST", "/api/auth/signup", map[string]string{"email": "new@example.com", "password": testPassword}, 201, &out)
	if out.AccessToken == "" || out.SessionID <= 0 || out.UserID != out.User.ID || out.ExpiresIn != 900 || out.Message == "" {
		t.Fatalf("signup answer %+v", out)
	}
	sc := setCookieHeader(resp)
	for _, want := range []string{"Path=/api/auth", "HttpOnly", "SameSite=Strict", "Max-Age="} {
		if !strings.Contains(sc, want) {
			t.Errorf("Set-Cookie %q lacks %s", sc, want)
		}
	}
	if strings.Contains(sc, "Secure") {
		t.Errorf("Set-Cookie %q is Secure on plain-http 127.0.0.1 (browsers would drop it)", sc)
	}
	c.token = out.AccessToken
	c.wantMe(200)

	// Through an HTTPS proxy (CloudFront, API Gateway) the cookie is Secure.
	// (The gateway of lambda mode sets X-Forwarded-Proto itself, to http,
	// as API Gateway sets it to https.)
	resp = c.json("POST", "/api/auth/login", map[string]string{"email": "new@example.com", "password": testPassword}, 200, nil)
	if sc := setCookieHeader(resp); strings.Contains(sc, "Secure") {
		t.Errorf("plain login: Secure cookie %q", sc)
	}
	resp, b := c.do("POST", "/api/auth/login", strings.NewReader(`{"email":"new@example.com","password":"`+testPassword+`"}`),
		map[string]string{"Content-Type": "application/json", "X-Forwarded-Proto": "https"})
	if sc := setCookieHeader(resp); resp.StatusCode != 200 || !onLambda() && !strings.Contains(sc, "Secure") {
		t.Errorf("login behind https: %d %s, cookie %q, want Secure", resp.StatusCode, b, sc)
	}
}

func TestRefreshRotatesAndDetectsReuse(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("rot@example.com")
	first := c.refreshCookie()
	if first == "" {
		t.Fatal("no refresh cookie after signup")
	}
	oldAccess := c.token

	var got tokenAnswer
	resp, b := c.refresh(nil)
	if resp.StatusCode != 200 {
		t.Fatalf("refresh: %d %s", resp.StatusCode, b)
	}
	decode(t, b, &got)
	second := c.refreshCookie()
	if second == first || second == "" || got.AccessToken == "" || got.AccessToken == oldAccess || got.User.Email != "rot@example.com" {
		t.Fatalf("refresh: cookie %q → %q, answer %+v: want a new cookie and token", first, second, got)
	}
	c.token = got.AccessToken
	c.wantMe(200)

	// The retired token again, past the grace window: the whole session
	// ends (RFC 9700 §4.14), for the thief and the user alike.
	if _, err := s.app.DB.Pool.Exec(t.Context(), `UPDATE refresh_tokens SET retired_at = retired_at - interval '1 minute' WHERE retired_at IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	thief := s.client(t)
	thief.setRefreshCookie(first)
	resp, b = thief.refresh(nil)
	wantError(t, resp, b, 401, "SESSION_REVOKED")
	if sc := setCookieHeader(resp); !strings.Contains(sc, "Max-Age=0") {
		t.Errorf("reuse answer's Set-Cookie %q does not clear the cookie", sc)
	}
	c.wantMe(401) // the access tokens of the session, at once
	c.token = oldAccess
	c.wantMe(401)
	resp, b = c.refresh(nil) // the user's live token too
	wantError(t, resp, b, 401, "SESSION_REVOKED")
	if c.refreshCookie() != "" {
		t.Error("the cookie survived SESSION_REVOKED")
	}
}

func TestRefreshGraceGivesTheSameSuccessor(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("tabs@example.com")
	tok := c.refreshCookie()
	// Two tabs refresh with the same cookie at once.
	const tabs = 3
	var wg sync.WaitGroup
	cookies := make([]string, tabs)
	statuses := make([]int, tabs)
	for i := range tabs {
		tab := s.client(t)
		tab.setRefreshCookie(tok)
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := tab.refresh(nil)
			statuses[i], cookies[i] = resp.StatusCode, tab.refreshCookie()
		}()
	}
	wg.Wait()
	for i := range tabs {
		if statuses[i] != 200 || cookies[i] != cookies[0] || cookies[i] == tok {
			t.Fatalf("tab %d: status %d cookie %q; tab 0 cookie %q: want 200 and one successor for all", i, statuses[i], cookies[i], cookies[0])
		}
	}
	// The successor works, and the session lives on.
	c.setRefreshCookie(cookies[0])
	resp, b := c.refresh(nil)
	if resp.StatusCode != 200 {
		t.Fatalf("refresh with the successor: %d %s", resp.StatusCode, b)
	}
	// Now the first token is two generations back: reuse, even in the window.
	c2 := s.client(t)
	c2.setRefreshCookie(tok)
	resp, b = c2.refresh(nil)
	wantError(t, resp, b, 401, "SESSION_REVOKED")
}

func TestRefreshRefusals(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("csrf@example.com")
	tests := []struct {
		name   string
		header map[string]string
		status int
		code   string
	}{
		{"cross-site fetch", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, 403, "FORBIDDEN"},
		{"same-site sibling", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "http://evil.localhost:5173"}, 403, "FORBIDDEN"},
		{"foreign origin", map[string]string{"Origin": "https://evil.example"}, 403, "FORBIDDEN"},
		{"null origin", map[string]string{"Origin": "null"}, 403, "FORBIDDEN"},
		{"form post", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"text/plain", map[string]string{"Content-Type": "text/plain"}, 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"no content type", map[string]string{"Content-Type": ""}, 415, "UNSUPPORTED_MEDIA_TYPE"},
	}
	before := c.refreshCookie()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := c.refresh(tc.header)
			wantError(t, resp, b, tc.status, tc.code)
		})
	}
	if c.refreshCookie() != before {
		t.Fatal("a refused refresh changed the cookie")
	}
	// The web app's own origins pass: a CORS origin (the Vite dev server),
	// and the API's own origin.
	for _, h := range []map[string]string{
		{"Sec-Fetch-Site": "same-site", "Origin": "http://localhost:5173"},
		{"Sec-Fetch-Site": "same-origin", "Origin": c.base},
	} {
		if resp, b := c.refresh(h); resp.StatusCode != 200 {
			t.Fatalf("refresh with %v: %d %s", h, resp.StatusCode, b)
		}
	}
	// Logout is not triggerable from another site either.
	resp, b := c.post("/api/auth/logout", `{"scope":"all"}`, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
	wantError(t, resp, b, 403, "FORBIDDEN")
	c.wantMe(200)
	// Login and signup refuse other sites too (login CSRF).
	for _, path := range []string{"/api/auth/login", "/api/auth/signup"} {
		resp, b := c.do("POST", path, strings.NewReader(`{"email":"csrf@example.com","password":"`+testPassword+`"}`),
			map[string]string{"Content-Type": "application/json", "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
		wantError(t, resp, b, 403, "FORBIDDEN")
	}

	// No cookie; a malformed one; an unknown one.
	nobody := s.client(t)
	resp, b = nobody.refresh(nil)
	wantError(t, resp, b, 401, "UNAUTHORIZED")
	for _, v := range []string{"garbage", strings.Repeat("A", 43)} {
		nobody.setRefreshCookie(v)
		resp, b = nobody.refresh(nil)
		wantError(t, resp, b, 401, "SESSION_EXPIRED")
	}
}

func TestSessionLimits(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	idle := s.client(t).signup("idle@example.com")
	long := s.client(t).logIn("idle@example.com", testPassword)
	_ = long
	abs := s.client(t)
	abs.logIn("idle@example.com", testPassword)

	// Unused for more than SESSION_IDLE_DAYS: refresh ends it.
	if _, err := s.app.DB.Pool.Exec(t.Context(), `UPDATE sessions SET last_used_at = now() - interval '8 days' WHERE id = (SELECT min(id) FROM sessions)`); err != nil {
		t.Fatal(err)
	}
	resp, b := idle.refresh(nil)
	wantError(t, resp, b, 401, "SESSION_EXPIRED")
	idle.wantMe(401) // ended: its access tokens too

	// Past SESSION_MAX_DAYS since the login: access tokens and refresh refused.
	if _, err := s.app.DB.Pool.Exec(t.Context(), `UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = (SELECT max(id) FROM sessions)`); err != nil {
		t.Fatal(err)
	}
	abs.wantMe(401)
	resp, b = abs.refresh(nil)
	wantError(t, resp, b, 401, "SESSION_EXPIRED")
}

func TestLogoutScopes(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	laptop := s.client(t).signup("scope@example.com")
	phone := s.client(t)
	phone.logIn("scope@example.com", testPassword)
	tablet := s.client(t)
	tablet.logIn("scope@example.com", testPassword)

	// Bad scope.
	resp, b := laptop.do("POST", "/api/auth/logout", strings.NewReader(`{"scope":"everything"}`), map[string]string{"Content-Type": "application/json"})
	wantError(t, resp, b, 400, "VALIDATION_ERROR")

	// "Log out other devices" from the laptop.
	laptop.json("POST", "/api/auth/logout", map[string]string{"scope": "others"}, 204, nil)
	laptop.wantMe(200)
	phone.wantMe(401)
	tablet.wantMe(401)
	resp, b = phone.refresh(nil)
	wantError(t, resp, b, 401, "SESSION_REVOKED")
	if laptop.refreshCookie() == "" {
		t.Error("logout others cleared the caller's cookie")
	}

	// Logout (current, the default, with no body): the old token is refused at once.
	old := laptop.token
	resp, b = laptop.do("POST", "/api/auth/logout", nil, nil)
	if resp.StatusCode != 204 || !strings.Contains(setCookieHeader(resp), "Max-Age=0") {
		t.Fatalf("logout: %d %s, Set-Cookie %q", resp.StatusCode, b, setCookieHeader(resp))
	}
	laptop.token = old
	laptop.wantMe(401)
	resp, b = laptop.do("GET", "/api/files", nil, nil)
	wantError(t, resp, b, 401, "UNAUTHORIZED")

	// Logout all.
	a := s.client(t)
	a.logIn("scope@example.com", testPassword)
	bb := s.client(t)
	bb.logIn("scope@example.com", testPassword)
	a.json("POST", "/api/auth/logout", map[string]string{"scope": "all"}, 204, nil)
	a.wantMe(401)
	bb.wantMe(401)
}

func TestSessionsListAndEnd(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	mine := s.client(t).signup("list@example.com")
	other := s.client(t)
	otherLogin := other.logIn("list@example.com", testPassword)
	stranger := s.client(t).signup("stranger@example.com")

	var list struct {
		Sessions []struct {
			ID         int64  `json:"id"`
			CreatedAt  string `json:"created_at"`
			LastUsedAt string `json:"last_used_at"`
			IP         string `json:"ip"`
			UserAgent  string `json:"user_agent"`
			Current    bool   `json:"current"`
		} `json:"sessions"`
	}
	mine.json("GET", "/api/auth/sessions", nil, 200, &list)
	if len(list.Sessions) != 2 {
		t.Fatalf("sessions %+v, want 2", list.Sessions)
	}
	current := 0
	for _, ss := range list.Sessions {
		if ss.Current {
			current++
		}
		if ss.IP == "" || !strings.HasPrefix(ss.UserAgent, "Go-http-client") {
			t.Errorf("session %+v: want the ip and user agent", ss)
		}
	}
	if current != 1 || list.Sessions[0].ID != otherLogin.SessionID {
		t.Errorf("sessions %+v: want one current, the latest first", list.Sessions)
	}

	// Another user's session: 404, and it lives on.
	resp, b := stranger.do("DELETE", "/api/auth/sessions/"+itoa(otherLogin.SessionID), nil, nil)
	wantError(t, resp, b, 404, "SESSION_NOT_FOUND")
	other.wantMe(200)
	resp, b = mine.do("DELETE", "/api/auth/sessions/abc", nil, nil)
	wantError(t, resp, b, 400, "VALIDATION_ERROR")

	// Ending one's own other session: its token is refused at once.
	resp, b = mine.do("DELETE", "/api/auth/sessions/"+itoa(otherLogin.SessionID), nil, nil)
	if resp.StatusCode != 204 {
		t.Fatalf("end session: %d %s", resp.StatusCode, b)
	}
	other.wantMe(401)
	resp, b = mine.do("DELETE", "/api/auth/sessions/"+itoa(otherLogin.SessionID), nil, nil)
	wantError(t, resp, b, 404, "SESSION_NOT_FOUND")
	mine.json("GET", "/api/auth/sessions", nil, 200, &list)
	if len(list.Sessions) != 1 || !list.Sessions[0].Current {
		t.Errorf("after ending one: %+v", list.Sessions)
	}
}

func TestDeleteAccountEndsEverySession(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("gone@example.com")
	other := s.client(t)
	other.logIn("gone@example.com", testPassword)
	resp, b := c.do("DELETE", "/api/auth/me", strings.NewReader(`{"password":"`+testPassword+`"}`), map[string]string{"Content-Type": "application/json"})
	if resp.StatusCode != 204 || !strings.Contains(setCookieHeader(resp), "Max-Age=0") {
		t.Fatalf("delete account: %d %s, Set-Cookie %q", resp.StatusCode, b, setCookieHeader(resp))
	}
	other.wantMe(401)
	resp, b = other.refresh(nil)
	if resp.StatusCode != 401 {
		t.Fatalf("refresh of a deleted account: %d %s", resp.StatusCode, b)
	}
}

func decode(tb testing.TB, b []byte, v any) {
	tb.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		tb.Fatalf("decode %s: %v", b, err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
