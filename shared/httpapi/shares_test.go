package httpapi_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/httpapi"
)

type shareObj struct {
	ID           int64  `json:"id"`
	URL          string `json:"url"`
	ExpiresAt    string `json:"expires_at"`
	MaxDownloads *int   `json:"max_downloads"`
	Downloads    int    `json:"downloads"`
	HasPassword  bool   `json:"has_password"`
}

type publicShareObj struct {
	Filename      string `json:"filename"`
	FileSize      int64  `json:"file_size"`
	ContentType   string `json:"content_type"`
	ExpiresAt     string `json:"expires_at"`
	NeedsPassword bool   `json:"needs_password"`
}

type shareLink struct {
	URL       string `json:"url"`
	ExpiresIn int    `json:"expires_in"`
}

// shareToken is the token of a share's link (…/s/{token}).
func shareToken(tb testing.TB, sh shareObj) string {
	tb.Helper()
	i := strings.LastIndex(sh.URL, "/s/")
	if i < 0 {
		tb.Fatalf("share url %q has no /s/", sh.URL)
	}
	return sh.URL[i+3:]
}

func (c *client) share(fileID int64, v any) shareObj {
	c.tb.Helper()
	var sh shareObj
	c.json("POST", fmt.Sprintf("/api/files/%d/shares", fileID), v, 201, &sh)
	return sh
}

// shareDownload posts to a share's download route with body (nil: none).
func shareDownload(c *client, tok string, body any) (*http.Response, []byte) {
	c.tb.Helper()
	var r *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	} else {
		r = bytes.NewReader(nil)
	}
	return c.do("POST", "/api/public/shares/"+tok+"/download", r, map[string]string{"Content-Type": "application/json"})
}

