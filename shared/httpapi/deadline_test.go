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

	"github.com/hybrid-storage/hybrid-storage/shared/config"
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
		body := []byte(`{"email":"slow@example.com","password":"correct horse battery"}`)
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

// waitFor polls cond for up to 10 s.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("waited 10 s for %s", what)
		}
	}
}

// trickle writes one byte of rest to conn every period until rest ends or
// the connection fails; done is closed then.
func trickle(conn net.Conn, rest []byte, period time.Duration) (done chan struct{}) {
	done = make(chan struct{})
	go func() {
		defer close(done)
		for ; len(rest) > 0; rest = rest[1:] {
			time.Sleep(period)
			if _, err := conn.Write(rest[:1]); err != nil {
				return
			}
		}
	}()
	return done
}

// TestSlowUploadsAreCut: a streamed upload whose body arrives below
// UPLOAD_MIN_BYTES_PER_SEC is cut, though a byte comes often enough never
// to meet the idle timeout, and leaves nothing behind (issue 21 item 5).
// On Lambda, API Gateway reads the whole body before the function runs:
// the slow body holds no function, another upload of the user is served
// meanwhile, and the slow one is served once whole.
func TestSlowUploadsAreCut(t *testing.T) {
	t.Parallel()
	const minRate = 256 << 10
	s := newStack(t, func(cfg *config.Config) { cfg.UploadMinRate = minRate })
	const idle = time.Second // the idle cut, and the window the rate is measured over
	s.app.API.SetTimeouts(time.Minute, time.Minute, idle)
	c := s.client(t).signup("trickle@example.com")
	// 3 MiB: past the first MiB, so the object is being streamed to the hot
	// tier in parts when the client slows to a byte every 150 ms.
	body, ctype := multipartBody(t, "file", "trickle.bin", "", randomBytes(t, 3<<20))
	full, _ := io.ReadAll(body)
	sent := 2 << 20
	if onLambda() {
		sent = len(full) - 10 // the gateway has all but the last 10 bytes
	}
	conn := rawRequest(t, s, "POST", "/api/files/upload", c.token, ctype, full, sent)
	done := trickle(conn, full[sent:], 150*time.Millisecond)

	if onLambda() {
		c.mustUpload("meanwhile.bin", []byte("served while a slow body is held at the gateway"))
		resp, b, _ := readResponse(t, conn, 20*time.Second)
		if resp.StatusCode != 201 {
			t.Fatalf("slow upload on Lambda: status %d, body %s; want 201 once the gateway had it whole", resp.StatusCode, b)
		}
		return
	}
	resp, b, took := readResponse(t, conn, 15*time.Second)
	conn.Close()
	<-done
	wantError(t, resp, b, 400, "BAD_REQUEST")
	if want := fmt.Sprintf("slower than %d bytes/s", minRate); !bytes.Contains(b, []byte(want)) {
		t.Errorf("detail %s, want it to say %q", b, want)
	}
	if took > 10*idle {
		t.Errorf("cut after %s, want about %s", took, 2*idle)
	}
	var rows int
	if err := s.app.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM files`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if objects, uploads := s.hotState(t); rows != 0 || objects != 0 || uploads != 0 {
		t.Errorf("after the cut: %d rows, %d objects, %d multipart uploads; want none", rows, objects, uploads)
	}
	waitFor(t, "the slot to be released", func() bool { return s.app.API.StreamedUploads() == 0 })
}

// TestStreamedUploadCaps: at most MAX_STREAMED_UPLOADS_PER_USER streamed
// uploads of one user and MAX_STREAMED_UPLOADS in all are read at once;
// more answer 429 TOO_MANY_STREAMED_UPLOADS with Retry-After, and a slot
// is free again when its upload ends (issue 21 item 5). On Lambda, API
// Gateway holds an incomplete body itself and an instance serves one
// request at a time: held bodies take no slot and the caps never refuse.
func TestStreamedUploadCaps(t *testing.T) {
	t.Parallel()
	s := newStack(t, func(cfg *config.Config) { cfg.MaxStreamedUploads, cfg.MaxStreamedUploadsPerUser = 3, 2 })
	a := s.client(t).signup("caps-a@example.com")
	b := s.client(t).signup("caps-b@example.com")
	body, ctype := multipartBody(t, "file", "held.bin", "", randomBytes(t, 64<<10))
	full, _ := io.ReadAll(body)
	hold := func(c *client, want int) net.Conn {
		t.Helper()
		conn := rawRequest(t, s, "POST", "/api/files/upload", c.token, ctype, full, 1000)
		if !onLambda() {
			waitFor(t, fmt.Sprintf("%d streamed uploads under way", want), func() bool { return s.app.API.StreamedUploads() == want })
		}
		return conn
	}
	small := []byte("small file")
	first := hold(a, 1)
	second := hold(a, 2)
	if onLambda() {
		third := hold(b, 0)
		a.mustUpload("third.bin", small)
		b.mustUpload("second.bin", small)
		for _, conn := range []net.Conn{first, second, third} { // once whole, the held bodies are served
			if _, err := conn.Write(full[1000:]); err != nil {
				t.Fatal(err)
			}
			if resp, body, _ := readResponse(t, conn, 20*time.Second); resp.StatusCode != 201 {
				t.Errorf("held upload: status %d, body %s; want 201", resp.StatusCode, body)
			}
		}
		return
	}
	refused := func(c *client, why string) {
		t.Helper()
		resp, body := c.upload("over.bin", "", small)
		wantError(t, resp, body, 429, "TOO_MANY_STREAMED_UPLOADS")
		if resp.Header.Get("Retry-After") == "" {
			t.Errorf("429 without Retry-After")
		}
		if !bytes.Contains(body, []byte(why)) {
			t.Errorf("detail %s, want it to say %q", body, why)
		}
	}
	refused(a, "account") // a's two slots are taken
	hold(b, 3)
	refused(b, "server") // b has one, the server none left
	first.Close()
	waitFor(t, "the closed upload's slot to be released", func() bool { return s.app.API.StreamedUploads() == 2 })
	a.mustUpload("now.bin", small) // a slot of a's and one of the server's are free again
	b.mustUpload("now.bin", small)
}
