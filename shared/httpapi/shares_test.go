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
	"github.com/hybrid-storage/hybrid-storage/shared/core"
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
	URL         string `json:"url"`
	ExpiresIn   int    `json:"expires_in"`
	Filename    string `json:"filename"`
	FileSize    int64  `json:"file_size"`
	ContentType string `json:"content_type"`
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
	if !pub.NeedsPassword || pub.ExpiresAt != sh.ExpiresAt {
		t.Errorf("public share %+v", pub)
	}
	// Nothing of the file before the password (issue 21, item 12).
	for _, leak := range []string{"report", "filename", "file_size", "content_type", "text/plain"} {
		if bytes.Contains(body, []byte(leak)) {
			t.Errorf("public share of a share with a password says %q: %s", leak, body)
		}
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
	if link.Filename != "report final.txt" || link.FileSize != int64(len(data)) || !strings.HasPrefix(link.ContentType, "text/plain") {
		t.Errorf("download answer %+v: want the file's name, size and type once the password matched", link)
	}
	if link.ExpiresIn != 10 || mustURL(t, link.URL).Query().Get("X-Amz-Expires") != "10" {
		t.Errorf("link expires_in %d, url %s: want 10 seconds (a share with max_downloads)", link.ExpiresIn, link.URL)
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
	// Without a password the link already hands out the file: the page
	// may name it.
	var pub publicShareObj
	anon.json("GET", "/api/public/shares/"+shareToken(t, sh), nil, 200, &pub)
	if pub.Filename != "open.bin" || pub.FileSize != int64(len(data)) || pub.ContentType == "" || pub.NeedsPassword {
		t.Errorf("public share %+v", pub)
	}
	var link shareLink
	resp, body := shareDownload(anon, shareToken(t, sh), nil)
	if resp.StatusCode != 200 || json.Unmarshal(body, &link) != nil {
		t.Fatalf("download: %d %s", resp.StatusCode, body)
	}
	if link.ExpiresIn != 300 || mustURL(t, link.URL).Query().Get("X-Amz-Expires") != "300" {
		t.Errorf("link expires_in %d, url %s: want 5 minutes (no max_downloads)", link.ExpiresIn, link.URL)
	}
	checkPresigned(t, link.URL, data)
}

// The URL of a share with max_downloads works for 10 seconds, not 5
// minutes: the window in which its one claimed download can be fetched
// again is that short (issue 21, item 7; the S3 server refuses the URL
// once it has expired).
func TestShareMaxDownloadsURLIsShortLived(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	owner := s.client(t).signup("share-once@example.com")
	data := []byte("one download only")
	f := owner.mustUpload("once.txt", data)
	tok := shareToken(t, owner.share(f.ID, map[string]any{"max_downloads": 1}))
	var link shareLink
	s.client(t).json("POST", "/api/public/shares/"+tok+"/download", nil, 200, &link)
	signed := time.Now()
	if link.ExpiresIn != 10 || mustURL(t, link.URL).Query().Get("X-Amz-Expires") != "10" {
		t.Errorf("link expires_in %d, url %s: want 10 seconds", link.ExpiresIn, link.URL)
	}
	checkPresigned(t, link.URL, data)
	time.Sleep(time.Until(signed.Add(12 * time.Second)))
	resp, err := http.Get(link.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("GET of the URL 12 s after it was made: %d, want 403 (expired)", resp.StatusCode)
	}
	resp2, b := shareDownload(s.client(t), tok, nil)
	wantError(t, resp2, b, 410, "SHARE_GONE")
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
	sh := owner.share(f.ID, map[string]any{"password": "correct horse battery"})
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
	owner.json("DELETE", "/api/auth/me", map[string]string{"password": "correct horse battery"}, 204, nil)
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
	anon := s.clientFrom(t, "127.0.8.1")
	for i := range 3 {
		resp, b := shareDownload(anon, shareToken(t, sh), map[string]any{"password": fmt.Sprintf("guess %d", i)})
		wantError(t, resp, b, 401, "INVALID_CREDENTIALS")
	}
	// One address's password attempts, at every share together, meet
	// AUTH_RATE_LIMIT_PER_MINUTE.
	for _, tok := range []string{shareToken(t, sh), shareToken(t, other)} {
		resp, b := shareDownload(anon, tok, map[string]any{"password": "the right one"})
		wantError(t, resp, b, 429, "RATE_LIMITED")
		if resp.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	// Another address's budget is its own.
	s.clientFrom(t, "127.0.8.2").json("POST", "/api/public/shares/"+shareToken(t, sh)+"/download", map[string]any{"password": "the right one"}, 200, nil)
	// Asking without a password guesses nothing and is not counted.
	resp, b := shareDownload(anon, shareToken(t, other), nil)
	wantError(t, resp, b, 401, "SHARE_PASSWORD_REQUIRED")
}

// Wrong share passwords from a few addresses slow those addresses only: a
// fresh address with the right password downloads (the 30 wrong
// passwords from 4 addresses). Past the share's hourly ceiling, addresses
// that gave the password before still download; fresh ones wait (issue
// 21, item 6).
func TestShareGuessesCannotLockLink(t *testing.T) {
	t.Parallel()
	s := newStack(t, func(c *config.Config) { c.AuthEmailRateHour = 30 })
	owner := s.client(t).signup("share-lock@example.com")
	f := owner.mustUpload("guarded.txt", []byte("g"))
	tok := shareToken(t, owner.share(f.ID, map[string]any{"password": "the right one"}))
	guess := func(ip string, n int) map[int]int {
		c := s.clientFrom(t, ip)
		count := map[int]int{}
		for i := range n {
			resp, _ := shareDownload(c, tok, map[string]any{"password": fmt.Sprintf("guess %d", i)})
			count[resp.StatusCode]++
		}
		return count
	}
	for i := range 4 {
		if got := guess(fmt.Sprintf("127.0.9.%d", 10+i), 8); got[401] != 5 || got[429] != 3 {
			t.Errorf("8 guesses from one address: %v, want 5 x 401, then 3 x 429 (the delay)", got)
		}
	}
	known := s.clientFrom(t, "127.0.9.1")
	known.json("POST", "/api/public/shares/"+tok+"/download", map[string]any{"password": "the right one"}, 200, nil)

	// 20 wrong so far; 15 more from three more addresses spend the 30.
	total := map[int]int{}
	for i := range 3 {
		for code, n := range guess(fmt.Sprintf("127.0.9.%d", 20+i), 5) {
			total[code] += n
		}
	}
	if total[401] != 10 || total[429] != 5 {
		t.Errorf("15 guesses past 20: %v, want 10 x 401 and 5 x 429 (the ceiling)", total)
	}
	known.json("POST", "/api/public/shares/"+tok+"/download", map[string]any{"password": "the right one"}, 200, nil)
	resp, b := shareDownload(s.clientFrom(t, "127.0.9.2"), tok, map[string]any{"password": "the right one"})
	wantError(t, resp, b, 429, "RATE_LIMITED")
}

// TestShareSecretsNotLogged: neither a share's token nor its password is
// in what the API logs (the access log records the path: the token is
// redacted there).
func TestShareSecretsNotLogged(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	base, logs := loggedAPI(t, s)
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

// loggedAPI returns the base URL of the stack's API and what it has
// logged so far: locally a second server over the same dependencies with a
// JSON logger, on Lambda the functions' output.
func loggedAPI(t *testing.T, s *stack) (base string, logs func() string) {
	t.Helper()
	if s.gw != nil {
		return s.srv.URL, s.gw.Logs
	}
	var mu sync.Mutex
	var buf bytes.Buffer
	d := s.app.API.Deps
	d.Logger = slog.New(slog.NewJSONHandler(lockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv := httptest.NewServer(checkOpenAPI(t, httpapi.New(d).Handler()))
	t.Cleanup(srv.Close)
	return srv.URL, func() string { mu.Lock(); defer mu.Unlock(); return buf.String() }
}

// TestShareTokensInMalformedPathsNotLogged: a token in a path no route
// takes (an empty or "." segment before it, or anywhere else) is not in the
// logs either: any segment shaped like a token is redacted (issue 21 item
// 8). On Lambda the gateway answers such paths 404 itself, and the
// functions log nothing of them.
func TestShareTokensInMalformedPathsNotLogged(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	base, logs := loggedAPI(t, s)
	c := s.client(t)
	c.base = base
	c.signup("share-malformed@example.com")
	f := c.mustUpload("logged.txt", []byte("l"))
	tok := shareToken(t, c.share(f.ID, map[string]any{}))
	jwt := c.token
	anon := s.client(t)
	anon.base = base
	tests := []struct {
		path   string
		status int
		code   string
	}{
		{"/api/public/shares//" + tok, 400, "BAD_REQUEST"},
		{"/api/public/shares/./" + tok, 400, "BAD_REQUEST"},
		{"/api//public/shares/" + tok, 400, "BAD_REQUEST"},
		{"/api/public/shares/" + tok + "/../" + tok, 400, "BAD_REQUEST"},
		{"/api/files/" + tok, 401, "UNAUTHORIZED"},
		{"/api/files/" + jwt, 401, "UNAUTHORIZED"},
		{"/api/" + tok + "/" + tok + "x", 404, "NOT_FOUND"},
	}
	for _, tc := range tests {
		resp, body := anon.do("GET", tc.path, nil, nil)
		if onLambda() && tc.status == 400 && resp.StatusCode == 404 {
			wantError(t, resp, body, 404, "NOT_FOUND") // the gateway's: no route has this path
			continue
		}
		wantError(t, resp, body, tc.status, tc.code)
	}
	// The one request every mode sends to a function: its line marks that
	// the log has caught up.
	anon.json("GET", "/api/public/shares/"+tok, nil, 200, nil)
	var out string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		out = logs()
		if strings.Contains(out, "/api/public/shares/<token:") || time.Now().After(deadline) {
			break
		}
	}
	if !strings.Contains(out, "/api/public/shares/<token:") {
		t.Fatalf("no access log line of the public share request:\n%s", out)
	}
	if !onLambda() {
		if n := strings.Count(out, "<token:"); n < len(tests)+1 {
			t.Errorf("%d redacted segments in the logs, want at least %d:\n%s", n, len(tests)+1, out)
		}
	}
	for _, secret := range []string{tok, jwt, tok[:30]} {
		if strings.Contains(out, secret) {
			t.Errorf("a token is in the logs:\n%s", out)
		}
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

// A flood of password-protected shares from one account costs bcrypt work
// in the share lane only: another user's correct logins meanwhile are all
// served, none answered 503 (issue 21, item 2). On Lambda logins and
// shares are functions of their own and never share a queue.
func TestShareFloodLeavesLoginsAlone(t *testing.T) {
	t.Parallel()
	s := newStack(t, func(c *config.Config) {
		c.BcryptQueueMax = 2
		c.BcryptCost = 12 // ~0.25 s a hash: the slots stay busy
	})
	owner := s.clientFrom(t, "127.0.3.1").signup("flood-owner@example.com")
	f := owner.mustUpload("flood.txt", []byte("f"))
	s.clientFrom(t, "127.0.3.2").signup("flood-victim@example.com")

	path := fmt.Sprintf("/api/files/%d/shares", f.ID)
	stop := make(chan struct{})
	var mu sync.Mutex
	flood := map[int]int{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, _ := owner.do("POST", path, strings.NewReader(`{"password":"flood password"}`), jsonHeader)
				mu.Lock()
				flood[resp.StatusCode]++
				mu.Unlock()
				if resp.StatusCode != 201 {
					time.Sleep(10 * time.Millisecond)
				}
			}
		})
	}
	time.Sleep(time.Second) // the flood fills the slots and its queue
	var logins []int
	for i := range 4 {
		c := s.clientFrom(t, fmt.Sprintf("127.0.3.%d", 10+i))
		resp, b := c.do("POST", "/api/auth/login", strings.NewReader(`{"email":"flood-victim@example.com","password":"correct horse battery"}`), jsonHeader)
		if resp.StatusCode != 200 {
			t.Errorf("login %d during the flood: %d %s, want 200", i+1, resp.StatusCode, b)
		}
		logins = append(logins, resp.StatusCode)
	}
	close(stop)
	wg.Wait()
	for code := range flood {
		if code != 201 && code != 503 {
			t.Errorf("flood answers %v: want 201 and 503 only", flood)
			break
		}
	}
	t.Logf("logins %v; flood answers %v", logins, flood)
}

// Password-protected shares are limited per user and per client address
// (AUTH_RATE_LIMIT_PER_MINUTE each), and a request refused — by a limit,
// for another user's or a missing file, or by the cap of live shares — is
// refused before its password is hashed (issue 21, item 2). Lambda runs
// the hashes in other processes: there the answers are checked, not the
// count of hashes.
func TestSharePasswordRefusedBeforeHash(t *testing.T) {
	t.Parallel()
	s := newStack(t, func(c *config.Config) { c.AuthRateMin = 2 })
	owner := s.clientFrom(t, "127.0.4.1").signup("limit-owner@example.com")
	other := s.clientFrom(t, "127.0.4.2").signup("limit-other@example.com")
	f := owner.mustUpload("mine.txt", []byte("m"))
	g := other.mustUpload("theirs.txt", []byte("t"))
	as := func(c *client, ip string) *client {
		cc := s.clientFrom(t, ip)
		cc.token = c.token
		return cc
	}
	post := func(c *client, fileID int64, want int, code string) {
		t.Helper()
		before := s.app.API.Auth.Runs()
		resp, b := c.do("POST", fmt.Sprintf("/api/files/%d/shares", fileID), strings.NewReader(`{"password":"share password"}`), jsonHeader)
		if code == "" {
			if resp.StatusCode != want {
				t.Fatalf("share of file %d: %d %s, want %d", fileID, resp.StatusCode, b, want)
			}
			return
		}
		wantError(t, resp, b, want, code)
		if n := s.app.API.Auth.Runs() - before; n != 0 && !onLambda() {
			t.Errorf("refused %s: %d bcrypt computations, want none", code, n)
		}
	}
	post(owner, 999999, 404, "FILE_NOT_FOUND")
	post(owner, g.ID, 403, "FORBIDDEN")
	post(owner, f.ID, 201, "")
	post(owner, f.ID, 201, "")
	post(owner, f.ID, 429, "RATE_LIMITED")                  // the user's budget
	post(as(owner, "127.0.4.3"), f.ID, 429, "RATE_LIMITED") // from another address too
	post(as(other, "127.0.4.1"), g.ID, 429, "RATE_LIMITED") // the owner's address: its budget is spent
	post(other, g.ID, 201, "")
	// Shares without a password hash nothing and are not counted; with
	// the file at its cap a password share is refused before anything.
	for range core.MaxLiveShares - 2 {
		owner.share(f.ID, nil)
	}
	post(as(owner, "127.0.4.4"), f.ID, 400, "VALIDATION_ERROR")
}