func TestShareWithPassword(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	owner := s.client(t).signup("share-owner@example.com")
	data := []byte("a file handed to someone without an account")
	f := owner.mustUpload("report final.txt", data)

	sh := owner.share(f.ID, map[string]any{"password": "open sesame", "max_downloads": 5})
	origin := s.app.Config.CORSOrigins[0]
	tok := shareToken(t, sh)
	if !strings.HasPrefix(sh.URL, origin+"/s/") || len(tok) < 22 {
		t.Errorf("url %q: want %s/s/{token of >= 128 bits}", sh.URL, origin)
	}
	if !sh.HasPassword || sh.Downloads != 0 || sh.MaxDownloads == nil || *sh.MaxDownloads != 5 {
		t.Errorf("share %+v", sh)
	}
	exp, err := time.Parse(time.RFC3339, sh.ExpiresAt)
	if d := time.Until(exp); err != nil || d < 167*time.Hour || d > 169*time.Hour {
		t.Errorf("expires_at %q: want 168 hours from now by default", sh.ExpiresAt)
	}
	// The web app that asks names the origin of the link.
	if len(s.app.Config.CORSOrigins) > 1 {
		o := s.app.Config.CORSOrigins[1]
		resp, body := owner.do("POST", fmt.Sprintf("/api/files/%d/shares", f.ID), strings.NewReader(`{}`),
			map[string]string{"Content-Type": "application/json", "Origin": o})
		var other shareObj
		if resp.StatusCode != 201 || json.Unmarshal(body, &other) != nil || !strings.HasPrefix(other.URL, o+"/s/") {
			t.Errorf("with Origin %s: %d %s", o, resp.StatusCode, body)
		}
		owner.json("DELETE", fmt.Sprintf("/api/shares/%d", other.ID), nil, 204, nil)
	}
	// The database keeps only the token's hash.
	var stored []byte
	if err := s.app.DB.Pool.QueryRow(t.Context(), `SELECT token_hash FROM shares WHERE id = $1`, sh.ID).Scan(&stored); err != nil || bytes.Contains(stored, []byte(tok)) || len(stored) != 32 {
		t.Errorf("stored token_hash %x (%v)", stored, err)
	}

	anon := s.client(t)
	var pub publicShareObj
	resp, body := anon.do("GET", "/api/public/shares/"+tok, nil, nil)
	if resp.StatusCode != 200 || json.Unmarshal(body, &pub) != nil {
		t.Fatalf("public share: %d %s", resp.StatusCode, body)
	}
	if pub.Filename != "report final.txt" || pub.FileSize != int64(len(data)) || !pub.NeedsPassword || pub.ExpiresAt != sh.ExpiresAt {
		t.Errorf("public share %+v", pub)
	}
	// The classic hole: no URL of the file without the password.
	if bytes.Contains(body, []byte("http")) || bytes.Contains(body, []byte(`"url"`)) {
		t.Errorf("public share answer carries a URL: %s", body)
	}
	resp, body = shareDownload(anon, tok, nil)
	wantError(t, resp, body, 401, "SHARE_PASSWORD_REQUIRED")
	resp, body = shareDownload(anon, tok, map[string]any{})
	wantError(t, resp, body, 401, "SHARE_PASSWORD_REQUIRED")
	resp, body = shareDownload(anon, tok, map[string]any{"password": "open sesame!"})
	wantError(t, resp, body, 401, "INVALID_CREDENTIALS")
	if bytes.Contains(body, []byte("http")) {
		t.Errorf("refused download carries a URL: %s", body)
	}
	// The password in the URL means nothing.
	resp, body = anon.do("POST", "/api/public/shares/"+tok+"/download?password=open+sesame", nil, nil)
	wantError(t, resp, body, 401, "SHARE_PASSWORD_REQUIRED")

	var link shareLink
	anon.json("POST", "/api/public/shares/"+tok+"/download", map[string]any{"password": "open sesame"}, 200, &link)
	if link.ExpiresIn < 1 || link.ExpiresIn > 300 || mustURL(t, link.URL).Query().Get("X-Amz-Expires") != "300" {
		t.Errorf("link expires_in %d, url %s: want at most 5 minutes", link.ExpiresIn, link.URL)
	}
	if strings.Contains(link.URL, "sesame") {
		t.Errorf("the password is in the URL %s", link.URL)
	}
	checkPresigned(t, link.URL, data)
	if cd := mustURL(t, link.URL).Query().Get("response-content-disposition"); !strings.Contains(cd, "report final.txt") && !strings.Contains(cd, "report%20final.txt") {
		t.Errorf("response-content-disposition %q: want the original name", cd)
	}

	var list struct {
		Shares []shareObj `json:"shares"`
	}
	owner.json("GET", fmt.Sprintf("/api/files/%d/shares", f.ID), nil, 200, &list)
	if len(list.Shares) != 1 || list.Shares[0].ID != sh.ID || list.Shares[0].Downloads != 1 || list.Shares[0].URL != "" {
		t.Errorf("live shares %+v: want the one share, one download, no link", list.Shares)
	}

	owner.json("DELETE", fmt.Sprintf("/api/shares/%d", sh.ID), nil, 204, nil)
	owner.json("DELETE", fmt.Sprintf("/api/shares/%d", sh.ID), nil, 204, nil) // again: still ended
	resp, body = anon.do("GET", "/api/public/shares/"+tok, nil, nil)
	wantError(t, resp, body, 410, "SHARE_GONE")
	resp, body = shareDownload(anon, tok, map[string]any{"password": "open sesame"})
	wantError(t, resp, body, 410, "SHARE_GONE")
	owner.json("GET", fmt.Sprintf("/api/files/%d/shares", f.ID), nil, 200, &list)
	if len(list.Shares) != 0 {
		t.Errorf("live shares after revoke: %+v", list.Shares)
	}
}

func TestShareWithoutPassword(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	owner := s.client(t).signup("share-open@example.com")
	data := []byte("no password")
	f := owner.mustUpload("open.bin", data)
	sh := owner.share(f.ID, map[string]any{"expires_in_hours": 1})
	if sh.HasPassword || sh.MaxDownloads != nil {
		t.Errorf("share %+v", sh)
	}
	anon := s.client(t)
	var link shareLink
	resp, body := shareDownload(anon, shareToken(t, sh), nil)
	if resp.StatusCode != 200 || json.Unmarshal(body, &link) != nil {
		t.Fatalf("download: %d %s", resp.StatusCode, body)
	}
	checkPresigned(t, link.URL, data)
}

