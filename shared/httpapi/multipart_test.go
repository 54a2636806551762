package httpapi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/httpapi"
	"github.com/hybrid-storage/hybrid-storage/shared/storage"
)

type partURLObj struct {
	PartNumber int    `json:"part_number"`
	URL        string `json:"url"`
}

type uploadObj struct {
	UploadID     string       `json:"upload_id"`
	PartSize     int64        `json:"part_size"`
	URLExpiresIn int          `json:"url_expires_in"`
	Parts        []partURLObj `json:"parts"`
	PartsDone    []struct {
		PartNumber int    `json:"part_number"`
		ETag       string `json:"etag"`
		Size       int64  `json:"size"`
	} `json:"parts_done"`
}

type partRef struct {
	PartNumber int    `json:"part_number"`
	ETag       string `json:"etag"`
}

// createUpload starts an upload and expects 201.
func (c *client) createUpload(name string, size int64, ctype string) uploadObj {
	c.tb.Helper()
	var u uploadObj
	c.json("POST", "/api/files/uploads", map[string]any{"filename": name, "size": size, "content_type": ctype}, 201, &u)
	return u
}

// putPart PUTs data to a presigned URL as a browser would: plain HTTP, no
// credentials. It returns the ETag header.
func putPart(tb testing.TB, u string, data []byte) string {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPut, u, bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == "" {
		tb.Fatalf("PUT part: status %d, ETag %q", resp.StatusCode, resp.Header.Get("ETag"))
	}
	return resp.Header.Get("ETag")
}

// chunks splits data into parts of size ps.
func chunks(data []byte, ps int64) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		n := min(int64(len(data)), ps)
		out = append(out, data[:n])
		data = data[n:]
	}
	return out
}

// hotState counts the objects and the unfinished multipart uploads in the
// stack's hot bucket.
func (s *stack) hotState(tb testing.TB) (objects, uploads int) {
	tb.Helper()
	ctx := tb.Context()
	for o := range s.app.Hot.Core.Client.ListObjects(ctx, s.app.Hot.Bucket(), minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			tb.Fatal(o.Err)
		}
		objects++
	}
	res, err := s.app.Hot.Core.ListMultipartUploads(ctx, s.app.Hot.Bucket(), "", "", "", "", 1000)
	if err != nil {
		tb.Fatal(err)
	}
	return objects, len(res.Uploads)
}

