package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minio/minio-go/v7"
)

const reps = 2 // each transfer runs this often; the best time counts

// apiUpload sends size bytes of the big file (from offset 0) through POST
// /api/files/upload, with an exact Content-Length as browsers send, and
// returns the file id.
func (e *env) apiUpload(name string, size int64) (int64, error) {
	return e.apiUploadBody(name, size, false)
}

// apiUploadBody is apiUpload; with chunked the body has no Content-Length
// (Transfer-Encoding: chunked, as a streaming client sends it).
func (e *env) apiUploadBody(name string, size int64, chunked bool) (int64, error) {
	f, err := os.Open(e.bigFile)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	if _, err := mw.CreateFormFile("file", name); err != nil {
		return 0, err
	}
	tail := "\r\n--" + mw.Boundary() + "--\r\n"
	body := io.MultiReader(bytes.NewReader(head.Bytes()), io.NewSectionReader(f, 0, size), strings.NewReader(tail))
	req, err := http.NewRequestWithContext(e.ctx, "POST", e.base+"/api/files/upload", body)
	if err != nil {
		return 0, err
	}
	req.ContentLength = int64(head.Len()) + size + int64(len(tail))
	if chunked {
		req.ContentLength = -1
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+e.token)
	resp, err := e.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 201 {
		return 0, fmt.Errorf("upload: status %d: %s", resp.StatusCode, b)
	}
	var out struct {
		ID       int64 `json:"id"`
		FileSize int64 `json:"file_size"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return 0, err
	}
	if out.FileSize != size {
		return 0, fmt.Errorf("upload stored %d bytes, sent %d", out.FileSize, size)
	}
	return out.ID, nil
}

// directPut uploads size bytes of the big file straight to the S3 server
// with minio-go's PutObject and a known size: with default options
// (every chunk signed with SHA-256 over plain HTTP), or like the server
// (unsigned payload with a CRC32C trailer).
func (e *env) directPut(key string, size int64, likeServer bool) error {
	f, err := os.Open(e.bigFile)
	if err != nil {
		return err
	}
	defer f.Close()
	c, opts := e.minio, minio.PutObjectOptions{ContentType: "application/octet-stream"}
	if likeServer {
		c, opts.DisableContentSha256 = e.trailer, true
	}
	_, err = c.PutObject(e.ctx, e.hot, key, io.NewSectionReader(f, 0, size), size, opts)
	return err
}

func (e *env) deleteFile(id int64) error {
	_, err := e.call("DELETE", "/api/files/"+strconv.FormatInt(id, 10), nil, nil)
	return err
}

func best(n int, fn func() error) (time.Duration, error) {
	var b time.Duration
	for i := 0; i < n; i++ {
		t0 := time.Now()
		if err := fn(); err != nil {
			return 0, err
		}
		if d := time.Since(t0); i == 0 || d < b {
			b = d
		}
	}
	return b, nil
}

// transfer compares 1 GiB through the API with direct minio-go calls, both
// ways.
func (e *env) transfer() error {
	size := e.o.bigSize
	var direct, directDefault, api time.Duration
	var directCPU, apiCPU cpuUse // of the best runs
	for i := 0; i < reps; i++ {
		dd, err := best(1, func() error { return e.directPut("direct-put", size, false) })
		if err != nil {
			return fmt.Errorf("direct put: %w", err)
		}
		_ = e.minio.RemoveObject(e.ctx, e.hot, "direct-put", minio.RemoveObjectOptions{})
		dc, err := e.measureCPU(func() error { return e.directPut("direct-put", size, true) })
		d := dc.Wall
		if err != nil {
			return fmt.Errorf("direct put: %w", err)
		}
		_ = e.minio.RemoveObject(e.ctx, e.hot, "direct-put", minio.RemoveObjectOptions{})
		if i == 0 || dd < directDefault {
			directDefault = dd
		}
		var id int64
		ac, err := e.measureCPU(func() error { var err error; id, err = e.apiUpload("big.bin", size); return err })
		a := ac.Wall
		if err != nil {
			return fmt.Errorf("api upload: %w", err)
		}
		if err := e.deleteFile(id); err != nil {
			return err
		}
		if i == 0 || d < direct {
			direct, directCPU = d, dc
		}
		if i == 0 || a < api {
			api, apiCPU = a, ac
		}
	}
	e.report.add("upload 1 GiB direct PutObject, default opts", fmt.Sprintf("%.2f s, %.0f MiB/s", directDefault.Seconds(), mbps(size, directDefault)), "", nil)
	e.report.add("upload 1 GiB direct PutObject, server's opts", fmt.Sprintf("%.2f s, %.0f MiB/s", direct.Seconds(), mbps(size, direct)), "", nil)
	e.report.add("upload 1 GiB POST /api/files/upload", fmt.Sprintf("%.2f s, %.0f MiB/s", api.Seconds(), mbps(size, api)), "", nil)
	r := directDefault.Seconds() / api.Seconds()
	e.report.add("upload API / direct PutObject (default opts)", fmt.Sprintf("%.2fx", r), ">= 0.90x", boolp(r >= 0.9))
	r = direct.Seconds() / api.Seconds()
	e.report.add("upload API / direct (same opts as server)", fmt.Sprintf("%.2fx", r), ">= 0.90x", boolp(r >= 0.9))
	// Where the time goes: the CPU each process spent on the best run of
	// each side. When the direct put already keeps every core busy, the
	// API's own work (receiving the body, hashing it, sending it on) can
	// only add to the wall time: the ratio of CPU spent bounds the ratio
	// of speeds.
	e.report.add("upload CPU, direct (server's opts)", directCPU.String(), "", nil)
	e.report.add("upload CPU, POST /api/files/upload", apiCPU.String(), "", nil)
	if apiCPU.Measured() > 0 {
		e.report.add("CPU-bound ceiling of API / direct", fmt.Sprintf("%.2fx (direct's CPU / the API's)", directCPU.Measured().Seconds()/apiCPU.Measured().Seconds()), "", nil)
	}
	// The API must return the file's SHA-256, so no upload through it can
	// be faster than hashing the file on one core: that bounds the ratio
	// above on CPUs without SHA instructions.
	sha, err := best(reps, e.hashBigFile)
	if err != nil {
		return err
	}
	e.report.add("SHA-256 of the 1 GiB file, one core", fmt.Sprintf("%.2f s, %.0f MiB/s", sha.Seconds(), mbps(size, sha)), "", nil)
	e.report.add("same-opts ratio ceiling (direct / SHA-256)", fmt.Sprintf("%.2fx", direct.Seconds()/sha.Seconds()), "", nil)
	e.report.add("upload API speed / SHA-256 speed", fmt.Sprintf("%.2fx", sha.Seconds()/api.Seconds()), "", nil)

	// Downloads: one stored file, read both ways.
	id, err := e.apiUpload("big.bin", size)
	if err != nil {
		return err
	}
	defer e.deleteFile(id) //nolint:errcheck
	var key string
	if err := e.withDB(func(q querier) error {
		return q.QueryRow(e.ctx, `SELECT object_key FROM files WHERE id = $1`, id).Scan(&key)
	}); err != nil {
		return err
	}
	var directGet, apiGet time.Duration
	var directGetCPU, apiGetCPU cpuUse
	for i := 0; i < reps; i++ {
		dc, err := e.measureCPU(func() error {
			obj, err := e.minio.GetObject(e.ctx, e.hot, key, minio.GetObjectOptions{})
			if err != nil {
				return err
			}
			defer obj.Close()
			return expectCopy(obj, size)
		})
		if err != nil {
			return fmt.Errorf("direct get: %w", err)
		}
		d := dc.Wall
		ac, err := e.measureCPU(func() error {
			req, _ := http.NewRequestWithContext(e.ctx, "GET", fmt.Sprintf("%s/api/files/%d/download", e.base, id), nil)
			req.Header.Set("Authorization", "Bearer "+e.token)
			resp, err := e.hc.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if resp.StatusCode != 200 {
				return fmt.Errorf("download: status %d", resp.StatusCode)
			}
			return expectCopy(resp.Body, size)
		})
		if err != nil {
			return fmt.Errorf("api download: %w", err)
		}
		a := ac.Wall
		if i == 0 || d < directGet {
			directGet, directGetCPU = d, dc
		}
		if i == 0 || a < apiGet {
			apiGet, apiGetCPU = a, ac
		}
	}
	e.report.add("download 1 GiB direct GetObject", fmt.Sprintf("%.2f s, %.0f MiB/s", directGet.Seconds(), mbps(size, directGet)), "", nil)
	e.report.add("download 1 GiB GET /api/files/{id}/download", fmt.Sprintf("%.2f s, %.0f MiB/s", apiGet.Seconds(), mbps(size, apiGet)), "", nil)
	r = directGet.Seconds() / apiGet.Seconds()
	e.report.add("download API / direct throughput", fmt.Sprintf("%.2fx", r), ">= 0.90x", boolp(r >= 0.9))
	e.report.add("download CPU, direct GetObject", directGetCPU.String(), "", nil)
	e.report.add("download CPU, through the API", apiGetCPU.String(), "", nil)
	if apiGetCPU.Measured() > 0 {
		e.report.add("CPU-bound ceiling of download API / direct", fmt.Sprintf("%.2fx (direct's CPU / the API's)", directGetCPU.Measured().Seconds()/apiGetCPU.Measured().Seconds()), "", nil)
	}
	return nil
}

// hashBigFile computes the SHA-256 of the test file, as the API does for
// each upload (the file is in the page cache by now).
func (e *env) hashBigFile() error {
	f, err := os.Open(e.bigFile)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.CopyBuffer(sha256.New(), io.LimitReader(f, e.o.bigSize), make([]byte, 1<<20))
	return err
}

func expectCopy(r io.Reader, size int64) error {
	n, err := io.CopyBuffer(io.Discard, r, make([]byte, 256<<10))
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("read %d bytes, want %d", n, size)
	}
	return nil
}

// procStatus reads a field (in KiB) of /proc/<pid>/status.
func procStatus(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// peakGrowth runs fn while watching the server's resident memory and
// returns how far the peak rose above the resident size before fn: the
// larger of VmHWM (reset first through clear_refs) and VmRSS sampled every
// 5 ms.
func (e *env) peakGrowth(fn func() error) (int64, error) {
	before, err := procStatus(e.srv.Process.Pid, "VmRSS")
	if err != nil {
		return 0, err
	}
	return e.peakAbove(before<<10, fn)
}

// peakAbove is peakGrowth measured from a resident size (bytes) taken
// earlier, such as the idle server's.
func (e *env) peakAbove(base int64, fn func() error) (int64, error) {
	pid := e.srv.Process.Pid
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) // resets VmHWM
	before := base >> 10
	var err error
	var peak atomic.Int64
	peak.Store(before)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if v, err := procStatus(pid, "VmRSS"); err == nil && v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	})
	err = fn()
	close(stop)
	wg.Wait()
	if err != nil {
		return 0, err
	}
	if hwm, err := procStatus(pid, "VmHWM"); err == nil && hwm > peak.Load() {
		peak.Store(hwm)
	}
	return (peak.Load() - before) << 10, nil
}

// rss measures the server's memory during three rounds of one 1 GiB
// upload (chunked, one after the other, each measured from the idle
// server's resident size, so that memory kept from a round counts in the
// next) and during 8 concurrent 256 MiB uploads.
func (e *env) rss() error {
	idle, err := procStatus(e.srv.Process.Pid, "VmRSS")
	if err != nil {
		return err
	}
	const rounds = 3
	var worst int64
	var figs []string
	for i := range rounds {
		var id int64
		t0 := time.Now()
		grow, err := e.peakAbove(idle<<10, func() error {
			var err error
			id, err = e.apiUploadBody(fmt.Sprintf("rss-%d.bin", i), e.o.bigSize, true)
			return err
		})
		if err != nil {
			return err
		}
		if err := e.deleteFile(id); err != nil {
			return err
		}
		worst = max(worst, grow)
		figs = append(figs, fmt.Sprintf("%.1f MiB (%.2f s)", float64(grow)/(1<<20), time.Since(t0).Seconds()))
	}
	e.report.add("server RSS growth over idle, 3 rounds of 1 GiB", strings.Join(figs, ", "), "", nil)
	e.report.add("server peak RSS growth, worst round of 1 GiB", fmt.Sprintf("%.1f MiB", float64(worst)/(1<<20)), "<= 64 MiB", boolp(worst <= 64<<20))

	const n, each = 8, 256 << 20
	size := min(int64(each), e.o.bigSize)
	ids := make([]int64, n)
	t0 := time.Now()
	grow, err := e.peakGrowth(func() error {
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { ids[i], errs[i] = e.apiUpload(fmt.Sprintf("rss-%d.bin", i), size) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
		return nil
	})
	el := time.Since(t0)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := e.deleteFile(id); err != nil {
			return err
		}
	}
	e.report.add("8 concurrent 256 MiB uploads, wall time", fmt.Sprintf("%.2f s, %.0f MiB/s total", el.Seconds(), mbps(n*size, el)), "", nil)
	e.report.add("server peak RSS growth, 8 x 256 MiB uploads", fmt.Sprintf("%.1f MiB", float64(grow)/(1<<20)), "<= 320 MiB", boolp(grow <= 320<<20))
	return nil
}