func TestShareInputs(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	owner := s.client(t).signup("share-inputs@example.com")
	f := owner.mustUpload("x.txt", []byte("x"))
	path := fmt.Sprintf("/api/files/%d/shares", f.ID)
	for _, body := range []string{
		`{"expires_in_hours": 0}`, `{"expires_in_hours": 721}`, `{"expires_in_hours": 1.5}`, `{"expires_in_hours": "1"}`,
		`{"max_downloads": 0}`, `{"max_downloads": -1}`, `{"max_downloads": 1000001}`,
		`{"password": "short"}`, `{"password": "` + strings.Repeat("p", 73) + `"}`, `{"password": "nul\u0000password"}`,
		`[]`, `{`, `{} {}`,
	} {
		resp, b := owner.do("POST", path, strings.NewReader(body), map[string]string{"Content-Type": "application/json"})
		if resp.StatusCode != 400 {
			t.Errorf("%s: %d %s, want 400", body, resp.StatusCode, b)
		}
	}
	resp, b := owner.do("POST", "/api/files/abc/shares", strings.NewReader(`{}`), nil)
	wantError(t, resp, b, 400, "VALIDATION_ERROR")
	resp, b = owner.do("DELETE", "/api/shares/abc", nil, nil)
	wantError(t, resp, b, 400, "VALIDATION_ERROR")
	resp, b = s.client(t).do("POST", path, strings.NewReader(`{}`), nil)
	wantError(t, resp, b, 401, "UNAUTHORIZED")
	resp, b = owner.do("POST", "/api/files/999999/shares", strings.NewReader(`{}`), nil)
	wantError(t, resp, b, 404, "FILE_NOT_FOUND")
	var none int
	if err := s.app.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM shares`).Scan(&none); err != nil || none != 0 {
		t.Errorf("%d shares after refused requests (%v)", none, err)
	}
	// At most 100 live shares per file; revoking one makes room.
	var last shareObj
	for range 100 {
		last = owner.share(f.ID, nil)
	}
	resp, b = owner.do("POST", path, strings.NewReader(`{}`), map[string]string{"Content-Type": "application/json"})
	wantError(t, resp, b, 400, "VALIDATION_ERROR")
	owner.json("DELETE", fmt.Sprintf("/api/shares/%d", last.ID), nil, 204, nil)
	again := owner.share(f.ID, nil)
	owner.json("DELETE", fmt.Sprintf("/api/shares/%d", again.ID), nil, 204, nil)
	// A public download's body is bounded and checked like any other.
	sh := owner.share(f.ID, map[string]any{"password": "password123"})
	resp, b = shareDownload(owner, shareToken(t, sh), map[string]any{"password": strings.Repeat("p", 80)})
	wantError(t, resp, b, 401, "INVALID_CREDENTIALS")
	resp, b = owner.do("POST", "/api/public/shares/"+shareToken(t, sh)+"/download", strings.NewReader(`{"password": 1}`), map[string]string{"Content-Type": "application/json"})
	wantError(t, resp, b, 400, "VALIDATION_ERROR")
}

func TestShareOtherUser(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	owner := s.client(t).signup("share-victim@example.com")
	mallory := s.client(t).signup("share-mallory@example.com")
	f := owner.mustUpload("secret.txt", []byte("secret"))
	sh := owner.share(f.ID, nil)

	resp, b := mallory.do("POST", fmt.Sprintf("/api/files/%d/shares", f.ID), strings.NewReader(`{}`), nil)
	wantError(t, resp, b, 403, "FORBIDDEN")
	resp, b = mallory.do("GET", fmt.Sprintf("/api/files/%d/shares", f.ID), nil, nil)
	wantError(t, resp, b, 403, "FORBIDDEN")
	resp, b = mallory.do("DELETE", fmt.Sprintf("/api/shares/%d", sh.ID), nil, nil)
	wantError(t, resp, b, 403, "FORBIDDEN")
	resp, b = mallory.do("DELETE", fmt.Sprintf("/api/shares/%d", sh.ID+1000), nil, nil)
	wantError(t, resp, b, 404, "SHARE_NOT_FOUND")
	// Still live.
	var pub publicShareObj
	mallory.json("GET", "/api/public/shares/"+shareToken(t, sh), nil, 200, &pub)

	// Guessing tokens: every wrong one, of the right shape or not, is the
	// same 404.
	var guess [32]byte
	rand.Read(guess[:])
	for _, tok := range []string{
		base64.RawURLEncoding.EncodeToString(guess[:]), "abc", fmt.Sprint(sh.ID),
		strings.Repeat("A", 43), strings.Repeat("%25", 43), shareToken(t, sh)[:42] + "=",
	} {
		resp, b := mallory.do("GET", "/api/public/shares/"+tok, nil, nil)
		wantError(t, resp, b, 404, "SHARE_NOT_FOUND")
		var e apiError
		json.Unmarshal(b, &e)
		if e.Detail != "share not found" {
			t.Errorf("token %q: detail %q", tok, e.Detail)
		}
		resp, b = shareDownload(mallory, tok, nil)
		wantError(t, resp, b, 404, "SHARE_NOT_FOUND")
	}
}

func TestShareMaxDownloadsParallel(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	owner := s.client(t).signup("share-parallel@example.com")
	f := owner.mustUpload("popular.txt", []byte("popular"))
	const limit, tries = 3, 12
	sh := owner.share(f.ID, map[string]any{"max_downloads": limit})
	tok := shareToken(t, sh)
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for range tries {
		wg.Go(func() {
			resp, _ := shareDownload(s.client(t), tok, nil)
			mu.Lock()
			statuses[resp.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if statuses[200] != limit || statuses[410] != tries-limit {
		t.Errorf("statuses %v: want %d x 200 and %d x 410", statuses, limit, tries-limit)
	}
	var n int
	if err := s.app.DB.Pool.QueryRow(t.Context(), `SELECT downloads FROM shares WHERE id = $1`, sh.ID).Scan(&n); err != nil || n != limit {
		t.Errorf("downloads %d (%v), want %d", n, err, limit)
	}
	resp, b := owner.do("GET", "/api/public/shares/"+tok, nil, nil)
	wantError(t, resp, b, 410, "SHARE_GONE")
}

func TestShareGone(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	owner := s.client(t).signup("share-gone@example.com")
	anon := s.client(t)
	gone := func(tok, what string) {
		t.Helper()
		resp, b := anon.do("GET", "/api/public/shares/"+tok, nil, nil)
		if resp.StatusCode != 410 {
			t.Errorf("%s: GET %d %s, want 410", what, resp.StatusCode, b)
			return
		}
		wantError(t, resp, b, 410, "SHARE_GONE")
		resp, b = shareDownload(anon, tok, nil)
		wantError(t, resp, b, 410, "SHARE_GONE")
	}

	// Trashed: gone; restored: back.
	f := owner.mustUpload("trashed.txt", []byte("t"))
	sh := owner.share(f.ID, nil)
	owner.json("DELETE", fmt.Sprintf("/api/files/%d", f.ID), nil, 204, nil)
	gone(shareToken(t, sh), "file in the trash")
	resp, b := owner.do("POST", fmt.Sprintf("/api/files/%d/shares", f.ID), strings.NewReader(`{}`), nil)
	wantError(t, resp, b, 404, "FILE_NOT_FOUND")
	owner.json("POST", fmt.Sprintf("/api/trash/%d/restore", f.ID), nil, 200, nil)
	anon.json("GET", "/api/public/shares/"+shareToken(t, sh), nil, 200, nil)
	// Purged: still gone, not unknown.
	owner.json("DELETE", fmt.Sprintf("/api/files/%d", f.ID), nil, 204, nil)
	owner.json("DELETE", fmt.Sprintf("/api/trash/%d", f.ID), nil, 204, nil)
	gone(shareToken(t, sh), "file purged")

	// Expired (by the database's clock).
	f2 := owner.mustUpload("expired.txt", []byte("e"))
	sh2 := owner.share(f2.ID, nil)
	if _, err := s.app.DB.Pool.Exec(t.Context(), `UPDATE shares SET expires_at = now() - interval '1 second' WHERE id = $1`, sh2.ID); err != nil {
		t.Fatal(err)
	}
	gone(shareToken(t, sh2), "expired")
	var list struct {
		Shares []shareObj `json:"shares"`
	}
	owner.json("GET", fmt.Sprintf("/api/files/%d/shares", f2.ID), nil, 200, &list)
	if len(list.Shares) != 0 {
		t.Errorf("expired share listed as live: %+v", list.Shares)
	}

	// Account deleted: its shares go with it.
	sh3 := owner.share(f2.ID, nil)
	owner.json("DELETE", "/api/auth/me", map[string]string{"password": "password123"}, 204, nil)
	resp, b = anon.do("GET", "/api/public/shares/"+shareToken(t, sh3), nil, nil)
	wantError(t, resp, b, 404, "SHARE_NOT_FOUND")
	var left int
	if err := s.app.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM shares`).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d shares left after the account's deletion (%v)", left, err)
	}
}