func (s *stack) sessions(tb testing.TB) int {
	tb.Helper()
	var n int
	if err := s.app.DB.Pool.QueryRow(tb.Context(), `SELECT count(*) FROM upload_sessions`).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

const mib = 1 << 20

// checkPresigned checks the file a presigned upload was completed into:
// recorded without its checksums (null, "not known yet", until the sync job
// reads the bytes), its row pinned to the ETag of a hot object that holds
// exactly data.
func (s *stack) checkPresignedFile(tb testing.TB, f fileObj, data []byte) {
	tb.Helper()
	if f.Checksum != "" || f.CRC64NVME != "" || f.FileSize != int64(len(data)) {
		tb.Errorf("file %+v: want %d bytes with checksum_sha256 and checksum_crc64nvme null", f, len(data))
	}
	ctx := tb.Context()
	var key string
	var sum, etag *string
	if err := s.app.DB.Pool.QueryRow(ctx, `SELECT object_key, checksum_sha256, hot_etag FROM files WHERE id = $1`, f.ID).Scan(&key, &sum, &etag); err != nil {
		tb.Fatal(err)
	}
	info, err := s.app.Hot.Stat(ctx, key)
	if err != nil {
		tb.Fatal(err)
	}
	if sum != nil || etag == nil || *etag != storage.TrimETag(info.ETag) {
		tb.Errorf("row: checksum_sha256 %v, hot_etag %v; want NULL and the object's ETag %s", sum, etag, info.ETag)
	}
	body, err := s.app.Hot.Open(ctx, key, 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer body.Close()
	got, err := io.ReadAll(body)
	if err != nil || sha(got) != sha(data) {
		tb.Errorf("the hot object holds %d bytes with sha256 %s (%v), want the %d uploaded with %s", len(got), sha(got), err, len(data), sha(data))
	}
}

func TestMultipartUploadEndToEnd(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("mp@example.com")
	data := randomBytes(t, 2*8*mib+12345) // three parts, the last one short
	u := c.createUpload("../big video.bin", int64(len(data)), "application/octet-stream")
	if u.PartSize != 8*mib || len(u.Parts) != 3 || u.URLExpiresIn < 1 || u.URLExpiresIn > 900 {
		t.Fatalf("create: part_size %d, %d parts, url_expires_in %d; want 8 MiB, 3, 1..900", u.PartSize, len(u.Parts), u.URLExpiresIn)
	}
	if strings.Contains(u.UploadID, "/") || len(u.UploadID) != 36 {
		t.Errorf("upload_id %q is not our UUID", u.UploadID)
	}
	var refs []partRef
	for i, part := range chunks(data, u.PartSize) {
		if u.Parts[i].PartNumber != i+1 || !strings.Contains(u.Parts[i].URL, "X-Amz-Signature=") {
			t.Fatalf("part %d: %+v", i+1, u.Parts[i])
		}
		refs = append(refs, partRef{i + 1, putPart(t, u.Parts[i].URL, part)})
	}
	var f fileObj
	c.json("POST", "/api/files/uploads/"+u.UploadID+"/complete", map[string]any{"parts": refs}, 201, &f)
	s.checkPresignedFile(t, f, data)
	if f.StorageLocation != "minio" ||
		f.Filename != "big video.bin" || f.OriginalFilename != "../big video.bin" || f.ContentType != "application/octet-stream" {
		t.Fatalf("file %+v", f)
	}
	// A streamed download must fit Lambda's 6 MB response: on Lambda this
	// file goes through the presigned URL below only.
	if !onLambda() {
		resp, body := c.do("GET", fmt.Sprintf("/api/files/%d/download", f.ID), nil, nil)
		if resp.StatusCode != 200 || sha(body) != sha(data) {
			t.Fatalf("download: status %d, sha %s, want %s", resp.StatusCode, sha(body), sha(data))
		}
	}
	var link struct{ URL string }
	c.json("GET", fmt.Sprintf("/api/files/%d/download?redirect=1&format=json", f.ID), nil, 200, &link)
	checkPresigned(t, link.URL, data)
	if objects, uploads := s.hotState(t); objects != 1 || uploads != 0 || s.sessions(t) != 0 {
		t.Errorf("after completion: %d objects, %d open uploads, %d sessions; want 1, 0, 0", objects, uploads, s.sessions(t))
	}
}

// A client that never got the answer to its completion (a dropped
// connection, API Gateway's 30 s limit) learns that the file exists instead
// of uploading it again; until the file is deleted.
func TestMultipartCompletionIsIdempotent(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("twice@example.com")
	other := s.client(t).signup("other-twice@example.com")
	data := randomBytes(t, 8*mib+10)
	u := c.createUpload("twice.bin", int64(len(data)), "")
	var refs []partRef
	for i, part := range chunks(data, u.PartSize) {
		refs = append(refs, partRef{i + 1, putPart(t, u.Parts[i].URL, part)})
	}
	var inProgress struct{ Status string }
	c.json("GET", "/api/files/uploads/"+u.UploadID, nil, 200, &inProgress)
	if inProgress.Status != "in_progress" {
		t.Errorf("GET before completion: status %q, want in_progress", inProgress.Status)
	}
	var first, again fileObj
	c.json("POST", "/api/files/uploads/"+u.UploadID+"/complete", map[string]any{"parts": refs}, 201, &first)
	c.json("POST", "/api/files/uploads/"+u.UploadID+"/complete", map[string]any{"parts": refs}, 200, &again)
	if again != first {
		t.Errorf("second completion: file %+v, want %+v", again, first)
	}
	s.checkPresignedFile(t, again, data)
	var done struct {
		UploadID string  `json:"upload_id"`
		Status   string  `json:"status"`
		File     fileObj `json:"file"`
		Parts    []any   `json:"parts"`
	}
	c.json("GET", "/api/files/uploads/"+u.UploadID, nil, 200, &done)
	if done.UploadID != u.UploadID || done.Status != "completed" || done.File.ID != first.ID || done.Parts != nil {
		t.Errorf("GET after completion: %+v, want status completed with file %d and no parts", done, first.ID)
	}
	// Another user learns nothing more than for a session.
	for _, path := range []string{"/api/files/uploads/" + u.UploadID, "/api/files/uploads/" + u.UploadID + "/complete"} {
		method := map[bool]string{true: "POST", false: "GET"}[strings.HasSuffix(path, "/complete")]
		resp, body := other.do(method, path, jsonReader(map[string]any{"parts": refs}), map[string]string{"Content-Type": "application/json"})
		wantError(t, resp, body, 403, "FORBIDDEN")
	}
	var rows int
	if err := s.app.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM files`).Scan(&rows); err != nil || rows != 1 {
		t.Fatalf("files rows: %d (%v), want 1", rows, err)
	}
	// Aborting a completed upload does not touch its file.
	resp, body := c.do("DELETE", "/api/files/uploads/"+u.UploadID, nil, nil)
	wantError(t, resp, body, 404, "UPLOAD_NOT_FOUND")
	c.json("GET", fmt.Sprintf("/api/files/%d", first.ID), nil, 200, nil)
	// Once the file is deleted, the upload is simply gone.
	c.json("DELETE", fmt.Sprintf("/api/files/%d", first.ID), nil, 204, nil)
	resp, body = c.do("GET", "/api/files/uploads/"+u.UploadID, nil, nil)
	wantError(t, resp, body, 404, "UPLOAD_NOT_FOUND")
	resp, body = c.do("POST", "/api/files/uploads/"+u.UploadID+"/complete", jsonReader(map[string]any{"parts": refs}), map[string]string{"Content-Type": "application/json"})
	wantError(t, resp, body, 404, "UPLOAD_NOT_FOUND")
}

func TestMultipartResume(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("resume@example.com")
	data := randomBytes(t, 8*mib+100)
	parts := chunks(data, 8*mib)
	u := c.createUpload("resume.bin", int64(len(data)), "")
	etag1 := putPart(t, u.Parts[0].URL, parts[0])

	var got uploadObj
	c.json("GET", "/api/files/uploads/"+u.UploadID, nil, 200, &got)
	if len(got.PartsDone) != 1 || got.PartsDone[0].PartNumber != 1 || got.PartsDone[0].Size != 8*mib ||
		strings.Trim(got.PartsDone[0].ETag, `"`) != strings.Trim(etag1, `"`) {
		t.Fatalf("parts_done %+v, want part 1 of 8 MiB with etag %s", got.PartsDone, etag1)
	}
	if len(got.Parts) != 1 || got.Parts[0].PartNumber != 2 || got.UploadID != u.UploadID || got.PartSize != u.PartSize {
		t.Fatalf("resume %+v, want a fresh URL for part 2 only", got)
	}
	// Completing with a part missing is refused and keeps the session.
	c.json("POST", "/api/files/uploads/"+u.UploadID+"/complete", map[string]any{"parts": []partRef{{1, etag1}}}, 400, nil)
	etag2 := putPart(t, got.Parts[0].URL, parts[1])
	var f fileObj
	c.json("POST", "/api/files/uploads/"+u.UploadID+"/complete", map[string]any{"parts": []partRef{{1, etag1}, {2, etag2}}}, 201, &f)
	s.checkPresignedFile(t, f, data)
}

// Each part URL carries its part's size as a signed Content-Length: the
// tier refuses a body of any other size (a part URL of a 10 MiB upload
// once took 150 MiB), and the right size goes through.
func TestMultipartPartURLsAcceptOnlyTheirSize(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("liar@example.com")
	u := c.createUpload("short.bin", 8*mib+1000, "")
	if !strings.Contains(u.Parts[0].URL, "content-length") {
		t.Errorf("part URL %s does not sign content-length", u.Parts[0].URL)
	}
	for _, tc := range []struct {
		name string
		part int
		size int
	}{
		{"first part too long", 0, 8*mib + 1},
		{"first part too short", 0, 8*mib - 1},
		{"last part far too long", 1, 24 * mib},
		{"last part too short", 1, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := rawPut(t, u.Parts[tc.part].URL, randomBytes(t, tc.size))
			if resp.StatusCode != 403 {
				t.Errorf("PUT of %d bytes to part %d: status %d, want 403", tc.size, tc.part+1, resp.StatusCode)
			}
		})
	}
	if _, uploads := s.hotState(t); uploads != 1 {
		t.Fatalf("%d open uploads, want 1", uploads)
	}
	var got uploadObj
	c.json("GET", "/api/files/uploads/"+u.UploadID, nil, 200, &got)
	if len(got.PartsDone) != 0 {
		t.Fatalf("parts_done %+v after refused PUTs, want none", got.PartsDone)
	}
	data := randomBytes(t, 8*mib+1000)
	refs := []partRef{{1, putPart(t, u.Parts[0].URL, data[:8*mib])}, {2, putPart(t, u.Parts[1].URL, data[8*mib:])}}
	var f fileObj
	c.json("POST", "/api/files/uploads/"+u.UploadID+"/complete", map[string]any{"parts": refs}, 201, &f)
	s.checkPresignedFile(t, f, data)
}

// rawPut PUTs body to u over a connection of its own and reads the answer
// as soon as there is one: a server refusing from the headers may hang up
// on the rest of the body, and net/http's client then reports only the
// broken pipe.
func rawPut(tb testing.TB, u string, body []byte) *http.Response {
	tb.Helper()
	pu := mustURL(tb, u)
	conn, err := net.Dial("tcp", pu.Host)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", pu.RequestURI(), pu.Host, len(body))
	go conn.Write(body) //nolint:errcheck // the server may refuse before reading it
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		tb.Fatalf("PUT %d bytes: read answer: %v", len(body), err)
	}
	return resp
}

// A user may have MAX_OPEN_UPLOADS sessions open, declaring at most
// MAX_OPEN_UPLOAD_MB in all; completing or aborting one frees its place.
// Another user is not affected.
func TestMultipartOpenUploadCaps(t *testing.T) {
	t.Parallel()
	s := newStack(t, func(c *config.Config) {
		c.MaxOpenUploads = 3
		c.MaxOpenUploadBytes = 40 * mib
		c.MaxFileSize = 30 * mib
	})
	c := s.client(t).signup("caps@example.com")
	other := s.client(t).signup("caps-other@example.com")
	a := c.createUpload("a.bin", 9*mib, "")
	c.createUpload("b.bin", 9*mib, "")
	// 18 MiB open: 30 more would pass 40 MiB.
	resp, body := c.do("POST", "/api/files/uploads", jsonReader(map[string]any{"filename": "big.bin", "size": 30 * mib}), jsonHeader)
	wantError(t, resp, body, 413, "UPLOAD_QUOTA_EXCEEDED")
	c.createUpload("c.bin", 9*mib, "")
	resp, body = c.do("POST", "/api/files/uploads", jsonReader(map[string]any{"filename": "d.bin", "size": 9 * mib}), jsonHeader)
	wantError(t, resp, body, 429, "TOO_MANY_UPLOADS")
	if resp.Header.Get("Retry-After") == "" {
		t.Error("429 TOO_MANY_UPLOADS without Retry-After")
	}
	other.createUpload("theirs.bin", 30*mib, "")
	c.json("DELETE", "/api/files/uploads/"+a.UploadID, nil, 204, nil)
	c.createUpload("d.bin", 9*mib, "")
	if _, uploads := s.hotState(t); uploads != 4 || s.sessions(t) != 4 {
		t.Errorf("%d open uploads and %d sessions, want 4 and 4 (the refused ones leave nothing)", uploads, s.sessions(t))
	}
}

func TestMultipartAbort(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("abort@example.com")
	u := c.createUpload("abort.bin", 20*mib, "")
	putPart(t, u.Parts[0].URL, randomBytes(t, 8*mib))
	if _, uploads := s.hotState(t); uploads != 1 {
		t.Fatalf("%d open uploads before abort, want 1", uploads)
	}
	resp, body := c.do("DELETE", "/api/files/uploads/"+u.UploadID, nil, nil)
	if resp.StatusCode != 204 {
		t.Fatalf("abort: status %d, body %s", resp.StatusCode, body)
	}
	if objects, uploads := s.hotState(t); objects != 0 || uploads != 0 || s.sessions(t) != 0 {
		t.Errorf("after abort: %d objects, %d open uploads, %d sessions; want none", objects, uploads, s.sessions(t))
	}
	resp, body = c.do("DELETE", "/api/files/uploads/"+u.UploadID, nil, nil)
	wantError(t, resp, body, 404, "UPLOAD_NOT_FOUND")
	// A part sent after the abort has nowhere to go.
	req, _ := http.NewRequest(http.MethodPut, u.Parts[1].URL, bytes.NewReader(randomBytes(t, 8*mib)))
	if r, err := http.DefaultClient.Do(req); err == nil {
		r.Body.Close()
		if r.StatusCode == 200 {
			t.Errorf("PUT part after abort: status 200")
		}
	}
}

func TestMultipartJanitor(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("janitor@example.com")
	old := c.createUpload("old.bin", 9*mib, "")
	putPart(t, old.Parts[0].URL, randomBytes(t, 8*mib))
	fresh := c.createUpload("fresh.bin", 9*mib, "")
	if _, err := s.app.DB.Pool.Exec(t.Context(), `UPDATE upload_sessions SET expires_at = now() - interval '1 minute' WHERE id = $1`, old.UploadID); err != nil {
		t.Fatal(err)
	}
	// An expired session is gone for its owner even before the janitor runs.
	resp, body := c.do("GET", "/api/files/uploads/"+old.UploadID, nil, nil)
	wantError(t, resp, body, 404, "UPLOAD_NOT_FOUND")
	n, err := s.app.Maintenance.EndExpiredUploads(t.Context())
	if err != nil || n != 1 {
		t.Fatalf("AbortExpiredUploads = %d, %v; want 1, nil", n, err)
	}
	if _, uploads := s.hotState(t); uploads != 1 || s.sessions(t) != 1 {
		t.Errorf("after janitor: %d open uploads, %d sessions; want only the fresh one", uploads, s.sessions(t))
	}
	c.json("GET", "/api/files/uploads/"+fresh.UploadID, nil, 200, nil)
	if n, err := s.app.Maintenance.EndExpiredUploads(t.Context()); err != nil || n != 0 {
		t.Errorf("second run = %d, %v; want 0, nil", n, err)
	}
}

func TestMultipartAuthorization(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	alice := s.client(t).signup("alice-mp@example.com")
	bob := s.client(t).signup("bob-mp@example.com")
	u := alice.createUpload("mine.bin", 9*mib, "")
	etag := putPart(t, u.Parts[0].URL, randomBytes(t, 8*mib))
	complete := jsonBody(map[string]any{"parts": []partRef{{1, etag}}})
	for _, tc := range []struct {
		name, method, path string
		status             int
		code               string
	}{
		{"other user's get", "GET", "/api/files/uploads/" + u.UploadID, 403, "FORBIDDEN"},
		{"other user's abort", "DELETE", "/api/files/uploads/" + u.UploadID, 403, "FORBIDDEN"},
		{"other user's complete", "POST", "/api/files/uploads/" + u.UploadID + "/complete", 403, "FORBIDDEN"},
		{"unknown", "GET", "/api/files/uploads/00000000-0000-4000-8000-000000000000", 404, "UPLOAD_NOT_FOUND"},
		{"not a uuid", "GET", "/api/files/uploads/download", 404, "UPLOAD_NOT_FOUND"},
		{"not a uuid abort", "DELETE", "/api/files/uploads/123", 404, "UPLOAD_NOT_FOUND"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := bob.do(tc.method, tc.path, bytes.NewReader(complete), jsonHeader)
			wantError(t, resp, body, tc.status, tc.code)
		})
	}
	anon := s.client(t)
	resp, body := anon.do("POST", "/api/files/uploads", jsonReader(map[string]any{"filename": "a", "size": 1}), jsonHeader)
	wantError(t, resp, body, 401, "UNAUTHORIZED")
	// Alice's session is untouched.
	alice.json("GET", "/api/files/uploads/"+u.UploadID, nil, 200, nil)
	// File routes next to the upload routes still work.
	f := alice.mustUpload("small.txt", []byte("hello"))
	if resp, _ := alice.do("GET", fmt.Sprintf("/api/files/%d/download", f.ID), nil, nil); resp.StatusCode != 200 {
		t.Errorf("download next to the upload routes: status %d", resp.StatusCode)
	}
	resp, body = alice.do("GET", fmt.Sprintf("/api/files/%d/nothing", f.ID), nil, nil)
	wantError(t, resp, body, 404, "NOT_FOUND")
}

func TestMultipartLimits(t *testing.T) {
	t.Parallel()
	s := newStack(t, func(c *config.Config) {
		c.MaxFileSize = 20 * mib
		c.AllowedContentTypes = []string{"image/*"}
	})
	c := s.client(t).signup("limits@example.com")
	for _, tc := range []struct {
		name   string
		in     map[string]any
		status int
		code   string
	}{
		{"too large", map[string]any{"filename": "a.png", "size": 20*mib + 1, "content_type": "image/png"}, 413, "FILE_TOO_LARGE"},
		{"type not allowed", map[string]any{"filename": "a.pdf", "size": 9 * mib, "content_type": "application/pdf"}, 415, "UNSUPPORTED_MEDIA_TYPE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := c.do("POST", "/api/files/uploads", jsonReader(tc.in), jsonHeader)
			wantError(t, resp, body, tc.status, tc.code)
		})
	}
	c.createUpload("exactly.png", 20*mib, "image/png")
	// A declared image that is not one is refused on completion and removed.
	u := c.createUpload("fake.png", 9*mib, "image/png")
	text := bytes.Repeat([]byte("just text, not a picture\n"), 9*mib/25+1)[:9*mib]
	refs := []partRef{{1, putPart(t, u.Parts[0].URL, text[:8*mib])}, {2, putPart(t, u.Parts[1].URL, text[8*mib:])}}
	resp, body := c.do("POST", "/api/files/uploads/"+u.UploadID+"/complete", jsonReader(map[string]any{"parts": refs}), jsonHeader)
	wantError(t, resp, body, 415, "UNSUPPORTED_MEDIA_TYPE")
	if objects, _ := s.hotState(t); objects != 0 {
		t.Errorf("%d objects after a refused completion, want 0", objects)
	}
}

func TestMultipartBadInput(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("bad-mp@example.com")
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"bad json", `{"filename":`, 400, "VALIDATION_ERROR"},
		{"no size", `{"filename":"a.bin"}`, 400, "VALIDATION_ERROR"},
		{"negative size", `{"filename":"a.bin","size":-5}`, 400, "VALIDATION_ERROR"},
		{"zero size", `{"filename":"a.bin","size":0}`, 400, "VALIDATION_ERROR"},
		{"size as string", `{"filename":"a.bin","size":"9"}`, 400, "VALIDATION_ERROR"},
		{"no filename", `{"size":10}`, 400, "INVALID_FILENAME"},
		{"dots filename", `{"filename":"..","size":10}`, 400, "INVALID_FILENAME"},
		{"control filename", `{"filename":"a\u0001b","size":10}`, 400, "INVALID_FILENAME"},
		{"bad content type", `{"filename":"a.bin","size":10,"content_type":"not a type"}`, 400, "VALIDATION_ERROR"},
		{"trailing data", `{"filename":"a.bin","size":10} {}`, 400, "VALIDATION_ERROR"},
	} {
		t.Run("create "+tc.name, func(t *testing.T) {
			resp, body := c.do("POST", "/api/files/uploads", strings.NewReader(tc.body), jsonHeader)
			wantError(t, resp, body, tc.status, tc.code)
		})
	}

	u := c.createUpload("two.bin", 8*mib+10, "")
	e1 := putPart(t, u.Parts[0].URL, randomBytes(t, 8*mib))
	e2 := putPart(t, u.Parts[1].URL, randomBytes(t, 10))
	ref := func(parts ...partRef) string { return string(jsonBody(map[string]any{"parts": parts})) }
	for _, tc := range []struct{ name, body string }{
		{"bad json", `{"parts":[`},
		{"no parts", `{}`},
		{"empty parts", `{"parts":[]}`},
		{"too many parts", ref(partRef{1, e1}, partRef{2, e2}, partRef{3, e2})},
		{"part zero", ref(partRef{0, e1}, partRef{2, e2})},
		{"part out of range", ref(partRef{1, e1}, partRef{7, e2})},
		{"negative part", ref(partRef{-1, e1})},
		{"out of order", ref(partRef{2, e2}, partRef{1, e1})},
		{"duplicate", ref(partRef{1, e1}, partRef{1, e1})},
		{"missing etag", ref(partRef{1, e1}, partRef{2, ""})},
		{"etag mismatch", ref(partRef{1, e2}, partRef{2, e1})},
		{"part number as string", `{"parts":[{"part_number":"1","etag":"x"}]}`},
	} {
		t.Run("complete "+tc.name, func(t *testing.T) {
			resp, body := c.do("POST", "/api/files/uploads/"+u.UploadID+"/complete", strings.NewReader(tc.body), jsonHeader)
			wantError(t, resp, body, 400, "VALIDATION_ERROR")
		})
	}
	// None of that ended the session: the right request still completes it.
	c.json("POST", "/api/files/uploads/"+u.UploadID+"/complete", map[string]any{"parts": []partRef{{1, e1}, {2, e2}}}, 201, nil)
}

func TestPartSize(t *testing.T) {
	for _, size := range []int64{1, 8 * mib, 8*mib + 1, 1 << 30, 80 << 30, 100 << 30, 1 << 40, 5 << 40} {
		ps := httpapi.PartSize(size)
		parts := (size + ps - 1) / ps
		if ps < 8*mib || ps%mib != 0 || parts > 10000 {
			t.Errorf("PartSize(%d) = %d: %d parts; want ≥ 8 MiB, a multiple of 1 MiB, ≤ 10000 parts", size, ps, parts)
		}
	}
	if got := httpapi.PartSize(1 << 30); got != 8*mib {
		t.Errorf("PartSize(1 GiB) = %d, want 8 MiB", got)
	}
}

func TestConfigAnnouncesMultipartThreshold(t *testing.T) {
	t.Parallel()
	s := newStack(t, func(c *config.Config) { c.MultipartThreshold = 6 * mib })
	var out struct {
		Threshold int64 `json:"multipart_threshold_bytes"`
	}
	s.client(t).json("GET", "/api/config", nil, 200, &out)
	if out.Threshold != 6*mib {
		t.Errorf("multipart_threshold_bytes %d, want %d", out.Threshold, 6*mib)
	}
}

var jsonHeader = map[string]string{"Content-Type": "application/json"}

func jsonBody(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func jsonReader(v any) io.Reader { return bytes.NewReader(jsonBody(v)) }

// TestUploadRoutesAlone mounts each upload function alone, as its Lambda
// does: the routes that share a pattern locally must work on their own.
func TestUploadRoutesAlone(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("alone@example.com")
	u := c.createUpload("alone.bin", 9*mib, "")
	for _, tc := range []struct {
		function, method, path string
		status                 int
	}{
		{"get-upload", "GET", "/api/files/uploads/" + u.UploadID, 200},
		{"get-upload", "GET", "/api/files/uploads/00000000-0000-4000-8000-000000000000", 404},
		{"download", "GET", "/api/files/1/download", 404},
		{"abort-upload", "DELETE", "/api/files/uploads/" + u.UploadID, 204},
	} {
		t.Run(tc.function, func(t *testing.T) {
			srv := httptest.NewServer(s.app.API.Handler(tc.function))
			defer srv.Close()
			one := &client{tb: t, base: srv.URL, token: c.token, hc: http.DefaultClient}
			if resp, body := one.do(tc.method, tc.path, nil, nil); resp.StatusCode != tc.status {
				t.Errorf("%s %s on %s alone: status %d, want %d; body %s", tc.method, tc.path, tc.function, resp.StatusCode, tc.status, body)
			}
		})
	}
}
