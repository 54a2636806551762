package httpapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
)

type usageObj struct {
	QuotaBytes  *int64 `json:"quota_bytes"`
	UsedBytes   int64  `json:"used_bytes"`
	HotBytes    int64  `json:"hot_bytes"`
	ColdBytes   int64  `json:"cold_bytes"`
	TrashBytes  int64  `json:"trash_bytes"`
	UploadBytes int64  `json:"upload_bytes"`
	Files       int    `json:"files"`
}

func (c *client) usage() usageObj {
	c.tb.Helper()
	var u usageObj
	c.json("GET", "/api/usage", nil, 200, &u)
	return u
}

func int64p(n int64) *int64 { return &n }

// GET /api/usage counts each tier, the trash until purged and open
// presigned uploads by their declared size; only the caller's.
func TestUsage(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil) // USER_QUOTA_MB 0: unlimited
	c := s.client(t).signup("usage@example.com")
	other := s.client(t).signup("other-usage@example.com")
	other.mustUpload("theirs.bin", randomBytes(t, 5000))
	if u := c.usage(); u.QuotaBytes != nil || u.UsedBytes != 0 || u.Files != 0 {
		t.Fatalf("empty account: %+v", u)
	}
	c.mustUpload("hot.bin", randomBytes(t, 1000))
	cold := c.mustUpload("cold.bin", randomBytes(t, 2000))
	moveToCold(t, s, cold.ID)
	gone := c.mustUpload("gone.bin", randomBytes(t, 3000))
	c.json("DELETE", fmt.Sprintf("/api/files/%d", gone.ID), nil, 204, nil)
	c.createUpload("big.bin", 9*mib, "")
	u := c.usage()
	want := usageObj{HotBytes: 1000, ColdBytes: 2000, TrashBytes: 3000, UploadBytes: 9 * mib, UsedBytes: 6000 + 9*mib, Files: 2}
	if u != want {
		t.Fatalf("usage %+v, want %+v", u, want)
	}
	c.json("DELETE", "/api/trash", nil, 204, nil)
	if u := c.usage(); u.TrashBytes != 0 || u.UsedBytes != 3000+9*mib {
		t.Fatalf("after emptying the trash: %+v", u)
	}
	resp, body := s.client(t).do("GET", "/api/usage", nil, nil)
	wantError(t, resp, body, 401, "UNAUTHORIZED")
}

// A streamed upload past the quota is cut off with 413 QUOTA_EXCEEDED
// while streaming and leaves nothing behind; the per-user quota_bytes
// overrides USER_QUOTA_MB.
func TestStreamedUploadQuota(t *testing.T) {
	t.Parallel()
	s := newStack(t, func(c *config.Config) { c.UserQuota = 2 * mib })
	c := s.client(t).signup("quota@example.com")
	if u := c.usage(); u.QuotaBytes == nil || *u.QuotaBytes != 2*mib {
		t.Fatalf("quota %v, want 2 MiB", u.QuotaBytes)
	}
	c.mustUpload("first.bin", randomBytes(t, mib))
	// 3 MiB: past the quota after about 1 MiB of the stream.
	resp, body := c.upload("too-big.bin", "", randomBytes(t, 3*mib))
	wantError(t, resp, body, 413, "QUOTA_EXCEEDED")
	// Exactly what is left fits.
	c.mustUpload("rest.bin", randomBytes(t, mib-1000))
	resp, body = c.upload("one-more.bin", "", randomBytes(t, 2000))
	wantError(t, resp, body, 413, "QUOTA_EXCEEDED")
	if n := countObjects(t, s); n != 2 {
		t.Errorf("%d hot objects, want the 2 uploads that fitted", n)
	}
	if n := s.count(t, `SELECT count(*) FROM files`); n != 2 {
		t.Errorf("%d file rows, want 2", n)
	}
	if n := s.count(t, `SELECT count(*) FROM quota_reservations`); n != 0 {
		t.Errorf("%d reservations left", n)
	}
	// The trash counts until purged.
	var list filePage
	c.json("GET", "/api/files", nil, 200, &list)
	c.json("DELETE", fmt.Sprintf("/api/files/%d", list.Files[0].ID), nil, 204, nil)
	resp, body = c.upload("still-full.bin", "", randomBytes(t, 2000))
	wantError(t, resp, body, 413, "QUOTA_EXCEEDED")
	c.json("DELETE", "/api/trash", nil, 204, nil)
	c.mustUpload("room-again.bin", randomBytes(t, 2000))

	// A quota of the user's own.
	if err := s.app.DB.SetUserQuota(t.Context(), "quota@example.com", int64p(10*mib)); err != nil {
		t.Fatal(err)
	}
	c.mustUpload("bigger.bin", randomBytes(t, 3*mib))
	if u := c.usage(); u.QuotaBytes == nil || *u.QuotaBytes != 10*mib {
		t.Errorf("quota %v after the override, want 10 MiB", u.QuotaBytes)
	}
	if err := s.app.DB.SetUserQuota(t.Context(), "quota@example.com", nil); err != nil {
		t.Fatal(err)
	}
	resp, body = c.upload("back-to-default.bin", "", randomBytes(t, 2000))
	wantError(t, resp, body, 413, "QUOTA_EXCEEDED")
}

