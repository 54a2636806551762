package httpapi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The deadlines of the local server (README, "Slow clients cannot pin the
// server"), shortened from 30 s to a fraction of a second. On Lambda, API
// Gateway reads a whole request before invoking a function and bounds its
// time itself: these tests are for the local server.

// rawRequest writes a request head and the first sent bytes of body on a
// fresh connection, then stops writing (the connection stays open).
func rawRequest(tb testing.TB, s *stack, method, path, token, ctype string, body []byte, sent int) net.Conn {
	tb.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.srv.URL, "http://"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		method, path, token, ctype, len(body))
	if _, err := conn.Write(body[:sent]); err != nil {
		tb.Fatal(err)
	}
	return conn
}

// readResponse reads the answer on conn, waiting at most limit, and
// returns it with its body and the time it took.
func readResponse(tb testing.TB, conn net.Conn, limit time.Duration) (*http.Response, []byte, time.Duration) {
	tb.Helper()
	t0 := time.Now()
	conn.SetReadDeadline(t0.Add(limit))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		tb.Fatalf("no answer within %s: %v", limit, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read answer: %v", err)
	}
	return resp, b, time.Since(t0)
}

func TestStalledClientsAreCutOff(t *testing.T) {
	if onLambda() {
		t.Skip("on Lambda, API Gateway bounds a request's time, not the function")
	}
	t.Parallel()
	s := newStack(t, nil)
	// A long deadline for ordinary requests, a short one for idle
	// transfers: what cuts the stalled transfers below is the idle one.
	const idle = 300 * time.Millisecond
	s.app.API.SetTimeouts(time.Minute, time.Minute, idle)
	c := s.client(t).signup("stalled@example.com")

	t.Run("upload", func(t *testing.T) {
		// 4 MiB: past the first MiB, so the object is being streamed to the
		// hot tier in parts when the client stops after 2 MiB.
		body, ctype := multipartBody(t, "file", "stall.bin", "", randomBytes(t, 4<<20))
		full, _ := io.ReadAll(body)
		conn := rawRequest(t, s, "POST", "/api/files/upload", c.token, ctype, full, 2<<20)
		resp, b, took := readResponse(t, conn, 20*time.Second)
		wantError(t, resp, b, 400, "BAD_REQUEST")
		if !bytes.Contains(b, []byte("stopped arriving")) {
			t.Errorf("detail %s, want it to say the body stopped arriving", b)
		}
		if took > 10*time.Second {
			t.Errorf("cut off after %s, want about %s (the request deadline is a minute)", took, idle)
		}
		var rows int
		if err := s.app.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM files`).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if objects, uploads := s.hotState(t); rows != 0 || objects != 0 || uploads != 0 {
			t.Errorf("after the cut: %d rows, %d objects, %d multipart uploads; want none", rows, objects, uploads)
		}
	})

	t.Run("download", func(t *testing.T) {
		// Larger than what the kernel buffers on loopback, so that the
		// server's writes block while the client reads nothing.
		data := randomBytes(t, 48<<20)
		f := c.mustUpload("big.bin", data)
		conn := rawRequest(t, s, "GET", fmt.Sprintf("/api/files/%d/download", f.ID), c.token, "text/plain", nil, 0)
		time.Sleep(10 * idle)
		conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		n, err := io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != 200 || n >= int64(len(data)) || err == nil {
			t.Errorf("stalled download: status %d, got %d of %d bytes, error %v; want the connection cut before the end", resp.StatusCode, n, len(data), err)
		}
	})
}

func TestSlowClientsAreServed(t *testing.T) {
	if onLambda() {
		t.Skip("on Lambda, API Gateway bounds a request's time, not the function")
	}
	t.Parallel()
	s := newStack(t, nil)
	// Transfers below last over 2 s, longer than the read and write
	// deadlines of an ordinary request. They keep moving (a pause of 100 ms
	// at most, far below the idle timeout even on a loaded CI machine), so
	// they must not be cut.
	const deadline, idle = 500 * time.Millisecond, 1500 * time.Millisecond
	s.app.API.SetTimeouts(deadline, 2*deadline, idle)
	c := s.client(t).signup("slow@example.com")

	t.Run("ordinary request whose body never ends", func(t *testing.T) {
		body := []byte(`{"email":"slow@example.com","password":"password123"}`)
		conn := rawRequest(t, s, "POST", "/api/auth/login", "", "application/json", body, 10)
		resp, b, took := readResponse(t, conn, 20*time.Second)
		wantError(t, resp, b, 400, "BAD_REQUEST")
		if took > 10*time.Second {
			t.Errorf("answered after %s, want about %s", took, deadline)
		}
	})

	t.Run("upload", func(t *testing.T) {
		data := randomBytes(t, 3<<20)
		body, ctype := multipartBody(t, "file", "slow.bin", "", data)
		full, _ := io.ReadAll(body)
		pr, pw := io.Pipe()
		go func() {
			const piece = 64 << 10
			for p := full; len(p) > 0; p = p[min(piece, len(p)):] {
				if _, err := pw.Write(p[:min(piece, len(p))]); err != nil {
					return
				}
				time.Sleep(45 * time.Millisecond)
			}
			pw.Close()
		}()
		t0 := time.Now()
		resp, b := c.do("POST", "/api/files/upload", pr, map[string]string{"Content-Type": ctype})
		if resp.StatusCode != 201 {
			t.Fatalf("slow upload: status %d after %s: %s", resp.StatusCode, time.Since(t0), b)
		}
		var f fileObj
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		if f.FileSize != int64(len(data)) || f.Checksum != sha(data) {
			t.Errorf("stored %d bytes with sha256 %s, want %d with %s", f.FileSize, f.Checksum, len(data), sha(data))
		}
		if took := time.Since(t0); took < 3*deadline {
			t.Errorf("the upload took %s: too fast to show the deadlines moving (want over %s)", took, 3*deadline)
		}
	})

	t.Run("download", func(t *testing.T) {
		data := randomBytes(t, 24<<20)
		f := c.mustUpload("slow.bin", data)
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/files/%d/download", s.srv.URL, f.ID), nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		t0 := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got bytes.Buffer
		for {
			_, err := io.CopyN(&got, resp.Body, 1<<20)
			if err != nil {
				if err != io.EOF {
					t.Fatalf("slow download cut after %d bytes, %s: %v", got.Len(), time.Since(t0), err)
				}
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if !bytes.Equal(got.Bytes(), data) {
			t.Errorf("slow download: got %d bytes, want the %d uploaded", got.Len(), len(data))
		}
		if took := time.Since(t0); took < 3*deadline {
			t.Errorf("the download took %s: too fast to show the deadline moving (want over %s)", took, 3*deadline)
		}
	})
}
