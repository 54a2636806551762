package httpapi_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/maintenance"
)

// abortIgnored answers an abort of a multipart upload without aborting it,
// as S3 may when the abort arrives while the tier is assembling the object:
// the completion then succeeds after the ender's discard has run.
type abortIgnored struct{ maintenance.HotTier }

func (abortIgnored) AbortMultipartUpload(context.Context, string, string) error { return nil }

// A completion racing an abort or an account deletion, the ender run
// between two of the completion's steps: whoever wins, no object is left
// in either tier without a file row or a session, the completion answers
// 404 (never 500) and no file is recorded for an account being deleted.
func TestCompletionRacingAnEnder(t *testing.T) {
	t.Parallel()
	if onLambda() {
		t.Skip("the steps are driven by hooks of the API in-process")
	}
	type ender struct {
		name    string
		account bool // the account is deleted (or marked): the sweep finishes it
		lateObj bool // the tier assembles the object after the ender's discard
		run     func(t *testing.T, s *stack, c *client, uid int64, uploadID string)
	}
	abort := func(t *testing.T, s *stack, c *client, _ int64, uploadID string) {
		resp, body := c.do("DELETE", "/api/files/uploads/"+uploadID, nil, nil)
		if resp.StatusCode != http.StatusNoContent {
			t.Errorf("abort: status %d, want 204; body %s", resp.StatusCode, body)
		}
	}
	deleteAccount := func(t *testing.T, s *stack, c *client, _ int64, _ string) {
		if st, body := c.deleteAccount(testPassword); st != http.StatusNoContent {
			t.Errorf("delete account: status %d, want 204; body %s", st, body)
		}
	}
	markDeleting := func(t *testing.T, s *stack, _ *client, uid int64, _ string) {
		// The first step of DELETE /api/auth/me, its sessions not reached yet.
		if err := s.app.DB.MarkUserDeleting(context.Background(), uid); err != nil {
			t.Error(err)
		}
	}
	enders := []ender{
		{name: "abort", run: abort},
		{name: "abort while the tier assembles", lateObj: true, run: abort},
		{name: "account deletion", account: true, run: deleteAccount},
		{name: "account deletion while the tier assembles", account: true, lateObj: true, run: deleteAccount},
		{name: "account marked deleting", account: true, run: markDeleting},
	}
	steps := []string{"assembling", "assembled", "read", "record"}
	for _, e := range enders {
		for _, step := range steps {
			if e.lateObj && step != "assembling" {
				continue // the tier's assembly is over by then
			}
			t.Run(e.name+" before "+step, func(t *testing.T) {
				t.Parallel()
				s := newStack(t, nil)
				if e.lateObj {
					s.app.Maintenance.Hot = abortIgnored{s.app.Maintenance.Hot}
				}
				c := s.client(t).signup("racing@example.com")
				uid := userID(t, s, "racing@example.com")
				data := randomBytes(t, 8*mib+4096) // two parts
				u := c.createUpload("race.bin", int64(len(data)), "")
				var refs []partRef
				for i, part := range chunks(data, u.PartSize) {
					refs = append(refs, partRef{i + 1, putPart(t, u.Parts[i].URL, part)})
				}
				var once sync.Once
				ran := false
				s.app.API.SetCompleteHook(func(_ context.Context, at string) {
					if at == step {
						once.Do(func() { e.run(t, s, c, uid, u.UploadID); ran = true })
					}
				})

				resp, body := c.do("POST", "/api/files/uploads/"+u.UploadID+"/complete", jsonReader(map[string]any{"parts": refs}), jsonHeader)
				if !ran {
					t.Fatalf("the completion never reached step %q (status %d, body %s)", step, resp.StatusCode, body)
				}
				wantError(t, resp, body, http.StatusNotFound, "UPLOAD_NOT_FOUND")
				if e.account {
					// What this request's deletion could not finish (a
					// session its completion still held) the sweep does.
					if _, err := s.app.Maintenance.FinishAccountDeletions(t.Context()); err != nil {
						t.Fatalf("FinishAccountDeletions: %v", err)
					}
					if n := s.count(t, `SELECT count(*) FROM users WHERE id = $1`, uid); n != 0 {
						t.Errorf("the account's row is left after the sweep")
					}
				}
				objects, uploads := s.hotState(t)
				if files := s.count(t, `SELECT count(*) FROM files`); objects != 0 || uploads != 0 || coldObjects(t, s) != 0 || s.sessions(t) != 0 || files != 0 {
					t.Errorf("end: %d hot objects, %d multipart uploads, %d cold objects, %d sessions, %d file rows; want none",
						objects, uploads, coldObjects(t, s), s.sessions(t), files)
				}
			})
		}
	}
}