func TestSharePasswordRateLimit(t *testing.T) {
	t.Parallel()
	s := newStack(t, func(c *config.Config) { c.AuthRateMin = 3 })
	owner := s.client(t).signup("share-limit@example.com")
	f := owner.mustUpload("guarded.txt", []byte("g"))
	sh := owner.share(f.ID, map[string]any{"password": "the right one"})
	other := owner.share(f.ID, map[string]any{"password": "the right one"})
	anon := s.client(t)
	for i := range 3 {
		resp, b := shareDownload(anon, shareToken(t, sh), map[string]any{"password": fmt.Sprintf("guess %d", i)})
		wantError(t, resp, b, 401, "INVALID_CREDENTIALS")
	}
	resp, b := shareDownload(anon, shareToken(t, sh), map[string]any{"password": "the right one"})
	wantError(t, resp, b, 429, "RATE_LIMITED")
	if resp.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// Another share's budget is its own.
	anon.json("POST", "/api/public/shares/"+shareToken(t, other)+"/download", map[string]any{"password": "the right one"}, 200, nil)
	// Asking without a password guesses nothing and is not counted.
	resp, b = shareDownload(anon, shareToken(t, other), nil)
	wantError(t, resp, b, 401, "SHARE_PASSWORD_REQUIRED")
}

