package main

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// lambda reports each function's zipped bootstrap size and the start-up
// time of a bootstrap under the Runtime Interface Emulator.
func (e *env) lambda() error {
	dirs, err := filepath.Glob(filepath.Join(e.o.dist, "*", "bootstrap"))
	if err != nil {
		return err
	}
	if len(dirs) == 0 {
		return fmt.Errorf("no bootstraps in %s: run make lambdas", e.o.dist)
	}
	sort.Strings(dirs)
	var largest int64
	for _, p := range dirs {
		raw, zipped, err := zipSize(p)
		if err != nil {
			return err
		}
		largest = max(largest, zipped)
		e.report.add("lambda "+filepath.Base(filepath.Dir(p))+" (arm64) bootstrap", fmt.Sprintf("%.1f MB raw, %.1f MB zipped", float64(raw)/1e6, float64(zipped)/1e6), "", nil)
	}
	e.report.add("lambda largest zip", fmt.Sprintf("%.1f MB", float64(largest)/1e6), "< 15 MB", boolp(largest < 15e6))
	if e.o.bootstrap == "" {
		return nil
	}
	const runs = 20
	var ready, inits []time.Duration
	for range runs {
		r, init, err := e.coldStart()
		if err != nil {
			return err
		}
		ready = append(ready, r)
		if init > 0 {
			inits = append(inits, init)
		}
	}
	e.report.add("lambda healthz exec -> first answer under RIE p50", ms(percentile(ready, 50)), "", nil)
	e.report.add("lambda healthz exec -> first answer under RIE p95", ms(percentile(ready, 95)), "", nil)
	if len(inits) > 0 {
		p95 := percentile(inits, 95)
		e.report.add("lambda healthz init (RIE INIT REPORT) p50", ms(percentile(inits, 50)), "", nil)
		e.report.add("lambda healthz init (RIE INIT REPORT) p95", ms(p95), "< 150 ms", boolp(p95 < 150*time.Millisecond))
	}
	return nil
}

func zipSize(path string) (raw, zipped int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "bootstrap", Method: zip.Deflate})
	if err != nil {
		return 0, 0, err
	}
	if raw, err = io.Copy(w, f); err != nil {
		return 0, 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, 0, err
	}
	return raw, int64(buf.Len()), nil
}

const healthzEvent = `{"version":"2.0","routeKey":"$default","rawPath":"/healthz","rawQueryString":"",
"headers":{"host":"bench.local"},"requestContext":{"http":{"method":"GET","path":"/healthz","protocol":"HTTP/1.1",
"sourceIp":"127.0.0.1","userAgent":"bench"},"requestId":"bench","routeKey":"$default","stage":"$default","timeEpoch":0},
"isBase64Encoded":false}`

var initRE = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// coldStart starts the bootstrap under the RIE and times it from exec to
// its first successful answer; it also returns the RIE's Init Duration.
func (e *env) coldStart() (time.Duration, time.Duration, error) {
	port, err := freePort()
	if err != nil {
		return 0, 0, err
	}
	apiPort, err := freePort()
	if err != nil {
		return 0, 0, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(e.o.rie, "--runtime-interface-emulator-address", addr,
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", apiPort), e.o.bootstrap)
	cmd.Env = append(e.serverEnv(8080), "AWS_LAMBDA_FUNCTION_TIMEOUT=30", "DOWNLOAD_MODE=redirect")
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the RIE and its bootstrap
		_ = cmd.Wait()
	}()
	url := "http://" + addr + "/2015-03-31/functions/function/invocations"
	deadline := t0.Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Post(url, "application/json", strings.NewReader(healthzEvent))
		if err != nil {
			time.Sleep(time.Millisecond)
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 && bytes.Contains(b, []byte(`"statusCode":200`)) {
			d := time.Since(t0)
			var init time.Duration
			time.Sleep(20 * time.Millisecond) // let the REPORT line arrive
			if m := initRE.FindSubmatch([]byte(logs.String())); m != nil {
				if v, err := strconv.ParseFloat(string(m[1]), 64); err == nil {
					init = time.Duration(v * float64(time.Millisecond))
				}
			}
			return d, init, nil
		}
		return 0, 0, fmt.Errorf("invoke healthz: status %d: %s\nlogs: %s", resp.StatusCode, b, logs.String())
	}
	return 0, 0, fmt.Errorf("healthz under RIE not answering within 10 s: %s", logs.String())
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
