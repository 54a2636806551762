package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/testenv"
)

// TestMetrics runs the local server's handler over the real database and
// S3 server with METRICS_TOKEN: /metrics is refused without the token and,
// with it, counts what was served (requests by route and status, upload
// bytes, the sync backlog read from PostgreSQL).
func TestMetrics(t *testing.T) {
	cfg := testenv.Config(t)
	cfg.MetricsToken = "metrics-token-of-16+-bytes"
	a := testenv.App(t, cfg)
	m := setUpMetrics(a)
	if m == nil {
		t.Fatal("METRICS_TOKEN set, no metrics")
	}
	srv := httptest.NewServer(withMetrics(newHandler(a.API.Handler(), t.TempDir(), nil, slog.New(slog.DiscardHandler)), m, cfg.MetricsToken))
	defer srv.Close()

	token := signup(t, srv.URL, "metrics@example.com")
	data := bytes.Repeat([]byte("m"), 12345)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "m.bin")
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/api/files/upload", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	if resp := do(t, req); resp.StatusCode != 201 {
		t.Fatalf("upload: %d", resp.StatusCode)
	}

	for _, tok := range []string{"", "wrong-token-of-16-bytes"} {
		req, _ := http.NewRequest("GET", srv.URL+"/metrics", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp := do(t, req)
		if resp.StatusCode != 401 {
			t.Errorf("/metrics with token %q: %d, want 401", tok, resp.StatusCode)
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("/metrics 401: X-Content-Type-Options %q, want nosniff", got)
		}
	}
	text := scrape(t, srv.URL+"/metrics", cfg.MetricsToken)
	for _, want := range []string{
		`hybrid_http_requests_total{method="POST",route="POST /api/files/upload",status="201"} 1`,
		`hybrid_http_requests_total{method="GET",route="unmatched",status="401"}`, // the refused scrapes are not API requests
		`hybrid_uploaded_bytes_total{path="stream"} 12345`,
		`hybrid_sync_metrics_up 1`,
		`hybrid_sync_pending_files 1`,
		`hybrid_sync_pending_bytes 12345`,
		`hybrid_http_request_duration_seconds_bucket{route="POST /api/auth/login",le="+Inf"} 1`,
		`hybrid_bcrypt_waiting 0`,
	} {
		if strings.HasPrefix(want, `hybrid_http_requests_total{method="GET",route="unmatched"`) {
			if strings.Contains(text, want) {
				t.Errorf("a refused /metrics scrape was counted as an API request")
			}
			continue
		}
		if !strings.Contains(text, want) {
			t.Errorf("/metrics has no %s", want)
		}
	}
	if !strings.Contains(text, "hybrid_sync_lag_seconds ") || strings.Contains(text, "hybrid_sync_lag_seconds 0\n") {
		t.Errorf("sync lag of a pending file is missing or 0")
	}
}

// TestMetricsAddrNeedsNoToken: the separate loopback listener serves
// /metrics without a token, and only /metrics; without METRICS_TOKEN the
// main address has no /metrics at all.
func TestMetricsAddrNeedsNoToken(t *testing.T) {
	cfg := testenv.Config(t)
	cfg.MetricsAddr = "127.0.0.1:0"
	a := testenv.App(t, cfg)
	m := setUpMetrics(a)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	wait := serveMetrics(ctx, ln, m, slog.New(slog.DiscardHandler))
	defer func() { cancel(); wait() }()
	if text := scrape(t, "http://"+ln.Addr().String()+"/metrics", ""); !strings.Contains(text, "hybrid_sync_pending_files 0") {
		t.Errorf("metrics listener: no hybrid_sync_pending_files 0 in\n%.500s", text)
	}
	if resp := do(t, mustReq(t, "GET", "http://"+ln.Addr().String()+"/api/files")); resp.StatusCode != 404 {
		t.Errorf("metrics listener serves /api/files: %d", resp.StatusCode)
	}
	main := httptest.NewServer(withMetrics(newHandler(a.API.Handler(), t.TempDir(), nil, slog.New(slog.DiscardHandler)), m, cfg.MetricsToken))
	defer main.Close()
	if resp := do(t, mustReq(t, "GET", main.URL+"/metrics")); resp.StatusCode != 404 {
		t.Errorf("main address without METRICS_TOKEN serves /metrics: %d", resp.StatusCode)
	}
}

func TestMetricsAddrMustBeLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:9464", "10.0.0.1:9464", ":9464", "example.com:9464"} {
		_, err := config.Load(func(k string) string {
			switch k {
			case "DEV_MODE":
				return "true"
			case "METRICS_ADDR":
				return addr
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), "METRICS_ADDR") {
			t.Errorf("METRICS_ADDR=%s: err %v, want refused", addr, err)
		}
	}
}

func signup(t *testing.T, base, email string) string {
	t.Helper()
	creds, _ := json.Marshal(map[string]string{"email": email, "password": "correct horse battery"})
	for _, p := range []string{"/api/auth/signup", "/api/auth/login"} {
		req, _ := http.NewRequest("POST", base+p, bytes.NewReader(creds))
		req.Header.Set("Content-Type", "application/json")
		resp := do(t, req)
		if p == "/api/auth/login" {
			var out struct {
				Token string `json:"access_token"`
			}
			if err := json.Unmarshal(resp.body, &out); err != nil || out.Token == "" {
				t.Fatalf("login: %d %s", resp.StatusCode, resp.body)
			}
			return out.Token
		}
	}
	return ""
}

type response struct {
	*http.Response
	body []byte
}

func do(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp, b}
}

func mustReq(t *testing.T, method, url string) *http.Request {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func scrape(t *testing.T, url, token string) string {
	t.Helper()
	req := mustReq(t, "GET", url)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp := do(t, req)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, resp.body)
	}
	return string(resp.body)
}

// TestMetricsLabelsAreBounded: what a client without a token sends (made-up
// methods of 4 KB, paths no route has) adds no series to /metrics: the
// method label is one of a fixed set ("other" for the rest) and the route
// one of the route table's patterns ("unmatched").
func TestMetricsLabelsAreBounded(t *testing.T) {
	cfg := testenv.Config(t)
	cfg.MetricsToken = "metrics-token-of-16+-bytes"
	a := testenv.App(t, cfg)
	m := setUpMetrics(a)
	srv := httptest.NewServer(withMetrics(newHandler(a.API.Handler(), t.TempDir(), nil, slog.New(slog.DiscardHandler)), m, cfg.MetricsToken))
	defer srv.Close()

	series := func() int {
		n := 0
		for _, line := range strings.Split(scrape(t, srv.URL+"/metrics", cfg.MetricsToken), "\n") {
			if strings.HasPrefix(line, "hybrid_http_") {
				n++
			}
		}
		return n
	}
	do(t, mustReq(t, "GET", srv.URL+"/api/no-such-route"))
	do(t, mustReq(t, "BREW", srv.URL+"/api/no-such-route"))
	before := series()
	for i := range 50 {
		method := fmt.Sprintf("M%04d%s", i, strings.Repeat("X", 4<<10))
		do(t, mustReq(t, method, fmt.Sprintf("%s/api/%d/%s", srv.URL, i, strings.Repeat("p", 1000))))
	}
	text := scrape(t, srv.URL+"/metrics", cfg.MetricsToken)
	if after := series(); after != before {
		t.Errorf("50 made-up methods and paths took the request series from %d lines to %d, want no new ones", before, after)
	}
	if !strings.Contains(text, `hybrid_http_requests_total{method="other",route="unmatched",status="404"} 51`) {
		t.Errorf("made-up methods not counted as method=\"other\", route=\"unmatched\":\n%s", grepLines(text, "hybrid_http_requests_total"))
	}
	if strings.Contains(text, "XXXX") || strings.Contains(text, "ppp") {
		t.Errorf("a client's method or path is a label value")
	}
}

func grepLines(text, prefix string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, prefix) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
