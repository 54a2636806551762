package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/storage"
)

func randomBytes(tb testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return b
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestUploadAndDownload(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("up@example.com")
	data := randomBytes(t, 3<<20+123)
	name := `Résumé "final" 100%.bin`
	f := c.mustUpload(name, data)

	if f.OriginalFilename != name || f.FileSize != int64(len(data)) || f.StorageLocation != "minio" || f.Checksum != sha(data) || f.SyncedAt != nil {
		t.Fatalf("file object %+v", f)
	}
	if f.ContentType != "application/octet-stream" {
		t.Errorf("content_type %q, want application/octet-stream", f.ContentType)
	}
	if strings.ContainsAny(f.Filename, `/\"`) || f.Filename == "" {
		t.Errorf("sanitized filename %q", f.Filename)
	}
	if !strings.Contains(f.AccessURL, "/"+s.app.Config.Hot.Bucket+"/user-") {
		t.Errorf("access_url %q does not point into the hot bucket", f.AccessURL)
	}
	// The object is in the hot tier under user-{id}/{uuid}-{name}.
	key := strings.SplitN(strings.TrimPrefix(mustURL(t, f.AccessURL).Path, "/"+s.app.Config.Hot.Bucket+"/"), "?", 2)[0]
	st, err := s.app.Hot.Stat(context.Background(), key)
	if err != nil || st.Size != int64(len(data)) {
		t.Fatalf("hot object %s: %+v, %v", key, st, err)
	}

	var got fileObj
	c.json("GET", fmt.Sprintf("/api/files/%d", f.ID), nil, 200, &got)
	if got != f {
		t.Errorf("GET file = %+v, want %+v", got, f)
	}

	// Full download.
	resp, body := c.do("GET", fmt.Sprintf("/api/files/%d/download", f.ID), nil, nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, data) {
		t.Fatalf("download: status %d, %d bytes (want %d)", resp.StatusCode, len(body), len(data))
	}
	h := resp.Header
	if h.Get("Content-Length") != fmt.Sprint(len(data)) || h.Get("ETag") != `"`+f.Checksum+`"` || h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("download headers %v", h)
	}
	if cd := h.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, "filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22%20100%25.bin") {
		t.Errorf("Content-Disposition %q", cd)
	}

	// Range.
	resp, body = c.do("GET", fmt.Sprintf("/api/files/%d/download", f.ID), nil, map[string]string{"Range": "bytes=1000-1999"})
	if resp.StatusCode != 206 || !bytes.Equal(body, data[1000:2000]) || resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 1000-1999/%d", len(data)) {
		t.Errorf("range: status %d, %d bytes, Content-Range %q", resp.StatusCode, len(body), resp.Header.Get("Content-Range"))
	}
	resp, body = c.do("GET", fmt.Sprintf("/api/files/%d/download", f.ID), nil, map[string]string{"Range": "bytes=-10"})
	if resp.StatusCode != 206 || !bytes.Equal(body, data[len(data)-10:]) {
		t.Errorf("suffix range: status %d, %d bytes", resp.StatusCode, len(body))
	}
	resp, body = c.do("GET", fmt.Sprintf("/api/files/%d/download", f.ID), nil, map[string]string{"Range": "bytes=99999999-"})
	wantError(t, resp, body, 416, "RANGE_NOT_SATISFIABLE")

	// Conditional.
	resp, body = c.do("GET", fmt.Sprintf("/api/files/%d/download", f.ID), nil, map[string]string{"If-None-Match": `"` + f.Checksum + `"`})
	if resp.StatusCode != 304 || len(body) != 0 {
		t.Errorf("If-None-Match: status %d, %d bytes", resp.StatusCode, len(body))
	}

	// Redirect to a presigned URL that works without our token.
	resp, _ = c.do("GET", fmt.Sprintf("/api/files/%d/download?redirect=1", f.ID), nil, nil)
	if resp.StatusCode != 302 {
		t.Fatalf("redirect: status %d", resp.StatusCode)
	}
	checkPresigned(t, resp.Header.Get("Location"), data)
	var link struct {
		URL       string `json:"url"`
		ExpiresIn int    `json:"expires_in"`
	}
	c.json("GET", fmt.Sprintf("/api/files/%d/download?redirect=1&format=json", f.ID), nil, 200, &link)
	if link.ExpiresIn > 900 || link.ExpiresIn <= 0 {
		t.Errorf("expires_in %d, want 1..900", link.ExpiresIn)
	}
	checkPresigned(t, link.URL, data)
}

