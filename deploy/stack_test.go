package deploy

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// TestComposeStack drives a running compose stack from outside, as a user's
// browser and scripts reach it: through nginx (STACK_WEB_URL) and, when the
// backend's port is published, straight to it (STACK_API_URL). It runs only
// under scripts/e2e-compose.sh (make test-compose), in phases that share a
// state file (STACK_STATE):
//
//	fresh      every origin: health, config, signup, login, a streamed
//	           upload bigger than nginx's default body limit, a presigned
//	           multipart upload whose parts go to the hot tier's public
//	           endpoint, list, downloads (bytes compared), a share link,
//	           trash and restore; the SPA's headers and routes on nginx
//	synced     after a sync run: each file is in the cold tier, same bytes
//	restarted  after the backend restarted, and again after the stack was
//	           recreated (prod overrides): login, files, bytes
func TestComposeStack(t *testing.T) {
	statePath := os.Getenv("STACK_STATE")
	if statePath == "" {
		t.Skip("STACK_STATE unset: runs under scripts/e2e-compose.sh (make test-compose)")
	}
	origins := map[string]string{"nginx": os.Getenv("STACK_WEB_URL")}
	if u := os.Getenv("STACK_API_URL"); u != "" {
		origins["backend"] = u
	}
	st := loadStackState(t, statePath)
	phase := os.Getenv("STACK_PHASE")
	for name, base := range origins {
		t.Run(name, func(t *testing.T) {
			c := &stackClient{t: t, base: strings.TrimRight(base, "/")}
			switch phase {
			case "fresh":
				st.Users[name] = c.fresh(name == "nginx")
			case "synced", "restarted":
				u, ok := st.Users[name]
				if !ok {
					t.Fatalf("no %s user in %s: run the fresh phase first", name, statePath)
				}
				c.kept(u, phase == "synced")
			default:
				t.Fatalf("STACK_PHASE %q: want fresh, synced or restarted", phase)
			}
		})
	}
	if phase == "fresh" {
		saveStackState(t, statePath, st)
	}
}

type stackState struct {
	Users map[string]stackUser `json:"users"` // by origin name
}

type stackUser struct {
	Email, Password string
	Files           map[string]string // id -> SHA-256 of its bytes
}

func loadStackState(tb testing.TB, path string) *stackState {
	tb.Helper()
	st := &stackState{Users: map[string]stackUser{}}
	raw, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return st
	}
	if err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(raw, st); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return st
}

func saveStackState(tb testing.TB, path string, st *stackState) {
	tb.Helper()
	raw, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		tb.Fatal(err)
	}
}

type stackClient struct {
	t     *testing.T
	base  string
	token string
}

// do sends a request to the origin (or to an absolute URL) and returns the
// status, headers and body.
func (c *stackClient) do(method, path string, body io.Reader, header http.Header) (int, http.Header, []byte) {
	c.t.Helper()
	u := path
	if !strings.HasPrefix(path, "http") {
		u = c.base + path
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if c.token != "" && strings.HasPrefix(u, c.base+"/api/") && req.Header.Get("Authorization") == "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	client := &http.Client{Timeout: 2 * time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", method, u, err)
	}
	return res.StatusCode, res.Header, b
}

