package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
)

func (c *client) rename(id int64, body string) (*http.Response, []byte) {
	c.tb.Helper()
	return c.do("PATCH", fmt.Sprintf("/api/files/%d", id), strings.NewReader(body), map[string]string{"Content-Type": "application/json"})
}

// A rename changes the name everything shows and gives (the list, search
// and name sort, downloads from either tier, a share made before it) and
// nothing else: same id, key, bytes and usage.
func TestRenameFile(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("rename@example.com")
	hot := c.mustUpload("draft.txt", []byte("hot bytes"))
	cold := c.mustUpload("old-scan.pdf", []byte("cold bytes"))
	key := moveToCold(t, s, cold.ID)
	sh := c.share(hot.ID, map[string]any{})
	before := c.usage()

	var got fileObj
	c.json("PATCH", fmt.Sprintf("/api/files/%d", hot.ID), map[string]any{"filename": "Zeta report: 2026?.txt"}, 200, &got)
	if got.ID != hot.ID || got.OriginalFilename != "Zeta report: 2026?.txt" || got.Filename != "Zeta report_ 2026_.txt" ||
		got.FileSize != hot.FileSize || got.UploadedAt != hot.UploadedAt {
		t.Fatalf("renamed %+v, from %+v", got, hot)
	}
	c.json("PATCH", fmt.Sprintf("/api/files/%d", cold.ID), map[string]any{"filename": "Alpha scan.pdf", "folder_id": nil}, 200, &got)
	if got.OriginalFilename != "Alpha scan.pdf" || got.StorageLocation != "s3" {
		t.Fatalf("renamed cold file %+v", got)
	}

	var list struct {
		Files []fileObj `json:"files"`
	}
	c.json("GET", "/api/files?sort=name&order=asc", nil, 200, &list)
	if len(list.Files) != 2 || list.Files[0].ID != cold.ID || list.Files[1].ID != hot.ID {
		t.Errorf("name order after the renames %+v, want Alpha scan.pdf, Zeta report", list.Files)
	}
	c.json("GET", "/api/files?q=draft", nil, 200, &list)
	if len(list.Files) != 0 {
		t.Errorf("search for the old name found %+v", list.Files)
	}
	c.json("GET", "/api/files?q=zeta", nil, 200, &list)
	if len(list.Files) != 1 || list.Files[0].ID != hot.ID {
		t.Errorf("search for the new name found %+v", list.Files)
	}

	for _, tc := range []struct {
		id   int64
		name string
		data string
	}{{hot.ID, "Zeta report", "hot bytes"}, {cold.ID, "Alpha scan.pdf", "cold bytes"}} {
		resp, body := c.do("GET", fmt.Sprintf("/api/files/%d/download", tc.id), nil, nil)
		if resp.StatusCode != 200 || string(body) != tc.data || !strings.Contains(resp.Header.Get("Content-Disposition"), `filename="`+tc.name) {
			t.Errorf("download of %d: %d %q, Content-Disposition %q, want the name %q", tc.id, resp.StatusCode, body, resp.Header.Get("Content-Disposition"), tc.name)
		}
	}
	// The presigned URL of the cold tier names the new name too.
	var link struct {
		URL string `json:"url"`
	}
	c.json("GET", fmt.Sprintf("/api/files/%d/download?redirect=1&format=json", cold.ID), nil, 200, &link)
	resp, err := http.Get(link.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cd := resp.Header.Get("Content-Disposition"); resp.StatusCode != 200 || !strings.Contains(cd, "Alpha") {
		t.Errorf("presigned cold download: %d, Content-Disposition %q", resp.StatusCode, cd)
	}
	// A share made before the rename gives the new name.
	var pub publicShareObj
	anon := s.client(t)
	r, body := anon.do("GET", "/api/public/shares/"+shareToken(t, sh), nil, nil)
	if r.StatusCode != 200 || json.Unmarshal(body, &pub) != nil || pub.Filename != "Zeta report: 2026?.txt" {
		t.Errorf("public share after the rename: %d %s", r.StatusCode, body)
	}

	var stillKey string
	if err := s.app.DB.Pool.QueryRow(t.Context(), `SELECT object_key FROM files WHERE id = $1`, cold.ID).Scan(&stillKey); err != nil || stillKey != key {
		t.Errorf("object key after the rename %q (%v), want %q", stillKey, err, key)
	}
	if after := c.usage(); after != before {
		t.Errorf("usage after the renames %+v, before %+v", after, before)
	}
}

// Bad renames answer a 4xx naming what is wrong and change nothing.
func TestRenameFileRefusals(t *testing.T) {
	t.Parallel()
	s := newStack(t, func(c *config.Config) { c.TrashRetentionDays = 7 })
	c := s.client(t).signup("rename-bad@example.com")
	other := s.client(t).signup("rename-other@example.com")
	f := c.mustUpload("keep.txt", []byte("k"))
	gone := c.mustUpload("gone.txt", []byte("g"))
	theirs := other.mustUpload("theirs.txt", []byte("t"))
	c.json("DELETE", fmt.Sprintf("/api/files/%d", gone.ID), nil, 204, nil)

	long := strings.Repeat("a", 252) + ".txt"
	for _, tc := range []struct {
		id     int64
		body   string
		status int
		code   string
	}{
		{f.ID, `{"filename":"a/b.txt"}`, 400, "INVALID_FILENAME"},
		{f.ID, `{"filename":"..\\b.txt"}`, 400, "INVALID_FILENAME"},
		{f.ID, `{"filename":""}`, 400, "INVALID_FILENAME"},
		{f.ID, `{"filename":"  ..  "}`, 400, "INVALID_FILENAME"},
		{f.ID, `{"filename":"tab\there.txt"}`, 400, "INVALID_FILENAME"},
		{f.ID, `{"filename":"\u200b\u202e"}`, 400, "INVALID_FILENAME"},
		{f.ID, `{"filename":"` + long + `"}`, 400, "INVALID_FILENAME"},
		{f.ID, `{}`, 400, "VALIDATION_ERROR"},
		{f.ID, `{"filename":null}`, 400, "VALIDATION_ERROR"},
		{f.ID, `{"filename":7}`, 400, "VALIDATION_ERROR"},
		{f.ID, `{"filename":"x.txt","folder_id":"3"}`, 400, "VALIDATION_ERROR"},
		{f.ID, `{"filename":"x.txt","folder_id":0}`, 400, "VALIDATION_ERROR"},
		{f.ID, `{"filename":"x.txt","folder_id":987654}`, 404, "FOLDER_NOT_FOUND"},
		{f.ID, `["x.txt"]`, 400, "VALIDATION_ERROR"},
		{theirs.ID, `{"filename":"mine.txt"}`, 403, "FORBIDDEN"},
		{gone.ID, `{"filename":"back.txt"}`, 404, "FILE_NOT_FOUND"},
		{987654321, `{"filename":"x.txt"}`, 404, "FILE_NOT_FOUND"},
	} {
		resp, body := c.rename(tc.id, tc.body)
		wantError(t, resp, body, tc.status, tc.code)
	}
	resp, body := c.do("PATCH", fmt.Sprintf("/api/files/%d", f.ID), strings.NewReader("filename=x.txt"), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	wantError(t, resp, body, 415, "UNSUPPORTED_MEDIA_TYPE")
	resp, body = c.do("PATCH", "/api/files/abc", bytes.NewReader([]byte(`{"filename":"x.txt"}`)), map[string]string{"Content-Type": "application/json"})
	wantError(t, resp, body, 400, "VALIDATION_ERROR")
	resp, body = s.client(t).rename(f.ID, `{"filename":"x.txt"}`)
	wantError(t, resp, body, 401, "UNAUTHORIZED")

	if got := c.files(); len(got) != 1 || got[0].OriginalFilename != "keep.txt" {
		t.Errorf("list after refused renames %+v", got)
	}
	if got := other.files(); len(got) != 1 || got[0].OriginalFilename != "theirs.txt" {
		t.Errorf("the other user's list %+v", got)
	}
	if tr := c.trash(); len(tr) != 1 || tr[0].OriginalFilename != "gone.txt" {
		t.Errorf("trash after refused renames %+v", tr)
	}
}