func mustURL(tb testing.TB, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// checkPresigned fetches a presigned URL with no credentials and compares.
func checkPresigned(tb testing.TB, u string, want []byte) {
	tb.Helper()
	if exp, err := strconv.Atoi(mustURL(tb, u).Query().Get("X-Amz-Expires")); err != nil || exp < 1 || exp > 900 {
		tb.Errorf("presigned URL expiry %q, want 1..900", mustURL(tb, u).Query().Get("X-Amz-Expires"))
	}
	resp, err := http.Get(u)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !bytes.Equal(got, want) {
		tb.Fatalf("presigned GET: status %d, %d bytes (want %d)", resp.StatusCode, len(got), len(want))
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") {
		tb.Errorf("presigned Content-Disposition %q", cd)
	}
}

func TestUploadEdgeCases(t *testing.T) {
	t.Parallel()
	s := newStack(t, func(c *config.Config) { c.MaxFileSize = 1 << 20 })
	c := s.client(t).signup("edge@example.com")

	empty := c.mustUpload("empty.txt", nil)
	if empty.FileSize != 0 || empty.Checksum != sha(nil) {
		t.Errorf("empty file %+v", empty)
	}
	resp, body := c.do("GET", fmt.Sprintf("/api/files/%d/download", empty.ID), nil, nil)
	if resp.StatusCode != 200 || len(body) != 0 {
		t.Errorf("empty download: %d, %d bytes", resp.StatusCode, len(body))
	}

	// Exactly the limit is fine; one byte more is not.
	c.mustUpload("limit.bin", randomBytes(t, 1<<20))
	resp, body = c.upload("big.bin", "", randomBytes(t, 1<<20+1))
	wantError(t, resp, body, 413, "FILE_TOO_LARGE")
	resp, body = c.upload("much-bigger.bin", "", randomBytes(t, 3<<20))
	wantError(t, resp, body, 413, "FILE_TOO_LARGE")

	// Path tricks are cut to the base name.
	evil := c.mustUpload("../../etc/passwd", []byte("root:x:0:0"))
	if evil.Filename != "passwd" || strings.Contains(evil.AccessURL, "..") {
		t.Errorf("path traversal: filename %q, url %q", evil.Filename, evil.AccessURL)
	}
	// The sniffed type wins over a wrong claim.
	txt := c.mustUploadType("notes.png", "image/png", []byte("just some text, not a png"))
	if !strings.HasPrefix(txt.ContentType, "text/plain") {
		t.Errorf("claimed image/png for text: stored %q", txt.ContentType)
	}
	// An unknown binary keeps a valid claim.
	zip := c.mustUploadType("data.parquet", "application/vnd.apache.parquet", []byte{0x50, 0x41, 0x52, 0x31, 0, 1, 2, 0xff})
	if zip.ContentType != "application/vnd.apache.parquet" {
		t.Errorf("binary with claim: stored %q", zip.ContentType)
	}

	tests := []struct {
		name   string
		body   string
		ctype  string
		status int
		code   string
	}{
		{"not multipart", `{"file":"x"}`, "application/json", 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"no content type", `x`, "", 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"no boundary", "--x\r\n", "multipart/form-data", 400, "BAD_REQUEST"},
		{"garbage multipart", "this is not multipart", "multipart/form-data; boundary=abc", 400, "MISSING_FILE"},
		{"no file field", "--abc\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nhello\r\n--abc--\r\n", "multipart/form-data; boundary=abc", 400, "MISSING_FILE"},
		{"file field without filename", "--abc\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nhello\r\n--abc--\r\n", "multipart/form-data; boundary=abc", 400, "MISSING_FILE"},
		{"empty multipart", "--abc--\r\n", "multipart/form-data; boundary=abc", 400, "MISSING_FILE"},
		{"raw control chars in header", "--abc\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\x01b.txt\"\r\n\r\nhello\r\n--abc--\r\n", "multipart/form-data; boundary=abc", 400, "BAD_REQUEST"},
		{"encoded control chars in name", "--abc\r\nContent-Disposition: form-data; name=\"file\"; filename*=UTF-8''a%01b.txt\r\n\r\nhello\r\n--abc--\r\n", "multipart/form-data; boundary=abc", 400, "INVALID_FILENAME"},
		{"encoded NUL in name", "--abc\r\nContent-Disposition: form-data; name=\"file\"; filename*=UTF-8''a%00b.txt\r\n\r\nhello\r\n--abc--\r\n", "multipart/form-data; boundary=abc", 400, "INVALID_FILENAME"},
		{"dots only", "--abc\r\nContent-Disposition: form-data; name=\"file\"; filename=\"..\"\r\n\r\nhello\r\n--abc--\r\n", "multipart/form-data; boundary=abc", 400, "INVALID_FILENAME"},
		{"truncated body", "--abc\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.txt\"\r\n\r\nhello", "multipart/form-data; boundary=abc", 400, "BAD_REQUEST"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{}
			if tc.ctype != "" {
				h["Content-Type"] = tc.ctype
			}
			resp, body := c.do("POST", "/api/files/upload", strings.NewReader(tc.body), h)
			wantError(t, resp, body, tc.status, tc.code)
		})
	}

	// Nothing of the failed uploads is left: 5 files in the DB, 5 objects in the bucket.
	var list struct{ Files []fileObj }
	c.json("GET", "/api/files", nil, 200, &list)
	if len(list.Files) != 5 {
		t.Errorf("files after edge cases: %d, want 5", len(list.Files))
	}
	if n := countObjects(t, s); n != 5 {
		t.Errorf("objects in hot bucket: %d, want 5", n)
	}
}