// json sends v as JSON (nil: no body) and decodes the answer into out,
// failing unless the status is want.
func (c *stackClient) json(method, path string, v any, want int, out any) {
	c.t.Helper()
	var body io.Reader
	h := http.Header{}
	if v != nil {
		raw, _ := json.Marshal(v)
		body = bytes.NewReader(raw)
		h.Set("Content-Type", "application/json")
	}
	status, _, b := c.do(method, path, body, h)
	if status != want {
		c.t.Fatalf("%s %s: got %d %s, want %d", method, path, status, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

type stackFile struct {
	ID              int64  `json:"id"`
	Name            string `json:"original_filename"`
	Size            int64  `json:"file_size"`
	StorageLocation string `json:"storage_location"`
}

func (c *stackClient) login(email, password string) {
	c.t.Helper()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	c.token = ""
	c.json("POST", "/api/auth/login", map[string]string{"email": email, "password": password}, http.StatusOK, &tok)
	if tok.AccessToken == "" {
		c.t.Fatal("login: no access_token")
	}
	c.token = tok.AccessToken
}

func (c *stackClient) fresh(viaNginx bool) stackUser {
	t := c.t
	for _, p := range []string{"/healthz", "/readyz"} {
		if status, _, b := c.do("GET", p, nil, nil); status != http.StatusOK {
			t.Errorf("GET %s: got %d %s, want 200", p, status, b)
		}
	}
	var cfg struct {
		MultipartThreshold int64 `json:"multipart_threshold_bytes"`
	}
	c.json("GET", "/api/config", nil, http.StatusOK, &cfg)
	if cfg.MultipartThreshold <= 0 {
		t.Fatalf("GET /api/config: multipart_threshold_bytes %d", cfg.MultipartThreshold)
	}
	if viaNginx {
		c.spaHeaders()
	}

	u := stackUser{Email: fmt.Sprintf("stack-%d-%s@example.com", time.Now().UnixNano(), randHex(3)), Password: "Stack-pass-" + randHex(6), Files: map[string]string{}}
	c.json("POST", "/api/auth/signup", map[string]string{"email": u.Email, "password": u.Password}, http.StatusCreated, nil)
	c.login(u.Email, u.Password)
	var me struct {
		Email string `json:"email"`
	}
	c.json("GET", "/api/auth/me", nil, http.StatusOK, &me)
	if me.Email != u.Email {
		t.Errorf("GET /api/auth/me: email got %q, want %q", me.Email, u.Email)
	}

	// Streamed upload, 3 MiB: more than nginx's default client_max_body_size (1 MiB).
	streamed := randBytes(3<<20 + 11)
	f := c.upload("streamed.bin", streamed)
	u.Files[fmt.Sprint(f.ID)] = sha(streamed)

	// Presigned multipart: the parts go to the URLs the server signs for
	// MINIO_PUBLIC_ENDPOINT, from outside the compose network.
	big := randBytes(int(2*cfg.MultipartThreshold) + 4097)
	f = c.multipart("multipart.bin", big)
	u.Files[fmt.Sprint(f.ID)] = sha(big)

	var list struct {
		Files []stackFile `json:"files"`
	}
	c.json("GET", "/api/files", nil, http.StatusOK, &list)
	if len(list.Files) != 2 {
		t.Fatalf("GET /api/files: got %d files, want 2", len(list.Files))
	}
	for _, f := range list.Files {
		if f.StorageLocation != "minio" {
			t.Errorf("%s: storage_location got %q, want minio before a sync", f.Name, f.StorageLocation)
		}
		c.download(f.ID, u.Files[fmt.Sprint(f.ID)])
	}
	// A range of the streamed file, as a resumed browser download asks.
	status, h, b := c.do("GET", fmt.Sprintf("/api/files/%d/download", list.Files[len(list.Files)-1].ID), nil, http.Header{"Range": {"bytes=0-99"}})
	if status != http.StatusPartialContent || len(b) != 100 {
		t.Errorf("ranged download: got %d with %d bytes (%s), want 206 with 100", status, len(b), h.Get("Content-Range"))
	}

	// A share link with a password, downloaded logged out.
	var share struct {
		URL string `json:"url"`
	}
	c.json("POST", fmt.Sprintf("/api/files/%d/shares", f.ID), map[string]any{"expires_in_hours": 1, "password": "share-pass-1"}, http.StatusCreated, &share)
	tokenPart := share.URL[strings.LastIndex(share.URL, "/")+1:]
	if tokenPart == "" {
		t.Fatalf("share url %q has no token", share.URL)
	}
	guest := &stackClient{t: t, base: c.base}
	var dl struct {
		URL string `json:"url"`
	}
	guest.json("POST", "/api/public/shares/"+tokenPart+"/download", map[string]string{"password": "wrong-pass"}, http.StatusUnauthorized, nil)
	guest.json("POST", "/api/public/shares/"+tokenPart+"/download", map[string]string{"password": "share-pass-1"}, http.StatusOK, &dl)
	if dl.URL == "" {
		t.Fatal("share download: no url")
	}
	if status, _, b := guest.do("GET", absURL(c.base, dl.URL), nil, nil); status != http.StatusOK || sha(b) != sha(big) {
		t.Errorf("share download %s: got %d with %d bytes, want 200 and the file", dl.URL, status, len(b))
	}

	// Trash and restore a third file; then the account holds the two above.
	extra := c.upload("trashed.txt", []byte("to the trash and back\n"))
	c.json("DELETE", fmt.Sprintf("/api/files/%d", extra.ID), nil, http.StatusNoContent, nil)
	if status, _, _ := c.do("GET", fmt.Sprintf("/api/files/%d", extra.ID), nil, nil); status != http.StatusNotFound {
		t.Errorf("GET of a trashed file: got %d, want 404", status)
	}
	c.json("POST", fmt.Sprintf("/api/trash/%d/restore", extra.ID), nil, http.StatusOK, nil)
	c.json("GET", fmt.Sprintf("/api/files/%d", extra.ID), nil, http.StatusOK, nil)
	u.Files[fmt.Sprint(extra.ID)] = sha([]byte("to the trash and back\n"))

	var usage struct {
		Used int64 `json:"used_bytes"`
	}
	c.json("GET", "/api/usage", nil, http.StatusOK, &usage)
	if want := int64(len(streamed) + len(big) + len("to the trash and back\n")); usage.Used != want {
		t.Errorf("GET /api/usage: used_bytes got %d, want %d", usage.Used, want)
	}
	return u
}

// spaHeaders checks what nginx itself answers: the SPA with its security
// headers, client-side routes falling back to index.html, hashed assets
// cached for a year, and a JSON 404 from the backend for an unknown API path.
func (c *stackClient) spaHeaders() {
	t := c.t
	for _, p := range []string{"/", "/login", "/dashboard"} {
		status, h, b := c.do("GET", p, nil, nil)
		if status != http.StatusOK || !bytes.Contains(b, []byte(`<div id="root">`)) {
			t.Errorf("GET %s: got %d, want the SPA's index.html", p, status)
		}
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "frame-ancestors 'none'", "connect-src 'self' http"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: Content-Security-Policy %q has no %q", p, csp, want)
			}
		}
		if h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Cache-Control") != "no-cache" {
			t.Errorf("GET %s: X-Frame-Options %q, X-Content-Type-Options %q, Cache-Control %q", p, h.Get("X-Frame-Options"), h.Get("X-Content-Type-Options"), h.Get("Cache-Control"))
		}
		if p == "/" {
			i := bytes.Index(b, []byte(`src="/assets/`))
			if i < 0 {
				t.Fatalf("index.html names no /assets/ script")
			}
			asset := string(b[i+5:])
			asset = asset[:strings.IndexByte(asset, '"')]
			status, h, _ := c.do("GET", asset, nil, nil)
			cc := strings.Join(h.Values("Cache-Control"), ", ") // nginx's expires and add_header: two fields
			if status != http.StatusOK || !strings.Contains(cc, "max-age=31536000") || !strings.Contains(cc, "immutable") || h.Get("Content-Security-Policy") == "" {
				t.Errorf("GET %s: got %d, Cache-Control %q, CSP %q", asset, status, cc, h.Get("Content-Security-Policy"))
			}
		}
	}
	status, h, b := c.do("GET", "/api/no-such-route", nil, nil)
	if status != http.StatusNotFound || !strings.Contains(h.Get("Content-Type"), "json") {
		t.Errorf("GET /api/no-such-route: got %d %q %s, want the backend's JSON 404", status, h.Get("Content-Type"), b)
	}
}