// POST /api/files/uploads over what is left answers 413 QUOTA_EXCEEDED
// before the tier is asked; an open session counts with its declared size.
func TestPresignedUploadQuota(t *testing.T) {
	t.Parallel()
	s := newStack(t, func(c *config.Config) { c.UserQuota = 20 * mib })
	c := s.client(t).signup("presigned-quota@example.com")
	c.createUpload("first.bin", 12*mib, "")
	resp, body := c.do("POST", "/api/files/uploads", jsonReader(map[string]any{"filename": "second.bin", "size": 9 * mib}), jsonHeader)
	wantError(t, resp, body, 413, "QUOTA_EXCEEDED")
	c.createUpload("fits.bin", 8*mib, "")
	if _, ups := s.hotState(t); ups != 2 {
		t.Errorf("%d multipart uploads on the tier, want the 2 accepted", ups)
	}
	if n := s.count(t, `SELECT count(*) FROM quota_reservations`); n != 0 {
		t.Errorf("%d reservations left", n)
	}
}

// Parallel uploads of one user cannot together pass the quota: the
// reservations are taken one at a time under the user's row lock.
func TestParallelUploadsCannotOvershootTheQuota(t *testing.T) {
	t.Parallel()
	const n, size = 8, 300 << 10 // 3 fit in 1 MiB, a 4th does not
	// All n at once: the quota, not MAX_STREAMED_UPLOADS_PER_USER, decides.
	s := newStack(t, func(c *config.Config) { c.UserQuota, c.MaxStreamedUploadsPerUser = mib, n })
	c := s.client(t).signup("parallel@example.com")
	var wg sync.WaitGroup
	statuses := make([]int, n)
	codes := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, ct := multipartBody(t, "file", fmt.Sprintf("p%d.bin", i), "", randomBytes(t, size))
			req := c.base + "/api/files/upload"
			r, err := newRequest("POST", req, body, c.token, ct)
			if err != nil {
				t.Error(err)
				return
			}
			resp, err := c.hc.Do(r)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var e apiError
			_ = json.NewDecoder(resp.Body).Decode(&e)
			statuses[i], codes[i] = resp.StatusCode, e.ErrorCode
		}()
	}
	wg.Wait()
	ok := 0
	for i := range n {
		switch {
		case statuses[i] == 201:
			ok++
		case statuses[i] == 413 && codes[i] == "QUOTA_EXCEEDED":
		default:
			t.Errorf("upload %d: %d %s", i, statuses[i], codes[i])
		}
	}
	u := c.usage()
	if ok < 1 || ok > 3 || u.UsedBytes != int64(ok*size) || u.UsedBytes > mib {
		t.Fatalf("%d uploads accepted, usage %+v; want 1..3 and at most 1 MiB stored", ok, u)
	}
	if objs := countObjects(t, s); objs != ok {
		t.Errorf("%d hot objects, want %d", objs, ok)
	}
	t.Logf("%d of %d parallel uploads of %d bytes fitted a 1 MiB quota", ok, n, size)
}

func newRequest(method, url string, body io.Reader, token, ctype string) (*http.Request, error) {
	r, err := http.NewRequest(method, url, body)
	if err != nil {
		return nil, err
	}
	r.Header.Set("Authorization", "Bearer "+token)
	r.Header.Set("Content-Type", ctype)
	return r, nil
}