func (c *client) mustUploadType(name, ctype string, data []byte) fileObj {
	c.tb.Helper()
	resp, b := c.upload(name, ctype, data)
	if resp.StatusCode != 201 {
		c.tb.Fatalf("upload %q: %d %s", name, resp.StatusCode, b)
	}
	var f fileObj
	json.Unmarshal(b, &f)
	return f
}

func countObjects(tb testing.TB, s *stack) int {
	tb.Helper()
	n := 0
	for obj := range s.app.Hot.Core.Client.ListObjects(context.Background(), s.app.Config.Hot.Bucket, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err != nil {
			tb.Fatal(obj.Err)
		}
		n++
	}
	return n
}

func TestAllowedContentTypes(t *testing.T) {
	t.Parallel()
	s := newStack(t, func(c *config.Config) { c.AllowedContentTypes = []string{"image/*", "application/pdf"} })
	c := s.client(t).signup("types@example.com")
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	c.mustUpload("pic.png", png)
	resp, body := c.upload("script.sh", "image/png", []byte("#!/bin/sh\necho hi\n"))
	wantError(t, resp, body, 415, "UNSUPPORTED_MEDIA_TYPE")
	if n := countObjects(t, s); n != 1 {
		t.Errorf("objects: %d, want 1", n)
	}
}

