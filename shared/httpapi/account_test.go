package httpapi_test

import (
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
)

func (c *client) deleteAccount(password string) (int, []byte) {
	c.tb.Helper()
	resp, body := c.do("DELETE", "/api/auth/me", jsonReader(map[string]string{"password": password}), jsonHeader)
	return resp.StatusCode, body
}

func (s *stack) count(tb testing.TB, query string, args ...any) int {
	tb.Helper()
	var n int
	if err := s.app.DB.Pool.QueryRow(tb.Context(), query, args...).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// seedAccount gives c's account a hot file, a cold file, a trashed file
// and an open presigned upload with one part sent.
func seedAccount(t *testing.T, s *stack, c *client) {
	t.Helper()
	c.mustUpload("hot.txt", []byte("hot"))
	cold := c.mustUpload("cold.txt", []byte("cold"))
	moveToCold(t, s, cold.ID)
	gone := c.mustUpload("trashed.txt", []byte("trashed"))
	c.json("DELETE", fmt.Sprintf("/api/files/%d", gone.ID), nil, 204, nil)
	data := randomBytes(t, 9*mib)
	u := c.createUpload("big.bin", int64(len(data)), "")
	putPart(t, u.Parts[0].URL, data[:u.PartSize])
}

// DELETE /api/auth/me removes every object of the account in both tiers
// (trash and open uploads included), then its rows; its tokens are 401
// and it cannot log in; other accounts are untouched.
func TestDeleteAccount(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("leaving@example.com")
	other := s.client(t).signup("staying@example.com")
	kept := other.mustUpload("kept.txt", []byte("kept"))
	seedAccount(t, s, c)
	// A folder with a file, and a folder in the trash with one.
	kept2 := c.mkdir("Kept", nil)
	c.mustUploadTo(kept2.ID, "in-folder.txt", []byte("in"))
	binned := c.mkdir("Binned", &kept2.ID)
	c.mustUploadTo(binned.ID, "binned.txt", []byte("bin"))
	c.json("DELETE", fmt.Sprintf("/api/folders/%d", binned.ID), nil, 204, nil)
	uid := userID(t, s, "leaving@example.com")
	if objs, ups := s.hotState(t); objs != 5 || ups != 1 { // hot + trashed + two in folders + the other user's; one upload
		t.Fatalf("before: %d hot objects, %d uploads", objs, ups)
	}

	resp, body := c.do("DELETE", "/api/auth/me", strings.NewReader(`{}`), jsonHeader)
	wantError(t, resp, body, 400, "VALIDATION_ERROR")
	resp, body = c.do("DELETE", "/api/auth/me", strings.NewReader(`{"password":`), jsonHeader)
	wantError(t, resp, body, 400, "VALIDATION_ERROR")
	st, body := c.deleteAccount("wrong-password")
	if st != 401 || !strings.Contains(string(body), `"INVALID_CREDENTIALS"`) {
		t.Fatalf("wrong password: %d %s", st, body)
	}
	c.json("GET", "/api/auth/me", nil, 200, nil) // still there

	if st, body := c.deleteAccount("correct horse battery"); st != 204 || len(body) != 0 {
		t.Fatalf("delete account: %d %s", st, body)
	}
	for _, path := range []string{"/api/auth/me", "/api/files", "/api/trash"} {
		resp, body := c.do("GET", path, nil, nil)
		wantError(t, resp, body, 401, "UNAUTHORIZED")
	}
	st, body = c.deleteAccount("correct horse battery")
	if st != 401 {
		t.Errorf("second delete: %d %s, want 401", st, body)
	}
	resp, body = c.do("POST", "/api/auth/login", jsonReader(map[string]string{"email": "leaving@example.com", "password": "correct horse battery"}), jsonHeader)
	wantError(t, resp, body, 401, "INVALID_CREDENTIALS")

	if objs, ups := s.hotState(t); objs != 1 || ups != 0 {
		t.Errorf("after: %d hot objects (want the other user's 1), %d multipart uploads (want 0)", objs, ups)
	}
	if n := coldObjects(t, s); n != 0 {
		t.Errorf("after: %d cold objects", n)
	}
	if n := s.count(t, `SELECT count(*) FROM users WHERE id = $1`, uid) + s.count(t, `SELECT count(*) FROM files WHERE user_id = $1`, uid) +
		s.count(t, `SELECT count(*) FROM upload_sessions WHERE user_id = $1`, uid) + s.count(t, `SELECT count(*) FROM folders WHERE user_id = $1`, uid); n != 0 {
		t.Errorf("after: %d rows of the account left", n)
	}
	other.json("GET", fmt.Sprintf("/api/files/%d", kept.ID), nil, 200, nil)
	// The address can sign up again.
	s.client(t).signup("leaving@example.com")
}

// A wrong password costs from the same guess counters as a login: from
// one address, five free, then the pair's delay meets the right password
// too, and logins of the account from that address.
func TestDeleteAccountIsRateLimited(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.clientFrom(t, "127.0.5.1").signup("guess@example.com")
	for i := range 5 {
		if st, body := c.deleteAccount("wrong-password"); st != 401 {
			t.Fatalf("guess %d: %d %s, want 401", i+1, st, body)
		}
	}
	resp, body := c.do("DELETE", "/api/auth/me", jsonReader(map[string]string{"password": "correct horse battery"}), jsonHeader)
	wantError(t, resp, body, 429, "RATE_LIMITED")
	if resp.Header.Get("Retry-After") != "1" {
		t.Errorf("429 with Retry-After %q, want 1 (the first delay)", resp.Header.Get("Retry-After"))
	}
	resp, body = c.do("POST", "/api/auth/login", jsonReader(map[string]string{"email": "guess@example.com", "password": "correct horse battery"}), jsonHeader)
	wantError(t, resp, body, 429, "RATE_LIMITED")
	c.json("GET", "/api/auth/me", nil, 200, nil)
}

// An account deletion interrupted at any point — the account marked, some
// objects gone — cannot log in, its tokens are 401, and the sweep finishes
// it: no object, no row, never half an account.
func TestInterruptedAccountDeletionIsFinished(t *testing.T) {
	t.Parallel()
	for _, crash := range []string{"after the mark", "after the files' mark", "after some objects", "after the files"} {
		t.Run(crash, func(t *testing.T) {
			t.Parallel()
			s := newStack(t, nil)
			c := s.client(t).signup("half@example.com")
			seedAccount(t, s, c)
			uid := userID(t, s, "half@example.com")
			ctx := t.Context()
			// What DELETE /api/auth/me does, up to the crash.
			if err := s.app.DB.MarkUserDeleting(ctx, uid); err != nil {
				t.Fatal(err)
			}
			if crash != "after the mark" {
				if _, err := s.app.DB.BeginPurgeAll(ctx, uid); err != nil {
					t.Fatal(err)
				}
			}
			if crash == "after some objects" || crash == "after the files" {
				files, err := s.app.DB.PurgingFiles(ctx, uid, 0, 100)
				if err != nil || len(files) != 3 {
					t.Fatalf("purging files: %d, %v", len(files), err)
				}
				for i, f := range files {
					if crash == "after some objects" && i > 0 {
						break
					}
					if err := s.app.Hot.Delete(ctx, f.ObjectKey); err != nil {
						t.Fatal(err)
					}
					if err := s.app.Cold.Delete(ctx, f.ObjectKey); err != nil {
						t.Fatal(err)
					}
					if crash == "after the files" {
						if err := s.app.DB.DeletePurged(ctx, f.ID); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			resp, body := c.do("GET", "/api/auth/me", nil, nil)
			wantError(t, resp, body, 401, "UNAUTHORIZED")
			resp, body = c.do("POST", "/api/auth/login", jsonReader(map[string]string{"email": "half@example.com", "password": "correct horse battery"}), jsonHeader)
			wantError(t, resp, body, 401, "INVALID_CREDENTIALS")
			resp, body = c.do("POST", "/api/auth/signup", jsonReader(map[string]string{"email": "half@example.com", "password": "correct horse battery"}), jsonHeader)
			wantError(t, resp, body, 409, "EMAIL_TAKEN")

			n, err := s.app.Maintenance.FinishAccountDeletions(ctx)
			if err != nil || n != 1 {
				t.Fatalf("FinishAccountDeletions: %d, %v; want 1", n, err)
			}
			if objs, ups := s.hotState(t); objs != 0 || ups != 0 {
				t.Errorf("after the sweep: %d hot objects, %d multipart uploads", objs, ups)
			}
			if n := coldObjects(t, s); n != 0 {
				t.Errorf("after the sweep: %d cold objects", n)
			}
			if n := s.count(t, `SELECT count(*) FROM users`) + s.count(t, `SELECT count(*) FROM files`) + s.count(t, `SELECT count(*) FROM upload_sessions`); n != 0 {
				t.Errorf("after the sweep: %d rows left", n)
			}
		})
	}
}

// An upload streaming while its account is deleted (or marked deleting,
// the deletion not finished) answers 401, not a foreign-key violation's
// 500, and leaves no object and no file row.
func TestUploadWhileItsAccountIsDeleted(t *testing.T) {
	t.Parallel()
	if onLambda() {
		t.Skip("API Gateway buffers the whole body before the function runs")
	}
	for _, deletion := range []string{"deleted", "marked deleting"} {
		t.Run(deletion, func(t *testing.T) {
			t.Parallel()
			// A quota makes the upload reserve before it reads the body:
			// the reservation's row says the request is under way.
			s := newStack(t, func(c *config.Config) { c.UserQuota = 1 << 30 })
			c := s.client(t).signup("streaming@example.com")
			uid := userID(t, s, "streaming@example.com")
			pr, pw := io.Pipe()
			mw := multipart.NewWriter(pw)
			type answer struct {
				resp *http.Response
				body []byte
			}
			done := make(chan answer, 1)
			go func() {
				resp, body := c.do("POST", "/api/files/upload", pr, map[string]string{"Content-Type": mw.FormDataContentType()})
				done <- answer{resp, body}
			}()
			part, err := mw.CreateFormFile("file", "streaming.bin")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := part.Write(randomBytes(t, 2*mib)); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for s.count(t, `SELECT count(*) FROM quota_reservations WHERE user_id = $1`, uid) == 0 {
				if time.Now().After(deadline) {
					t.Fatal("the upload reserved no quota in 10 s")
				}
				time.Sleep(20 * time.Millisecond)
			}
			if deletion == "deleted" {
				if st, body := c.deleteAccount(testPassword); st != 204 {
					t.Fatalf("delete account: %d %s", st, body)
				}
			} else if err := s.app.DB.MarkUserDeleting(t.Context(), uid); err != nil {
				t.Fatal(err)
			}
			if _, err := part.Write(randomBytes(t, mib)); err != nil {
				t.Fatal(err)
			}
			mw.Close()
			pw.Close()
			a := <-done
			wantError(t, a.resp, a.body, 401, "UNAUTHORIZED")
			if deletion == "marked deleting" {
				if _, err := s.app.Maintenance.FinishAccountDeletions(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
			objects, uploads := s.hotState(t)
			if rows := s.count(t, `SELECT count(*) FROM files`) + s.count(t, `SELECT count(*) FROM users WHERE id = $1`, uid); objects != 0 || uploads != 0 || rows != 0 {
				t.Errorf("end: %d hot objects, %d multipart uploads, %d rows of the account; want none", objects, uploads, rows)
			}
		})
	}
}
