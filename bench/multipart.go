package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
)

// partConcurrency is how many parts both sides send at once, as a browser
// uploader would.
const partConcurrency = 4

// forParts runs fn for parts 1..n, partConcurrency at a time.
func forParts(n int, fn func(part int) error) error {
	sem := make(chan struct{}, partConcurrency)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 1; i <= n; i++ {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i-1] = fn(i)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

type mpTimes struct{ start, parts, complete time.Duration }

func (t mpTimes) total() time.Duration { return t.start + t.parts + t.complete }

// presigned runs the browser's flow: create through the API, PUT each part
// to its presigned URL with plain net/http, complete through the API.
func (e *env) presigned(f *os.File, size int64) (mpTimes, error) {
	var t mpTimes
	t0 := time.Now()
	var up struct {
		UploadID string `json:"upload_id"`
		PartSize int64  `json:"part_size"`
		Parts    []struct {
			PartNumber int    `json:"part_number"`
			URL        string `json:"url"`
		} `json:"parts"`
	}
	if _, err := e.call("POST", "/api/files/uploads", map[string]any{"filename": "mp.bin", "size": size, "content_type": "application/octet-stream"}, &up); err != nil {
		return t, err
	}
	t.start = time.Since(t0)
	t0 = time.Now()
	etags := make([]string, len(up.Parts))
	err := forParts(len(up.Parts), func(n int) error {
		off := int64(n-1) * up.PartSize
		req, err := http.NewRequestWithContext(e.ctx, http.MethodPut, up.Parts[n-1].URL, io.NewSectionReader(f, off, min(up.PartSize, size-off)))
		if err != nil {
			return err
		}
		req.ContentLength = min(up.PartSize, size-off)
		resp, err := e.hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != 200 {
			return fmt.Errorf("PUT part %d: status %d", n, resp.StatusCode)
		}
		etags[n-1] = resp.Header.Get("ETag")
		return nil
	})
	if err != nil {
		return t, err
	}
	t.parts = time.Since(t0)
	t0 = time.Now()
	refs := make([]map[string]any, len(etags))
	for i, et := range etags {
		refs[i] = map[string]any{"part_number": i + 1, "etag": et}
	}
	var file struct {
		ID int64 `json:"id"`
	}
	if _, err := e.call("POST", "/api/files/uploads/"+up.UploadID+"/complete", map[string]any{"parts": refs}, &file); err != nil {
		return t, err
	}
	t.complete = time.Since(t0)
	return t, e.deleteFile(file.ID)
}

// directMultipart does the same with minio-go's multipart calls and the
// same part size and concurrency.
func (e *env) directMultipart(f *os.File, size, partSize int64) (mpTimes, error) {
	var t mpTimes
	const key = "direct-multipart"
	t0 := time.Now()
	id, err := e.core.NewMultipartUpload(e.ctx, e.hot, key, minio.PutObjectOptions{ContentType: "application/octet-stream"})
	if err != nil {
		return t, err
	}
	t.start = time.Since(t0)
	t0 = time.Now()
	n := int((size + partSize - 1) / partSize)
	parts := make([]minio.CompletePart, n)
	err = forParts(n, func(p int) error {
		off := int64(p-1) * partSize
		ln := min(partSize, size-off)
		// Unsigned payload, like the presigned PUTs (which S3 signs as
		// UNSIGNED-PAYLOAD): the same work for the server on both sides.
		op, err := e.core.PutObjectPart(e.ctx, e.hot, key, id, p, io.NewSectionReader(f, off, ln), ln, minio.PutObjectPartOptions{DisableContentSha256: true})
		if err != nil {
			return err
		}
		parts[p-1] = minio.CompletePart{PartNumber: p, ETag: op.ETag}
		return nil
	})
	if err != nil {
		return t, err
	}
	t.parts = time.Since(t0)
	t0 = time.Now()
	if _, err := e.core.CompleteMultipartUpload(e.ctx, e.hot, key, id, parts, minio.PutObjectOptions{}); err != nil {
		return t, err
	}
	t.complete = time.Since(t0)
	return t, e.minio.RemoveObject(e.ctx, e.hot, key, minio.RemoveObjectOptions{})
}

// multipart compares the presigned multipart flow with direct multipart.
func (e *env) multipart() error {
	f, err := os.Open(e.bigFile)
	if err != nil {
		return err
	}
	defer f.Close()
	size := e.o.bigSize
	var bp, bd, tp, td mpTimes // best by parts time, best by total
	for i := 0; i < reps; i++ {
		d, err := e.directMultipart(f, size, 8<<20)
		if err != nil {
			return fmt.Errorf("direct multipart: %w", err)
		}
		p, err := e.presigned(f, size)
		if err != nil {
			return fmt.Errorf("presigned multipart: %w", err)
		}
		if i == 0 || d.parts < bd.parts {
			bd = d
		}
		if i == 0 || p.parts < bp.parts {
			bp = p
		}
		if i == 0 || d.total() < td.total() {
			td = d
		}
		if i == 0 || p.total() < tp.total() {
			tp = p
		}
	}
	e.report.add("multipart 1 GiB direct, unsigned (8 MiB x4)", fmt.Sprintf("parts %.2f s (%.0f MiB/s), start %s, complete %s",
		bd.parts.Seconds(), mbps(size, bd.parts), ms(bd.start), ms(bd.complete)), "", nil)
	e.report.add("multipart 1 GiB presigned via API", fmt.Sprintf("parts %.2f s (%.0f MiB/s), create %s, complete %s",
		bp.parts.Seconds(), mbps(size, bp.parts), ms(bp.start), ms(bp.complete)), "", nil)
	r := bd.parts.Seconds() / bp.parts.Seconds()
	e.report.add("presigned / direct multipart transfer", fmt.Sprintf("%.2fx", r), ">= 0.95x", boolp(r >= 0.95))
	// The goal: create + parts + complete, the best of each side.
	r = td.total().Seconds() / tp.total().Seconds()
	e.report.add("presigned / direct multipart end to end", fmt.Sprintf("%.2fx (%.2f s vs %.2f s; complete %s vs %s)", r,
		tp.total().Seconds(), td.total().Seconds(), ms(tp.complete), ms(td.complete)), ">= 0.80x", boolp(r >= 0.8))
	return nil
}