func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	alice := s.client(t).signup("alice@example.com")
	bob := s.client(t).signup("bob@example.com")
	af := alice.mustUpload("alice.txt", []byte("alice's secret"))
	bob.mustUpload("bob.txt", []byte("bob's file"))

	for _, req := range []struct{ method, path string }{
		{"GET", fmt.Sprintf("/api/files/%d", af.ID)},
		{"GET", fmt.Sprintf("/api/files/%d/download", af.ID)},
		{"GET", fmt.Sprintf("/api/files/%d/download?redirect=1", af.ID)},
		{"DELETE", fmt.Sprintf("/api/files/%d", af.ID)},
	} {
		resp, body := bob.do(req.method, req.path, nil, nil)
		wantError(t, resp, body, 403, "FORBIDDEN")
		if bytes.Contains(body, []byte("secret")) {
			t.Errorf("%s %s leaked content", req.method, req.path)
		}
	}
	var list struct{ Files []fileObj }
	bob.json("GET", "/api/files", nil, 200, &list)
	if len(list.Files) != 1 || list.Files[0].OriginalFilename != "bob.txt" {
		t.Errorf("bob's list: %+v", list.Files)
	}
	bob.json("GET", "/api/files?q=alice", nil, 200, &list)
	if len(list.Files) != 0 {
		t.Errorf("bob's search for alice: %+v", list.Files)
	}
	// Alice's file survived Bob's delete.
	resp, body := alice.do("GET", fmt.Sprintf("/api/files/%d/download", af.ID), nil, nil)
	if resp.StatusCode != 200 || string(body) != "alice's secret" {
		t.Errorf("alice's download after bob's attempts: %d %q", resp.StatusCode, body)
	}
	for _, path := range []string{"/api/files/999999", "/api/files/999999/download"} {
		resp, body := alice.do("GET", path, nil, nil)
		wantError(t, resp, body, 404, "FILE_NOT_FOUND")
	}
	for _, path := range []string{"/api/files/abc", "/api/files/-1", "/api/files/0", "/api/files/99999999999999999999"} {
		resp, body := alice.do("GET", path, nil, nil)
		wantError(t, resp, body, 400, "VALIDATION_ERROR")
	}
}

func TestListPagingAndFilters(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("list@example.com")
	names := []string{"a.txt", "100%_done.txt", "100x.txt", "report_1.txt", "report-1.txt", "Photo.JPG", "g.txt"}
	var ids []int64
	for _, n := range names {
		ids = append(ids, c.mustUpload(n, []byte(n)).ID)
	}
	type page struct {
		Files      []fileObj `json:"files"`
		NextCursor *string   `json:"next_cursor"`
	}
	var all []int64
	path := "/api/files?limit=3"
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		var p page
		c.json("GET", path, nil, 200, &p)
		for _, f := range p.Files {
			all = append(all, f.ID)
		}
		if p.NextCursor == nil {
			break
		}
		path = "/api/files?limit=3&cursor=" + url.QueryEscape(*p.NextCursor)
	}
	if len(all) != len(ids) {
		t.Fatalf("paged ids %v, want %d files", all, len(ids))
	}
	for i := range all {
		if all[i] != ids[len(ids)-1-i] {
			t.Fatalf("order %v, want newest first %v", all, ids)
		}
	}
	search := func(q string) []string {
		var p page
		c.json("GET", "/api/files?q="+url.QueryEscape(q), nil, 200, &p)
		var out []string
		for _, f := range p.Files {
			out = append(out, f.OriginalFilename)
		}
		return out
	}
	if got := search("100%"); len(got) != 1 || got[0] != "100%_done.txt" {
		t.Errorf("q=100%% → %v, want only 100%%_done.txt", got)
	}
	if got := search("report_"); len(got) != 1 || got[0] != "report_1.txt" {
		t.Errorf("q=report_ → %v, want only report_1.txt", got)
	}
	if got := search("photo"); len(got) != 1 {
		t.Errorf("q=photo (case-insensitive) → %v", got)
	}
	var p page
	c.json("GET", "/api/files?location=s3", nil, 200, &p)
	if len(p.Files) != 0 {
		t.Errorf("location=s3: %d files, want 0", len(p.Files))
	}
	c.json("GET", "/api/files?location=minio&limit=200", nil, 200, &p)
	if len(p.Files) != len(names) || p.NextCursor != nil {
		t.Errorf("location=minio: %d files, cursor %v", len(p.Files), p.NextCursor)
	}
	for _, bad := range []string{"limit=0", "limit=201", "limit=x", "location=disk", "cursor=!!!", "cursor=" + strings.Repeat("A", 100), "cursor=MTp4", "q=" + strings.Repeat("x", 300), "q=%00"} {
		resp, body := c.do("GET", "/api/files?"+bad, nil, nil)
		wantError(t, resp, body, 400, "VALIDATION_ERROR")
	}
}

