package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"sync"
	"time"
)

// someFile returns the id of one of the bench user's files, uploading a
// small one when there is none.
func (e *env) someFile() (int64, error) {
	var page struct {
		Files []struct {
			ID int64 `json:"id"`
		} `json:"files"`
	}
	if _, err := e.call("GET", "/api/files?limit=1", nil, &page); err != nil {
		return 0, err
	}
	if len(page.Files) > 0 {
		return page.Files[0].ID, nil
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	w, _ := mw.CreateFormFile("file", "small.txt")
	w.Write([]byte("hello"))
	mw.Close()
	req, _ := http.NewRequestWithContext(e.ctx, "POST", e.base+"/api/files/upload", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+e.token)
	resp, err := e.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var f struct {
		ID int64 `json:"id"`
	}
	return f.ID, json.NewDecoder(resp.Body).Decode(&f)
}

// get sends one authenticated GET and returns its latency and status.
func (e *env) get(path string) (time.Duration, int, error) {
	req, _ := http.NewRequestWithContext(e.ctx, "GET", e.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	t0 := time.Now()
	resp, err := e.hc.Do(req)
	if err != nil {
		return 0, 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return time.Since(t0), resp.StatusCode, nil
}

// metadata runs 20 clients GETting one file's metadata for 10 s.
func (e *env) metadata() error {
	id, err := e.someFile()
	if err != nil {
		return err
	}
	path := fmt.Sprintf("/api/files/%d", id)
	const clients, dur = 20, 10 * time.Second
	var mu sync.Mutex
	var all []time.Duration
	var firstErr error
	end := time.Now().Add(dur)
	t0 := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			var mine []time.Duration
			for time.Now().Before(end) {
				d, status, err := e.get(path)
				if err == nil && status != 200 {
					err = fmt.Errorf("GET %s: status %d", path, status)
				}
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				mine = append(mine, d)
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	el := time.Since(t0)
	if firstErr != nil {
		return firstErr
	}
	rps := float64(len(all)) / el.Seconds()
	e.report.add("GET /api/files/{id}, 20 clients: req/s", fmt.Sprintf("%.0f", rps), ">= 2000 req/s", boolp(rps >= 2000))
	e.report.add("GET /api/files/{id}, 20 clients: p50", ms(percentile(all, 50)), "", nil)
	e.report.add("GET /api/files/{id}, 20 clients: p99", ms(percentile(all, 99)), "", nil)
	return nil
}

// paced sends GETs of path at rate per second for dur, each on its own
// goroutine so that a slow answer does not delay the next request.
func (e *env) paced(path string, rate int, dur time.Duration) ([]time.Duration, error) {
	var mu sync.Mutex
	var ds []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	t := time.NewTicker(time.Second / time.Duration(rate))
	defer t.Stop()
	end := time.Now().Add(dur)
	for now := range t.C {
		if now.After(end) {
			break
		}
		wg.Go(func() {
			d, status, err := e.get(path)
			if err == nil && status != 200 {
				err = fmt.Errorf("GET %s: status %d", path, status)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				firstErr = err
				return
			}
			ds = append(ds, d)
		})
	}
	wg.Wait()
	return ds, firstErr
}

// flood sends 20 logins a second for 10 s (far over the per-IP limit)
// while timing another endpoint, and compares with the same endpoint idle.
func (e *env) flood() error {
	id, err := e.someFile()
	if err != nil {
		return err
	}
	path := fmt.Sprintf("/api/files/%d", id)
	const rate, dur = 50, 10 * time.Second
	idle, err := e.paced(path, rate, dur)
	if err != nil {
		return err
	}

	type answer struct {
		status int
		d      time.Duration
	}
	var mu sync.Mutex
	var answers []answer
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		t := time.NewTicker(50 * time.Millisecond) // 20 a second
		defer t.Stop()
		var inner sync.WaitGroup
		defer inner.Wait()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			inner.Go(func() {
				body, _ := json.Marshal(map[string]string{"email": "bench@example.com", "password": "wrong-password"})
				req, _ := http.NewRequestWithContext(e.ctx, "POST", e.base+"/api/auth/login", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				resp, err := e.hc.Do(req)
				if err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				answers = append(answers, answer{resp.StatusCode, time.Since(t0)})
				mu.Unlock()
			})
		}
	})
	busy, err := e.paced(path, rate, dur)
	close(stop)
	wg.Wait()
	if err != nil {
		return err
	}
	var limited []time.Duration
	others := map[int]int{}
	for _, a := range answers {
		if a.status == http.StatusTooManyRequests {
			limited = append(limited, a.d)
		} else {
			others[a.status]++
		}
	}
	e.report.add("login flood 20/s for 10 s: answers", fmt.Sprintf("%d x 429, others %v", len(limited), others), "", nil)
	p99l := percentile(limited, 99)
	e.report.add("login flood: 429 latency p99", ms(p99l), "< 20 ms", boolp(len(limited) > 0 && p99l < 20*time.Millisecond))
	e.report.add("login flood: 429 latency max", ms(percentile(limited, 100)), "", nil)
	pi, pb := percentile(idle, 99), percentile(busy, 99)
	e.report.add("GET /api/files/{id} at 50/s idle: p50 / p99", ms(percentile(idle, 50))+" / "+ms(pi), "", nil)
	e.report.add("GET /api/files/{id} at 50/s during flood: p50 / p99", ms(percentile(busy, 50))+" / "+ms(pb), "", nil)
	r := float64(pb) / float64(pi)
	e.report.add("GET p99 during flood / idle", fmt.Sprintf("%.2fx", r), "<= 2x", boolp(r <= 2))
	return nil
}
