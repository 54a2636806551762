package httpapi_test

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
)

// BenchmarkStreamedUpload sends 256 MiB through POST /api/files/upload of
// an in-process server on the real S3 server, for profiling the upload
// path (go test -bench StreamedUpload -cpuprofile; bench/run.sh transfer
// has the figures with a goal).
//
//	go test ./shared/httpapi/ -run '^$' -bench StreamedUpload -benchtime 3x -cpuprofile cpu.out
func BenchmarkStreamedUpload(b *testing.B) {
	if onLambda() {
		b.Skip("a Lambda request carries at most 6 MB")
	}
	const size = 256 << 20
	s := newStack(b, func(c *config.Config) { c.MaxFileSize = 2 * size })
	c := s.client(b).signup("bench-upload@example.com")
	data := make([]byte, size)
	rng := rand.NewChaCha8([32]byte{1})
	_, _ = rng.Read(data)
	b.SetBytes(size)
	b.ResetTimer()
	for i := range b.N {
		var head bytes.Buffer
		mw := multipart.NewWriter(&head)
		if _, err := mw.CreateFormFile("file", fmt.Sprintf("bench-%d.bin", i)); err != nil {
			b.Fatal(err)
		}
		tail := "\r\n--" + mw.Boundary() + "--\r\n"
		req, err := http.NewRequest("POST", c.base+"/api/files/upload",
			io.MultiReader(bytes.NewReader(head.Bytes()), bytes.NewReader(data), strings.NewReader(tail)))
		if err != nil {
			b.Fatal(err)
		}
		req.ContentLength = int64(head.Len()) + size + int64(len(tail))
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := c.hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 201 {
			b.Fatalf("status %d: %s", resp.StatusCode, body)
		}
	}
}