// TestListSorted: sort and order on GET /api/files, paged through every
// sort × order (ties by id), each sort's default order, and the 400s of
// unknown values and of a cursor used with another sort or order.
func TestListSorted(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("sorted@example.com")
	// name → size; "b.txt" and "B.txt" tie on name, the sizes 3 and 5 repeat.
	uploads := []struct {
		name string
		size int
	}{{"b.txt", 3}, {"a.txt", 5}, {"C.txt", 1}, {"B.txt", 3}, {"d.txt", 5}}
	id := map[string]int64{}
	// B.txt in a folder of its own: in b.txt's folder its name would be
	// numbered, and the list of every folder is what ties them.
	other := c.mkdir("other", nil)
	for _, u := range uploads {
		if u.name == "B.txt" {
			id[u.name] = c.mustUploadTo(other.ID, u.name, bytes.Repeat([]byte("x"), u.size)).ID
			continue
		}
		id[u.name] = c.mustUpload(u.name, bytes.Repeat([]byte("x"), u.size)).ID
	}
	type page struct {
		Files      []fileObj `json:"files"`
		NextCursor *string   `json:"next_cursor"`
	}
	walk := func(query string) []string {
		t.Helper()
		var names []string
		path := "/api/files?limit=2&" + query
		for pages := 0; ; pages++ {
			if pages > 5 {
				t.Fatalf("%s: paging does not end", query)
			}
			var p page
			c.json("GET", path, nil, 200, &p)
			for _, f := range p.Files {
				names = append(names, f.OriginalFilename)
			}
			if p.NextCursor == nil {
				return names
			}
			path = "/api/files?limit=2&" + query + "&cursor=" + url.QueryEscape(*p.NextCursor)
		}
	}
	// Ties go by id in the list's direction: b.txt was uploaded before B.txt.
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"sort=name&order=asc", []string{"a.txt", "b.txt", "B.txt", "C.txt", "d.txt"}},
		{"sort=name&order=desc", []string{"d.txt", "C.txt", "B.txt", "b.txt", "a.txt"}},
		{"sort=name", []string{"a.txt", "b.txt", "B.txt", "C.txt", "d.txt"}},
		{"sort=size&order=asc", []string{"C.txt", "b.txt", "B.txt", "a.txt", "d.txt"}},
		{"sort=size&order=desc", []string{"d.txt", "a.txt", "B.txt", "b.txt", "C.txt"}},
		{"sort=size", []string{"d.txt", "a.txt", "B.txt", "b.txt", "C.txt"}},
		{"sort=uploaded_at&order=asc", []string{"b.txt", "a.txt", "C.txt", "B.txt", "d.txt"}},
		{"sort=uploaded_at&order=desc", []string{"d.txt", "B.txt", "C.txt", "a.txt", "b.txt"}},
		{"order=asc", []string{"b.txt", "a.txt", "C.txt", "B.txt", "d.txt"}},
		{"", []string{"d.txt", "B.txt", "C.txt", "a.txt", "b.txt"}},
		{"sort=name&order=desc&q=b", []string{"B.txt", "b.txt"}},
		{"sort=size&order=asc&location=minio", []string{"C.txt", "b.txt", "B.txt", "a.txt", "d.txt"}},
		{"sort=name&location=s3", nil},
	} {
		if got := walk(tc.query); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.query, got, tc.want)
		}
	}

	var first page
	c.json("GET", "/api/files?limit=2&sort=name&order=asc", nil, 200, &first)
	if first.NextCursor == nil {
		t.Fatal("no next cursor")
	}
	cur := url.QueryEscape(*first.NextCursor)
	for _, tc := range []struct{ query, field string }{
		{"sort=date", "sort"},
		{"sort=NAME", "sort"},
		{"sort=name&order=up", "order"},
		{"order=DESC", "order"},
		{"sort=name&order=desc&cursor=" + cur, "cursor"},
		{"sort=size&order=asc&cursor=" + cur, "cursor"},
		{"cursor=" + cur, "cursor"},
	} {
		resp, body := c.do("GET", "/api/files?"+tc.query, nil, nil)
		wantError(t, resp, body, 400, "VALIDATION_ERROR")
		var e struct {
			Field string `json:"field"`
		}
		if err := json.Unmarshal(body, &e); err != nil || e.Field != tc.field {
			t.Errorf("%s: field %q (%v), want %q", tc.query, e.Field, err, tc.field)
		}
	}
}