func (c *stackClient) upload(name string, data []byte) stackFile {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	status, _, b := c.do("POST", "/api/files/upload", &body, http.Header{"Content-Type": {mw.FormDataContentType()}})
	if status != http.StatusCreated {
		c.t.Fatalf("POST /api/files/upload (%d bytes): got %d %s, want 201", len(data), status, b)
	}
	var f stackFile
	if err := json.Unmarshal(b, &f); err != nil || f.Size != int64(len(data)) {
		c.t.Fatalf("POST /api/files/upload: %v, file_size %d, want %d", err, f.Size, len(data))
	}
	return f
}

func (c *stackClient) multipart(name string, data []byte) stackFile {
	t := c.t
	t.Helper()
	var up struct {
		UploadID string `json:"upload_id"`
		PartSize int64  `json:"part_size"`
		Parts    []struct {
			PartNumber int    `json:"part_number"`
			URL        string `json:"url"`
		} `json:"parts"`
	}
	c.json("POST", "/api/files/uploads", map[string]any{"filename": name, "size": len(data)}, http.StatusCreated, &up)
	if len(up.Parts) < 2 {
		t.Fatalf("POST /api/files/uploads: %d parts for %d bytes", len(up.Parts), len(data))
	}
	type done struct {
		PartNumber int    `json:"part_number"`
		ETag       string `json:"etag"`
	}
	var parts []done
	for _, p := range up.Parts {
		lo := int64(p.PartNumber-1) * up.PartSize
		hi := min(lo+up.PartSize, int64(len(data)))
		status, h, b := c.do("PUT", p.URL, bytes.NewReader(data[lo:hi]), nil)
		if status != http.StatusOK || h.Get("ETag") == "" {
			t.Fatalf("PUT part %d to %s: got %d %s", p.PartNumber, p.URL, status, b)
		}
		parts = append(parts, done{p.PartNumber, h.Get("ETag")})
	}
	var f stackFile
	c.json("POST", "/api/files/uploads/"+up.UploadID+"/complete", map[string]any{"parts": parts}, http.StatusCreated, &f)
	if f.Size != int64(len(data)) {
		t.Fatalf("complete: file_size %d, want %d", f.Size, len(data))
	}
	return f
}

