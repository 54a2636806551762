package httpapi_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/testenv"
)

// crc64NVME is the reference full-object CRC64NVME (testenv's, a second
// implementation, not the server's).
var crc64NVME = testenv.CRC64NVME

// The streamed upload records the file's full-object CRC64NVME next to its
// SHA-256, and the file object reports it with the storage class; a
// presigned upload is recorded without reading its bytes again, so both
// are null until the sync job computes them.
func TestUploadsRecordCRC64NVME(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("crc@example.com")
	check := func(name string, f fileObj, data []byte) {
		t.Helper()
		wantCRC, wantSHA := crc64NVME(data), sha(data)
		if name == "presigned" { // not known until the sync job reads the bytes
			wantCRC, wantSHA = "", ""
		}
		if f.CRC64NVME != wantCRC || f.Checksum != wantSHA || f.StorageClass != "STANDARD" {
			t.Errorf("%s: checksum_crc64nvme %q, sha %q, storage_class %q; want %q, %q, STANDARD",
				name, f.CRC64NVME, f.Checksum, f.StorageClass, wantCRC, wantSHA)
		}
		var got fileObj
		c.json("GET", fmt.Sprintf("/api/files/%d", f.ID), nil, 200, &got)
		if got != f {
			t.Errorf("%s: GET file = %+v, want %+v", name, got, f)
		}
	}
	small := randomBytes(t, 1000)
	check("streamed, small", c.mustUpload("small.bin", small), small)
	big := randomBytes(t, 3*mib+17) // past the 1 MiB head: streamed in parts
	check("streamed, large", c.mustUpload("big.bin", big), big)

	data := randomBytes(t, 8*mib+4321) // two parts
	u := c.createUpload("presigned.bin", int64(len(data)), "application/octet-stream")
	var refs []partRef
	for i, part := range chunks(data, u.PartSize) {
		refs = append(refs, partRef{i + 1, putPart(t, u.Parts[i].URL, part)})
	}
	var f fileObj
	c.json("POST", "/api/files/uploads/"+u.UploadID+"/complete", map[string]any{"parts": refs}, 201, &f)
	check("presigned", f, data)
}

// The file object of a synced file reports the class the job wrote, and a
// file uploaded before the CRC64NVME was recorded reports null until the
// job moves it and records the one it computed.
func TestFileObjectAfterSync(t *testing.T) {
	t.Parallel()
	s := newStack(t, func(c *config.Config) { c.ColdStorageClass = "STANDARD_IA" })
	c := s.client(t).signup("crc-sync@example.com")
	data := randomBytes(t, 200<<10)
	f := c.mustUpload("ia.bin", data)
	small := c.mustUpload("small.bin", []byte("under 128 KiB"))
	if _, err := s.app.DB.Pool.Exec(t.Context(), `UPDATE files SET checksum_crc64nvme = NULL WHERE id = $1`, f.ID); err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	c.json("GET", fmt.Sprintf("/api/files/%d", f.ID), nil, 200, &raw)
	if v, ok := raw["checksum_crc64nvme"]; !ok || v != nil {
		t.Errorf("checksum_crc64nvme of a file without one: %v (present %v), want null", v, ok)
	}
	if _, err := s.app.Sync.RunExclusive(context.Background(), "test"); err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		id    int64
		data  []byte
		class string
	}{{f.ID, data, "STANDARD_IA"}, {small.ID, []byte("under 128 KiB"), "STANDARD"}} {
		var got fileObj
		c.json("GET", fmt.Sprintf("/api/files/%d", w.id), nil, 200, &got)
		if got.StorageLocation != "s3" || got.StorageClass != w.class || got.CRC64NVME != crc64NVME(w.data) {
			t.Errorf("file %d after sync: location %s, class %s, crc64nvme %q; want s3, %s, %q",
				w.id, got.StorageLocation, got.StorageClass, got.CRC64NVME, w.class, crc64NVME(w.data))
		}
	}
}

// A presigned upload's file object says checksum_sha256 null (not known
// yet) until the sync job moves it: then it reports the SHA-256 and
// CRC64NVME the job computed from the bytes, and downloads under it.
func TestPresignedFileGetsItsSHA256FromTheSync(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("sha-sync@example.com")
	data := randomBytes(t, 8*mib+99)
	u := c.createUpload("later.bin", int64(len(data)), "")
	var refs []partRef
	for i, part := range chunks(data, u.PartSize) {
		refs = append(refs, partRef{i + 1, putPart(t, u.Parts[i].URL, part)})
	}
	var f fileObj
	c.json("POST", "/api/files/uploads/"+u.UploadID+"/complete", map[string]any{"parts": refs}, 201, &f)
	var raw map[string]any
	c.json("GET", fmt.Sprintf("/api/files/%d", f.ID), nil, 200, &raw)
	if v, ok := raw["checksum_sha256"]; !ok || v != nil {
		t.Errorf("checksum_sha256 before the sync: %v (present %v), want null", v, ok)
	}
	if rep, err := s.app.Sync.RunExclusive(context.Background(), "test"); err != nil || rep.Synced != 1 {
		t.Fatalf("sync: %+v, %v; want 1 synced", rep, err)
	}
	var got fileObj
	c.json("GET", fmt.Sprintf("/api/files/%d", f.ID), nil, 200, &got)
	if got.StorageLocation != "s3" || got.Checksum != sha(data) || got.CRC64NVME != crc64NVME(data) {
		t.Errorf("after sync: location %s, sha256 %q, crc64nvme %q; want s3, %s, %s", got.StorageLocation, got.Checksum, got.CRC64NVME, sha(data), crc64NVME(data))
	}
	resp, body := c.do("GET", fmt.Sprintf("/api/files/%d/download", f.ID), nil, map[string]string{"Range": "bytes=0-99"})
	if resp.StatusCode != 206 || string(body) != string(data[:100]) || resp.Header.Get("ETag") != `"`+sha(data)+`"` {
		t.Errorf("range after sync: status %d, ETag %q; want 206 with the first 100 bytes under the SHA-256", resp.StatusCode, resp.Header.Get("ETag"))
	}
}