// Without a trash (TRASH_RETENTION_DAYS=0) a DELETE purges at once.
func TestDeleteRemovesEveryTier(t *testing.T) {
	t.Parallel()
	s := newStack(t, func(c *config.Config) { c.TrashRetentionDays = 0 })
	c := s.client(t).signup("del@example.com")
	data := []byte("to be deleted")
	hot := c.mustUpload("hot.txt", data)
	cold := c.mustUpload("cold.txt", data)
	coldKey := moveToCold(t, s, cold.ID)

	// The cold file downloads from the cold tier, streamed and presigned.
	resp, body := c.do("GET", fmt.Sprintf("/api/files/%d/download", cold.ID), nil, nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, data) {
		t.Fatalf("cold download: %d %q", resp.StatusCode, body)
	}
	var link struct{ URL string }
	c.json("GET", fmt.Sprintf("/api/files/%d/download?redirect=1&format=json", cold.ID), nil, 200, &link)
	if !strings.Contains(link.URL, s.app.Config.Cold.Bucket) {
		t.Errorf("cold presigned URL %q is not in the cold bucket", link.URL)
	}
	checkPresigned(t, link.URL, data)

	for _, f := range []fileObj{hot, cold} {
		resp, body := c.do("DELETE", fmt.Sprintf("/api/files/%d", f.ID), nil, nil)
		if resp.StatusCode != 204 || len(body) != 0 {
			t.Fatalf("delete %d: %d %s", f.ID, resp.StatusCode, body)
		}
		resp, body = c.do("GET", fmt.Sprintf("/api/files/%d", f.ID), nil, nil)
		wantError(t, resp, body, 404, "FILE_NOT_FOUND")
		resp, body = c.do("DELETE", fmt.Sprintf("/api/files/%d", f.ID), nil, nil)
		wantError(t, resp, body, 404, "FILE_NOT_FOUND")
	}
	if n := countObjects(t, s); n != 0 {
		t.Errorf("hot objects after delete: %d", n)
	}
	if _, err := s.app.Cold.Stat(context.Background(), coldKey); err == nil {
		t.Errorf("cold object %s still there", coldKey)
	}
}

