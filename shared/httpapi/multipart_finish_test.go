package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"
)

// A client that hangs up while the server hashes the assembled object
// loses nothing: the server finishes the completion on its own, and a
// client that retries at once waits for that same file (GET meanwhile
// says "completing"). The end is one file row, one object, no session.
func TestMultipartCompletionSurvivesADisconnect(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	hashing, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	if !onLambda() {
		s.app.API.SetFinishHook(func(reqCtx context.Context) {
			once.Do(func() {
				close(hashing)
				select { // the client is gone before the object is read
				case <-reqCtx.Done():
				case <-time.After(5 * time.Second):
					t.Error("the request's context did not end after the client hung up")
				}
				<-release
			})
		})
	}
	c := s.client(t).signup("hangup@example.com")
	data := randomBytes(t, 3*8*mib+777)
	u := c.createUpload("hangup.bin", int64(len(data)), "")
	var refs []partRef
	for i, part := range chunks(data, u.PartSize) {
		refs = append(refs, partRef{i + 1, putPart(t, u.Parts[i].URL, part)})
	}
	path := "/api/files/uploads/" + u.UploadID + "/complete"

	// The first client hangs up mid-completion.
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, "POST", c.base+path, jsonReader(map[string]any{"parts": refs}))
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	firstDone := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		firstDone <- err
	}()
	if onLambda() {
		// API Gateway does not cancel an invocation whose client hung up
		// (and the emulator cannot take a cancelled one: it panics), so
		// on Lambda the first request stays connected and the retry
		// comes at once, concurrently.
		time.Sleep(50 * time.Millisecond)
	} else {
		<-hashing
		cancel()
		<-firstDone
	}

	if !onLambda() {
		var st struct {
			Status string `json:"status"`
		}
		resp := c.json("GET", "/api/files/uploads/"+u.UploadID, nil, 200, &st)
		if st.Status != "completing" || resp.Header.Get("Retry-After") == "" {
			t.Errorf("GET while completing: status %q, Retry-After %q; want completing with Retry-After", st.Status, resp.Header.Get("Retry-After"))
		}
		time.AfterFunc(300*time.Millisecond, func() { close(release) })
	}
	// The retry, at once: it waits for the file the first request records.
	resp, body := c.do("POST", path, jsonReader(map[string]any{"parts": refs}), jsonHeader)
	for i := 0; resp.StatusCode == 409 && i < 100; i++ { // UPLOAD_COMPLETING: ask again
		wantError(t, resp, body, 409, "UPLOAD_COMPLETING")
		if resp.Header.Get("Retry-After") == "" {
			t.Error("409 UPLOAD_COMPLETING without Retry-After")
		}
		time.Sleep(200 * time.Millisecond)
		resp, body = c.do("POST", path, jsonReader(map[string]any{"parts": refs}), jsonHeader)
	}
	wantStatus := 200 // the first request recorded the file
	if onLambda() && resp.StatusCode == 201 {
		wantStatus = 201 // the first request may not have reached the function
	}
	if resp.StatusCode != wantStatus {
		t.Fatalf("retry: status %d, want %d; body %s", resp.StatusCode, wantStatus, body)
	}
	if onLambda() {
		<-firstDone
	}
	cancel()
	var f fileObj
	if err := json.Unmarshal(body, &f); err != nil {
		t.Fatal(err)
	}
	s.checkPresignedFile(t, f, data)
	var done struct {
		Status string  `json:"status"`
		File   fileObj `json:"file"`
	}
	c.json("GET", "/api/files/uploads/"+u.UploadID, nil, 200, &done)
	if done.Status != "completed" || done.File.ID != f.ID {
		t.Errorf("GET after: %+v, want completed with file %d", done, f.ID)
	}
	var rows int
	if err := s.app.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM files`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if objects, uploads := s.hotState(t); rows != 1 || objects != 1 || uploads != 0 || s.sessions(t) != 0 {
		t.Errorf("end: %d file rows, %d objects, %d open uploads, %d sessions; want 1, 1, 0, 0", rows, objects, uploads, s.sessions(t))
	}
}