// download fetches a file (following a redirect to storage) and compares
// its SHA-256.
func (c *stackClient) download(id int64, wantSHA string) {
	c.t.Helper()
	path := fmt.Sprintf("/api/files/%d/download", id)
	status, h, b := c.do("GET", path, nil, nil)
	if status == http.StatusFound {
		status, _, b = c.do("GET", absURL(c.base, h.Get("Location")), nil, nil)
	}
	if status != http.StatusOK || sha(b) != wantSHA {
		c.t.Errorf("GET %s: got %d with %d bytes (sha %s), want 200 and sha %s", path, status, len(b), sha(b), wantSHA)
	}
}

// kept checks that the user's files are all there with their bytes (and in
// the cold tier when synced).
func (c *stackClient) kept(u stackUser, synced bool) {
	c.login(u.Email, u.Password)
	var list struct {
		Files []stackFile `json:"files"`
	}
	c.json("GET", "/api/files", nil, http.StatusOK, &list)
	if len(list.Files) != len(u.Files) {
		c.t.Fatalf("GET /api/files: got %d files, want %d", len(list.Files), len(u.Files))
	}
	for _, f := range list.Files {
		want, ok := u.Files[fmt.Sprint(f.ID)]
		if !ok {
			c.t.Errorf("file %d (%s) was not uploaded by this test", f.ID, f.Name)
			continue
		}
		if synced && f.StorageLocation != "s3" {
			c.t.Errorf("%s: storage_location got %q after the sync, want s3", f.Name, f.StorageLocation)
		}
		c.download(f.ID, want)
	}
}

func absURL(base, u string) string {
	if r, err := url.Parse(u); err == nil && r.IsAbs() {
		return u
	}
	return base + u
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func randHex(n int) string { return hex.EncodeToString(randBytes(n)) }

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