// moveToCold does what the sync job does to one file: copy the object to
// the cold tier, flip the row, delete the hot copy. It returns the key.
func moveToCold(tb testing.TB, s *stack, id int64) string {
	tb.Helper()
	ctx := context.Background()
	var key string
	if err := s.app.DB.Pool.QueryRow(ctx, `SELECT object_key FROM files WHERE id = $1`, id).Scan(&key); err != nil {
		tb.Fatal(err)
	}
	body, err := s.app.Hot.Open(ctx, key, 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer body.Close()
	if _, err := s.app.Cold.Put(ctx, key, body, -1, storage.PutOptions{ContentType: "application/octet-stream"}); err != nil {
		tb.Fatal(err)
	}
	if _, err := s.app.DB.Pool.Exec(ctx, `UPDATE files SET storage_location = 's3', access_url = $2, synced_at = now() WHERE id = $1`, id, s.app.Cold.URL(key)); err != nil {
		tb.Fatal(err)
	}
	if err := s.app.Hot.Delete(ctx, key); err != nil {
		tb.Fatal(err)
	}
	return key
}

func TestDownloadFollowsAMoveDuringTheRequest(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("move@example.com")
	data := []byte("moving bytes")
	f := c.mustUpload("m.txt", data)
	moveToCold(t, s, f.ID)
	var got fileObj
	c.json("GET", fmt.Sprintf("/api/files/%d", f.ID), nil, 200, &got)
	if got.StorageLocation != "s3" || got.SyncedAt == nil || !strings.Contains(got.AccessURL, s.app.Config.Cold.Bucket) {
		t.Errorf("after move: %+v", got)
	}
	resp, body := c.do("GET", fmt.Sprintf("/api/files/%d/download", f.ID), nil, nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, data) {
		t.Errorf("download after move: %d %q", resp.StatusCode, body)
	}
}

// TestAbandonedUploadLeavesNothing cuts the connection halfway through a
// large upload: no row, and no object (not even a pending multipart one).
func TestAbandonedUploadLeavesNothing(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("gone@example.com")
	sizes := []int{200 << 10, 40 << 20} // within the first MiB, and streamed in parts
	if onLambda() {
		// API Gateway reads the whole request before invoking: a connection
		// cut halfway never reaches a function (and 40 MiB is over its 10 MB cap).
		t.Log("lambda: skipping the cut connections")
		sizes = nil
	}
	for _, size := range sizes {
		body, ctype := multipartBody(t, "file", "half.bin", "", randomBytes(t, size))
		full, _ := io.ReadAll(body)
		conn, err := net.Dial("tcp", strings.TrimPrefix(s.srv.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST /api/files/upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", c.token, ctype, len(full))
		conn.Write(full[:len(full)/2])
		time.Sleep(300 * time.Millisecond)
		conn.Close()
	}
	// A whole request whose body stops before the closing boundary, past
	// the first MiB: the stream ends early, which must not pass for a file.
	resp, b := c.do("POST", "/api/files/upload", strings.NewReader("--abc\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.bin\"\r\n\r\n"+strings.Repeat("x", 3<<20)), map[string]string{"Content-Type": "multipart/form-data; boundary=abc"})
	wantError(t, resp, b, 400, "BAD_REQUEST")
	deadline := time.Now().Add(10 * time.Second)
	for {
		var rows int
		s.app.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM files`).Scan(&rows)
		objects := countObjects(t, s)
		uploads := 0
		for range s.app.Hot.Core.Client.ListIncompleteUploads(context.Background(), s.app.Config.Hot.Bucket, "", true) {
			uploads++
		}
		if rows == 0 && objects == 0 && uploads == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after abandoned uploads: %d rows, %d objects, %d incomplete multipart uploads; want none", rows, objects, uploads)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestAnswersAreNotStored: a file's bytes and every answer about a user's
// data are Cache-Control: no-store, so that no browser or proxy keeps them
// on disk (issue 21 item 11); only the public OpenAPI document may be
// cached.
func TestAnswersAreNotStored(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("no-store@example.com")
	data := randomBytes(t, 4096)
	f := c.mustUpload("kept.bin", data)
	other := c.mustUpload("deleted.bin", data)
	file := fmt.Sprintf("/api/files/%d", f.ID)
	tests := []struct {
		name, method, path string
		header             map[string]string
		status             int
	}{
		{"me", "GET", "/api/auth/me", nil, 200},
		{"list", "GET", "/api/files", nil, 200},
		{"one file", "GET", file, nil, 200},
		{"usage", "GET", "/api/usage", nil, 200},
		{"download", "GET", file + "/download", nil, 200},
		{"range", "GET", file + "/download", map[string]string{"Range": "bytes=0-9"}, 206},
		{"not modified", "GET", file + "/download", map[string]string{"If-None-Match": `"` + sha(data) + `"`}, 304},
		{"delete", "DELETE", fmt.Sprintf("/api/files/%d", other.ID), nil, 204},
		{"error", "GET", "/api/files/999999", nil, 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := c.do(tc.method, tc.path, nil, tc.header)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d; body %.200s", resp.StatusCode, tc.status, body)
			}
			if got := resp.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", got)
			}
		})
	}
	resp, _ := c.do("GET", "/api/openapi.json", nil, nil)
	if got := resp.Header.Get("Cache-Control"); resp.StatusCode != 200 || got != "public, max-age=300" {
		t.Errorf("openapi: %d, Cache-Control %q; want 200 public, max-age=300", resp.StatusCode, got)
	}
}