// TestShareSecretsNotLogged: neither a share's token nor its password is
// in what the API logs (the access log records the path: the token is
// redacted there).
func TestShareSecretsNotLogged(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	var logs func() string
	base := s.srv.URL
	if s.gw != nil {
		logs = s.gw.Logs
	} else {
		var mu sync.Mutex
		var buf bytes.Buffer
		d := s.app.API.Deps
		d.Logger = slog.New(slog.NewJSONHandler(lockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelInfo}))
		srv := httptest.NewServer(checkOpenAPI(t, httpapi.New(d).Handler()))
		t.Cleanup(srv.Close)
		base = srv.URL
		logs = func() string { mu.Lock(); defer mu.Unlock(); return buf.String() }
	}
	c := s.client(t)
	c.base = base
	c.signup("share-logs@example.com")
	f := c.mustUpload("logged.txt", []byte("l"))
	const pw = "never-logged-pw-4242"
	sh := c.share(f.ID, map[string]any{"password": pw})
	tok := shareToken(t, sh)
	anon := s.client(t)
	anon.base = base
	anon.json("GET", "/api/public/shares/"+tok, nil, 200, nil)
	shareDownload(anon, tok, map[string]any{"password": pw + "x"})
	anon.json("POST", "/api/public/shares/"+tok+"/download", map[string]any{"password": pw}, 200, nil)
	anon.do("GET", "/api/public/shares/"+tok+"/nothing-here", nil, nil)
	c.json("DELETE", fmt.Sprintf("/api/shares/%d", sh.ID), nil, 204, nil)
	anon.do("GET", "/api/public/shares/"+tok, nil, nil)

	want := 5 // the access log's lines of the public requests
	if onLambda() {
		want = 4 // API Gateway answers the path no route has itself
	}
	var out string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		out = logs()
		if strings.Count(out, "/api/public/shares/<token:") >= want || time.Now().After(deadline) {
			break
		}
	}
	if n := strings.Count(out, "/api/public/shares/<token:"); n < want {
		t.Errorf("%d redacted public share paths in the logs, want %d (is the access log there?):\n%s", n, want, out)
	}
	if strings.Contains(out, tok) || strings.Contains(out, pw) {
		t.Errorf("the token or the password is in the logs:\n%s", out)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
