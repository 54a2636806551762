package httpapi_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
)

// BenchmarkSmallUpload sends 16 KiB files through the in-process handler,
// 16 at once, against the real database and S3 server: the API's own cost
// per small upload (go test -bench SmallUpload -cpuprofile for where it
// goes). make bench's small scenario measures the server process against
// direct PutObject.
func BenchmarkSmallUpload(b *testing.B) {
	s := newStack(b, func(c *config.Config) { c.MaxStreamedUploadsPerUser = 16; c.MaxStreamedUploads = 16 })
	c := s.client(b).signup("bench-small@example.com")
	h := s.app.API.Handler()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	w, _ := mw.CreateFormFile("file", "small.bin")
	w.Write(make([]byte, 16<<10))
	mw.Close()
	body, ct := buf.Bytes(), mw.FormDataContentType()
	var n atomic.Int64
	b.SetParallelism(8) // 16 on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("POST", fmt.Sprintf("/api/files/upload?n=%d", n.Add(1)), bytes.NewReader(body))
			req.Header.Set("Content-Type", ct)
			req.Header.Set("Authorization", "Bearer "+c.token)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusCreated {
				b.Errorf("status %d: %s", rec.Code, rec.Body)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "files/s")
}
