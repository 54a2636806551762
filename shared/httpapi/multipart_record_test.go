package httpapi_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/storage"
)

// Completing a presigned upload does not read the object again: the only
// GET of the hot tier it sends is of the first 512 bytes, for the type
// sniffing, pinned to the object's ETag. The file, recorded with null
// checksums, still downloads, by range too, under the hot object's ETag.
func TestMultipartCompletionReadsOnlyTheHead(t *testing.T) {
	t.Parallel()
	s, gets := newProxiedStack(t)
	c := s.client(t).signup("head@example.com")
	data := randomBytes(t, 2*8*mib+999)
	copy(data, "%PDF-1.7\n")
	u := c.createUpload("doc.pdf", int64(len(data)), "application/octet-stream")
	var refs []partRef
	for i, part := range chunks(data, u.PartSize) {
		refs = append(refs, partRef{i + 1, putPart(t, u.Parts[i].URL, part)})
	}
	gets.take()
	before := gets.sent()
	var f fileObj
	c.json("POST", "/api/files/uploads/"+u.UploadID+"/complete", map[string]any{"parts": refs}, 201, &f)
	if got, read := gets.take(), gets.sent()-before; len(got) != 1 || got[0] != "bytes=0-511" || read != 512 {
		t.Errorf("completion sent GETs with ranges %q reading %d bytes; want one of bytes=0-511, 512 bytes", got, read)
	}
	if f.ContentType != "application/pdf" {
		t.Errorf("content_type %q, want the sniffed application/pdf", f.ContentType)
	}
	s.checkPresignedFile(t, f, data)

	info, err := s.app.Hot.Stat(t.Context(), objectKey(t, s, f.ID))
	if err != nil {
		t.Fatal(err)
	}
	etag := `"` + storage.TrimETag(info.ETag) + `"`
	path := fmt.Sprintf("/api/files/%d/download", f.ID)
	resp, body := c.do("GET", path, nil, map[string]string{"Range": "bytes=100-199"})
	if resp.StatusCode != 206 || !bytes.Equal(body, data[100:200]) || resp.Header.Get("ETag") != etag {
		t.Errorf("range: status %d, %d bytes, ETag %q; want 206, data[100:200], %s", resp.StatusCode, len(body), resp.Header.Get("ETag"), etag)
	}
	resp, body = c.do("GET", path, nil, map[string]string{"Range": "bytes=-10", "If-Range": etag})
	if resp.StatusCode != 206 || !bytes.Equal(body, data[len(data)-10:]) {
		t.Errorf("If-Range with the ETag: status %d, %d bytes; want 206 and the last 10 bytes", resp.StatusCode, len(body))
	}
	if !onLambda() { // a whole 16 MiB answer is past Lambda's 6 MB
		resp, body = c.do("GET", path, nil, nil)
		if resp.StatusCode != 200 || sha(body) != sha(data) {
			t.Errorf("download: status %d, sha256 %s; want 200, %s", resp.StatusCode, sha(body), sha(data))
		}
	}
}

// objectKey is the object key of file id.
func objectKey(tb testing.TB, s *stack, id int64) string {
	tb.Helper()
	var key string
	if err := s.app.DB.Pool.QueryRow(tb.Context(), `SELECT object_key FROM files WHERE id = $1`, id).Scan(&key); err != nil {
		tb.Fatal(err)
	}
	return key
}
