package syncjob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/storage"
	"github.com/hybrid-storage/hybrid-storage/shared/syncjob"
	"github.com/hybrid-storage/hybrid-storage/shared/testenv"
)

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// api is the real HTTP API over an env, called as one user.
type api struct {
	tb    testing.TB
	srv   *httptest.Server
	token string
}

func (e *env) api(userID int64) *api {
	e.tb.Helper()
	srv := httptest.NewServer(e.app.API.Handler())
	e.tb.Cleanup(srv.Close)
	return &api{tb: e.tb, srv: srv, token: testenv.UserToken(e.tb, e.app, userID)}
}

func (c *api) do(method, path string, body io.Reader, ctype string) (int, []byte) {
	c.tb.Helper()
	req, _ := http.NewRequest(method, c.srv.URL+path, body)
	req.Header.Set("Authorization", "Bearer "+c.token)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (c *api) upload(name string, data []byte) core.File {
	c.tb.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	w, _ := mw.CreateFormFile("file", name)
	w.Write(data)
	mw.Close()
	status, b := c.do("POST", "/api/files/upload", &buf, mw.FormDataContentType())
	if status != 201 {
		c.tb.Fatalf("upload: %d %s", status, b)
	}
	var out struct {
		ID int64 `json:"id"`
	}
	json.Unmarshal(b, &out)
	return core.File{ID: out.ID}
}

func (c *api) download(id int64) []byte {
	c.tb.Helper()
	status, b := c.do("GET", fmt.Sprintf("/api/files/%d/download", id), nil, "")
	if status != 200 {
		c.tb.Fatalf("download %d: %d %s", id, status, b)
	}
	return b
}

func TestHappyPathMovesFilesAndDownloadsStayIdentical(t *testing.T) {
	t.Parallel()
	logFile := filepath.Join(t.TempDir(), "sync.log")
	e := newEnv(t, func(c *config.Config) { c.SyncLogFile = logFile; c.SyncBatchSize = 2 })
	uid := e.user("happy@example.com")
	c := e.api(uid)
	datas := [][]byte{randomBytes(1), randomBytes(100 << 10), randomBytes(17 << 20), {}}
	var files []core.File
	for i, d := range datas {
		f := c.upload(fmt.Sprintf("file %d é.bin", i), d)
		if got := c.download(f.ID); !bytes.Equal(got, d) {
			t.Fatalf("file %d: download before the move differs", i)
		}
		files = append(files, e.row(core.File{ID: f.ID, UserID: uid}))
	}
	rep, err := e.app.Sync.RunExclusive(context.Background(), "test")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Synced != 4 || rep.Failed != 0 || rep.Left != 0 || rep.Status != syncjob.StatusSucceeded || rep.Bytes != int64(1+100<<10+17<<20) {
		t.Fatalf("report %+v, want 4 synced, none failed or left, status succeeded, all bytes", rep)
	}
	for i, f := range files {
		e.wantSynced(f, datas[i], true) // DELETE_FROM_MINIO_AFTER_SYNC defaults to false
		if got := c.download(f.ID); !bytes.Equal(got, datas[i]) {
			t.Fatalf("file %d: download after the move differs", i)
		}
	}
	// The run is recorded and served by /api/sync/status.
	status, b := c.do("GET", "/api/sync/status", nil, "")
	var st struct {
		LastRun *struct {
			StartedAt  time.Time  `json:"started_at"`
			FinishedAt *time.Time `json:"finished_at"`
			Synced     int        `json:"synced"`
			Failed     int        `json:"failed"`
		} `json:"last_run"`
		Pending int `json:"pending"`
	}
	if err := json.Unmarshal(b, &st); status != 200 || err != nil || st.LastRun == nil || st.LastRun.Synced != 4 ||
		st.LastRun.FinishedAt == nil || st.Pending != 0 {
		t.Fatalf("sync status %d %s", status, b)
	}
	// One JSON line per file result and for the run, in SYNC_LOG_FILE.
	raw, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	var results, starts, finishes int
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q is not JSON", line)
		}
		switch rec["msg"] {
		case "sync file":
			results++
			if rec["result"] != "synced" || rec["file_id"] == nil || rec["duration_ms"] == nil {
				t.Errorf("file log line %s", line)
			}
		case "sync run started":
			starts++
		case "sync run finished":
			finishes++
			if rec["synced"] != float64(4) || rec["duration_ms"] == nil {
				t.Errorf("run log line %s", line)
			}
		}
	}
	if results != 4 || starts != 1 || finishes != 1 {
		t.Errorf("log file: %d file lines, %d starts, %d finishes; want 4, 1, 1:\n%s", results, starts, finishes, raw)
	}
	// Nothing left: a second run does nothing.
	rep = mustRun(t, e.job(nil, syncjob.Options{}), context.Background())
	if rep.Synced != 0 || rep.Failed != 0 || rep.Status != syncjob.StatusSucceeded {
		t.Errorf("second run %+v, want nothing to do", rep)
	}
}

func TestBatchSizeIsRespected(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	uid := e.user("batch@example.com")
	var files []core.File
	for i := range 7 {
		files = append(files, e.seed(uid, fmt.Sprintf("f%d", i), []byte{byte(i)}))
	}
	var mu sync.Mutex
	perBatch := map[int]int{}
	var order []int64
	j := e.jobWith(nil, syncjob.Options{BatchSize: 3}, syncjob.Knobs{Concurrency: 1, Hooks: syncjob.Hooks{OnClaim: func(batch int, f core.File) {
		mu.Lock()
		perBatch[batch]++
		order = append(order, f.ID)
		mu.Unlock()
	}}})
	rep := mustRun(t, j, context.Background())
	if rep.Synced != 7 || perBatch[1] != 3 || perBatch[2] != 3 || perBatch[3] != 1 || len(perBatch) != 3 {
		t.Fatalf("claims per batch %v (report %+v), want 3, 3, 1", perBatch, rep)
	}
	for i, f := range files { // oldest first
		if order[i] != f.ID {
			t.Fatalf("claim order %v, want oldest first", order)
		}
	}
	// Two at a time still claims at most BatchSize per batch.
	e2 := newEnv(t, nil)
	uid = e2.user("batch2@example.com")
	for i := range 9 {
		e2.seed(uid, fmt.Sprintf("f%d", i), []byte{byte(i)})
	}
	clear(perBatch)
	j = e2.jobWith(nil, syncjob.Options{BatchSize: 4}, syncjob.Knobs{Concurrency: 2, Hooks: syncjob.Hooks{OnClaim: func(batch int, f core.File) {
		mu.Lock()
		perBatch[batch]++
		mu.Unlock()
	}}})
	if rep := mustRun(t, j, context.Background()); rep.Synced != 9 {
		t.Fatalf("report %+v", rep)
	}
	for b, n := range perBatch {
		if n > 4 {
			t.Errorf("batch %d claimed %d files, want at most 4", b, n)
		}
	}
}

func TestRetryThenSuccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	uid := e.user("retry@example.com")
	data := randomBytes(4096)
	f := e.seed(uid, "flaky.bin", data)
	cold := newCountingCold(e.app.Cold, 2)
	rep := mustRun(t, e.job(cold, syncjob.Options{MaxRetries: 3}), context.Background())
	if rep.Synced != 1 || rep.Failed != 0 {
		t.Fatalf("report %+v, want the file synced on its third attempt", rep)
	}
	if n := cold.putsOf(f.ObjectKey); n != 3 {
		t.Errorf("%d cold puts, want 3 (two failures, one success)", n)
	}
	e.wantSynced(f, data, true)
	if s := e.state(f.ID); s.Attempts != 3 || s.LastError != nil || s.LastAttemptAt == nil {
		t.Errorf("sync state %+v, want 3 attempts, no error left", s)
	}
}

// failKeyCold wraps the REAL cold tier and refuses every put of one key.
type failKeyCold struct {
	*storage.Cold
	key string
}

func (c failKeyCold) Put(ctx context.Context, key string, r io.Reader, size int64, o storage.PutOptions) (storage.ObjectInfo, error) {
	if key == c.key {
		return storage.ObjectInfo{}, errInjected
	}
	return c.Cold.Put(ctx, key, r, size, o)
}

func TestPermanentFailuresAreRecordedAndOthersProceed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	uid := e.user("perm@example.com")
	bad := e.seed(uid, "always-fails.bin", []byte("bad"))
	lost := e.seed(uid, "hot-copy-lost.bin", []byte("lost"))
	if err := e.app.Hot.Delete(context.Background(), lost.ObjectKey); err != nil {
		t.Fatal(err)
	}
	var good []core.File
	for i := range 3 {
		good = append(good, e.seed(uid, fmt.Sprintf("good%d", i), []byte{byte(i)}))
	}
	rep := mustRun(t, e.job(failKeyCold{e.app.Cold, bad.ObjectKey}, syncjob.Options{MaxRetries: 3}), context.Background())
	if rep.Synced != 3 || rep.Failed != 2 || rep.Left != 2 || rep.Status != syncjob.StatusPartial || len(rep.Errors) != 2 {
		t.Fatalf("report %+v, want 3 synced, 2 failed and left, partial", rep)
	}
	for i, f := range good {
		e.wantSynced(f, []byte{byte(i)}, true)
	}
	e.wantHot(bad, []byte("bad"))
	if s := e.state(bad.ID); s.Attempts != 3 || s.LastError == nil || !strings.Contains(*s.LastError, errInjected.Error()) {
		t.Errorf("failing file: state %+v, want 3 attempts and the error", s)
	}
	// A missing hot copy is not retried: no attempt can fix it.
	if s := e.state(lost.ID); s.Attempts != 1 || s.LastError == nil || !strings.Contains(*s.LastError, "hot copy is missing") {
		t.Errorf("lost file: state %+v, want 1 attempt and the error", s)
	}
	if got := e.row(lost); got.Location != core.TierHot {
		t.Errorf("lost file flipped to %s", got.Location)
	}
	// The next run retries the failures (and the recorded attempts add up).
	rep = mustRun(t, e.job(nil, syncjob.Options{}), context.Background())
	if rep.Synced != 1 || rep.Failed != 1 {
		t.Fatalf("second run %+v, want the formerly failing file synced and the lost one failed", rep)
	}
	e.wantSynced(bad, []byte("bad"), true)
	if s := e.state(bad.ID); s.Attempts != 4 {
		t.Errorf("attempts %d after the second run, want 4", s.Attempts)
	}
}

func TestConcurrentRunsMoveEachFileOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *config.Config) { c.SyncBatchSize = 10 })
	uid := e.user("many@example.com")
	var files []core.File
	for i := range 200 {
		files = append(files, e.seed(uid, fmt.Sprintf("small-%03d.txt", i), []byte(fmt.Sprintf("file %d", i))))
	}
	cold := newCountingCold(e.app.Cold, 0)
	var wg sync.WaitGroup
	reps := make([]syncjob.Report, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reps[i], errs[i] = e.job(cold, syncjob.Options{}).Run(context.Background())
		}()
	}
	wg.Wait()
	for i := range 2 {
		if errs[i] != nil {
			t.Fatalf("run %d: %v", i, errs[i])
		}
	}
	if reps[0].Synced+reps[1].Synced != 200 || reps[0].Failed+reps[1].Failed != 0 {
		t.Fatalf("runs synced %d + %d (failed %d + %d), want 200 in all", reps[0].Synced, reps[1].Synced, reps[0].Failed, reps[1].Failed)
	}
	if reps[0].Synced == 0 || reps[1].Synced == 0 {
		t.Logf("one run did all the work (%d, %d): the lock still held, but the overlap was small", reps[0].Synced, reps[1].Synced)
	}
	for i, f := range files {
		if n := cold.putsOf(f.ObjectKey); n != 1 {
			t.Errorf("file %d copied %d times, want once", f.ID, n)
		}
		if got := e.row(f); got.Location != core.TierCold {
			t.Errorf("file %d still in %s", f.ID, got.Location)
		}
		if i%50 == 0 {
			e.wantSynced(f, []byte(fmt.Sprintf("file %d", i)), true)
		}
	}
	if s := e.state(files[0].ID); s.Attempts != 1 {
		t.Errorf("attempts %d, want 1", s.Attempts)
	}
}

func wantBothSynced(e *env, f core.File, rep syncjob.Report) {
	if rep.Synced != 2 || rep.HotDeleted != 2 {
		e.tb.Errorf("recovery run %+v, want both files synced and their hot copies deleted", rep)
	}
}

// TestCrashAtEachStepBoundary cancels the run right after a step, as a
// crash would leave it, and checks the next run finishes with nothing lost.
func TestCrashAtEachStepBoundary(t *testing.T) {
	t.Parallel()
	errCrash := errors.New("simulated crash")
	tests := []struct {
		name  string
		hooks func(crash func(context.Context) error) syncjob.Hooks
		// after the crash: where the row is, whether a cold copy and a hot copy exist
		wantLoc     core.Tier
		wantHot     bool
		wantRecheck func(e *env, f core.File, rep syncjob.Report)
	}{
		{"after copy, before verify", func(crash func(context.Context) error) syncjob.Hooks {
			return syncjob.Hooks{AfterCopy: func(ctx context.Context, f core.File) error { return crash(ctx) }}
		}, core.TierHot, true, wantBothSynced},
		{"after verify, before commit", func(crash func(context.Context) error) syncjob.Hooks {
			return syncjob.Hooks{BeforeCommit: func(ctx context.Context, f core.File) error { return crash(ctx) }}
		}, core.TierHot, true, wantBothSynced},
		{"after commit, before hot delete", func(crash func(context.Context) error) syncjob.Hooks {
			return syncjob.Hooks{AfterCommit: func(ctx context.Context, f core.File) { crash(ctx) }}
		}, core.TierCold, true, func(e *env, f core.File, rep syncjob.Report) {
			if rep.Synced != 1 || rep.HotDeleted != 2 {
				t.Errorf("recovery run %+v, want the leftover hot copy deleted and only the other file synced", rep)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *config.Config) { c.DeleteFromMinioAfterSync = true })
			uid := e.user("crash@example.com")
			data := randomBytes(3 << 20)
			f := e.seed(uid, "crash.bin", data)
			other := e.seed(uid, "other.bin", []byte("other"))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			crashed := false
			crash := func(context.Context) error {
				if !crashed {
					crashed = true
					cancel()
				}
				return errCrash
			}
			j := e.jobWith(nil, syncjob.Options{DeleteHot: true}, syncjob.Knobs{Concurrency: 1, Hooks: tc.hooks(crash)})
			rep, err := j.Run(ctx)
			if err == nil || !crashed {
				t.Fatalf("crashed run: err %v, crashed %v (report %+v)", err, crashed, rep)
			}
			if got := e.row(f); got.Location != tc.wantLoc {
				t.Fatalf("after the crash the row says %s, want %s", got.Location, tc.wantLoc)
			}
			if !exists(t, e.app.Cold, f.ObjectKey) && tc.wantLoc == core.TierCold {
				t.Fatal("row says s3 but the cold copy is missing")
			}
			if h := exists(t, e.app.Hot, f.ObjectKey); h != tc.wantHot {
				t.Fatalf("hot copy exists=%v after the crash, want %v", h, tc.wantHot)
			}
			cold := newCountingCold(e.app.Cold, 0)
			rep = mustRun(t, e.job(cold, syncjob.Options{DeleteHot: true}), context.Background())
			e.wantSynced(f, data, false)
			e.wantSynced(other, []byte("other"), false)
			if s := e.state(f.ID); s.HotDeletedAt == nil {
				t.Error("hot_deleted_at not recorded")
			}
			if tc.wantLoc == core.TierHot && cold.putsOf(f.ObjectKey) != 1 {
				t.Errorf("recovery copied the file %d times, want once", cold.putsOf(f.ObjectKey))
			}
			if rep.Left != 0 || rep.Failed != 0 {
				t.Errorf("recovery run %+v", rep)
			}
			if tc.wantRecheck != nil {
				tc.wantRecheck(e, f, rep)
			}
		})
	}
}

func TestColdTierUnreachableChangesNoRow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	uid := e.user("down@example.com")
	data := []byte("stay hot")
	files := []core.File{e.seed(uid, "a.txt", data), e.seed(uid, "b.txt", data)}
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	dead, err := storage.NewCold(context.Background(), storage.ColdOptions{
		Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), AccessKeyID: "minioadmin", SecretKey: "minioadmin",
		Region: "us-east-1", Bucket: e.cfg.Cold.Bucket,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep := mustRun(t, e.job(dead, syncjob.Options{MaxRetries: 2}), ctx)
	if rep.Synced != 0 || rep.Failed != 2 || rep.Left != 2 || rep.Status != syncjob.StatusFailed {
		t.Fatalf("report %+v, want both failed, status failed", rep)
	}
	for _, f := range files {
		e.wantHot(f, data)
		if exists(t, e.app.Cold, f.ObjectKey) {
			t.Errorf("file %d: object in the (real) cold bucket", f.ID)
		}
		if s := e.state(f.ID); s.Attempts != 2 || s.LastError == nil || s.LastAttemptAt == nil {
			t.Errorf("file %d: state %+v, want 2 attempts and the error", f.ID, s)
		}
	}
	run, err := e.app.DB.LastSyncRun(context.Background())
	if err != nil || run == nil || run.Status != syncjob.StatusFailed || run.Failed != 2 || run.ErrorSummary == nil {
		t.Errorf("recorded run %+v, %v", run, err)
	}
}

func TestCorruptedColdCopyIsNotFlipped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	uid := e.user("corrupt@example.com")
	data := randomBytes(20 << 10)
	f := e.seed(uid, "corrupt.bin", data)
	good := e.seed(uid, "fine.bin", []byte("fine"))
	corrupted := 0
	j := e.jobWith(nil, syncjob.Options{MaxRetries: 2}, syncjob.Knobs{Hooks: syncjob.Hooks{AfterCopy: func(ctx context.Context, cf core.File) error {
		if cf.ID != f.ID {
			return nil
		}
		corrupted++
		evil := bytes.Clone(data)
		evil[100] ^= 0xff // same size, different bytes
		_, err := e.app.Cold.Put(ctx, cf.ObjectKey, bytes.NewReader(evil), int64(len(evil)), storage.PutOptions{})
		return err
	}}})
	rep := mustRun(t, j, context.Background())
	if rep.Synced != 1 || rep.Failed != 1 || len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0].Error, syncjob.ErrChecksumMismatch.Error()) {
		t.Fatalf("report %+v, want the corrupted file reported as a checksum mismatch", rep)
	}
	if corrupted != 2 {
		t.Errorf("corrupted %d copies, want 2 (one per attempt)", corrupted)
	}
	e.wantHot(f, data)
	if exists(t, e.app.Cold, f.ObjectKey) {
		t.Error("the bad cold copy was left behind")
	}
	e.wantSynced(good, []byte("fine"), true)
}

func TestDeleteFromMinioAfterSync(t *testing.T) {
	t.Parallel()
	for _, del := range []bool{false, true} {
		t.Run(fmt.Sprint(del), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *config.Config) { c.DeleteFromMinioAfterSync = del })
			uid := e.user("del@example.com")
			f := e.seed(uid, "a.txt", []byte("abc"))
			rep, err := e.app.Sync.RunExclusive(context.Background(), "test")
			if err != nil {
				t.Fatal(err)
			}
			e.wantSynced(f, []byte("abc"), !del)
			if s := e.state(f.ID); (s.HotDeletedAt != nil) != del {
				t.Errorf("hot_deleted_at %v, want set=%v", s.HotDeletedAt, del)
			}
			if want := map[bool]int{false: 0, true: 1}[del]; rep.HotDeleted != want {
				t.Errorf("report hot_deleted %d, want %d", rep.HotDeleted, want)
			}
			if del {
				return
			}
			// Switching the setting on later removes the hot copies then.
			rep = mustRun(t, e.job(nil, syncjob.Options{DeleteHot: true}), context.Background())
			if rep.HotDeleted != 1 || exists(t, e.app.Hot, f.ObjectKey) {
				t.Errorf("report %+v: hot copy not cleaned up after turning deletion on", rep)
			}
		})
	}
}

// stepClock is a clock that moves forward by step each time OnClaim fires.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestDeadlineStopsClaimingAndTheNextRunFinishes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	uid := e.user("deadline@example.com")
	var files []core.File
	for i := range 6 {
		files = append(files, e.seed(uid, fmt.Sprintf("d%d", i), []byte{byte(i)}))
	}
	// Budget one hour, margin ten minutes: each claim "takes" 20 minutes,
	// so the job claims at 0, 20 and 40 minutes and then stops.
	clock := &stepClock{now: time.Now()}
	ctx, cancel := context.WithDeadline(context.Background(), clock.Now().Add(time.Hour))
	defer cancel()
	claims := 0
	j := e.jobWith(nil, syncjob.Options{BatchSize: 2, StopMargin: 10 * time.Minute}, syncjob.Knobs{
		Clock: clock, Concurrency: 1,
		Hooks: syncjob.Hooks{OnClaim: func(int, core.File) { claims++; clock.advance(20 * time.Minute) }},
	})
	rep := mustRun(t, j, ctx)
	if claims != 3 || rep.Synced != 3 || rep.Left != 3 || !rep.StoppedEarly || rep.Status != syncjob.StatusPartial {
		t.Fatalf("%d claims, report %+v; want 3 claimed and synced, 3 left, stopped early", claims, rep)
	}
	rep = mustRun(t, e.job(nil, syncjob.Options{}), context.Background())
	if rep.Synced != 3 || rep.Left != 0 {
		t.Fatalf("next run %+v, want the other 3 synced", rep)
	}
	for i, f := range files {
		e.wantSynced(f, []byte{byte(i)}, true)
	}
}

// A DELETE of a file the job is copying answers 204 at once (the job holds
// a lease, not a row lock) and removes the row and both tiers' objects;
// the job then meets no row (a failed hot read, a failed HEAD, or its
// fenced flip) and removes the cold copy it wrote: no orphan in either
// tier, nothing counted as synced or failed.
func TestOwnerDeletesFileMidMigration(t *testing.T) {
	t.Parallel()
	for _, step := range []string{"before the copy", "during the copy", "after the copy", "before the flip", "before a failed flip"} {
		t.Run(step, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *config.Config) { c.TrashRetentionDays = 0 }) // DELETE purges at once
			uid := e.user("owner@example.com")
			c := e.api(uid)
			f := e.seed(uid, "doomed.bin", randomBytes(1<<20))
			var once sync.Once
			del := func() {
				once.Do(func() {
					start := time.Now()
					status, body := c.deleteWithin(f.ID, 5*time.Second)
					if took := time.Since(start); took > time.Second {
						t.Errorf("DELETE during the move took %v, want under a second", took)
					}
					if status != 204 {
						t.Errorf("DELETE during the move: %d %s, want 204", status, body)
					}
				})
			}
			var hooks syncjob.Hooks
			switch step {
			case "before the copy":
				hooks.OnClaim = func(int, core.File) { del() }
			case "during the copy": // the put ends after the DELETE
				hooks.ColdBody = func(_ core.File, r io.Reader) io.Reader { return &beforeRead{r: r, fn: del} }
			case "after the copy":
				hooks.AfterCopy = func(context.Context, core.File) error { del(); return nil }
			case "before the flip":
				hooks.BeforeCommit = func(context.Context, core.File) error { del(); return nil }
			default:
				hooks.BeforeCommit = func(context.Context, core.File) error {
					del()
					return errors.New("injected failure after the copy")
				}
			}
			cold := newCountingCold(e.app.Cold, 0)
			rep := mustRun(t, e.jobWith(cold, syncjob.Options{MaxRetries: 2}, syncjob.Knobs{Hooks: hooks}), context.Background())
			if rep.Synced != 0 || rep.Failed != 0 || rep.Left != 0 {
				t.Fatalf("report %+v, want nothing synced, failed or left", rep)
			}
			if n := cold.putsOf(f.ObjectKey); step != "before the copy" && n != 1 {
				t.Errorf("%d cold puts, want 1 (no retry of a deleted file)", n)
			}
			if exists(t, e.app.Hot, f.ObjectKey) || exists(t, e.app.Cold, f.ObjectKey) {
				t.Fatalf("orphan left: hot=%v cold=%v", exists(t, e.app.Hot, f.ObjectKey), exists(t, e.app.Cold, f.ObjectKey))
			}
			if _, err := e.app.DB.SyncStateOf(context.Background(), f.ID); err == nil {
				t.Error("the row survived the delete")
			}
			if !strings.Contains(e.log.String(), `"result":"gone"`) {
				t.Errorf("no \"gone\" result logged:\n%s", e.log.String())
			}
		})
	}
}

// beforeRead calls fn before the first read of r.
type beforeRead struct {
	r    io.Reader
	fn   func()
	once sync.Once
}

func (b *beforeRead) Read(p []byte) (int, error) {
	b.once.Do(b.fn)
	return b.r.Read(p)
}

// deleteWithin DELETEs file id, giving up after timeout (then the status
// is 0 and the body the error). It may run on any goroutine.
func (c *api) deleteWithin(id int64, timeout time.Duration) (status int, body string) {
	req, _ := http.NewRequest("DELETE", fmt.Sprintf("%s/api/files/%d", c.srv.URL, id), nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := (&http.Client{Timeout: timeout}).Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRunExclusiveRefusesASecondRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	// A run that died without finishing (a killed process) stays "running"
	// until the next exclusive run closes it.
	dead, _, err := e.app.DB.StartSyncRun(context.Background(), "schedule")
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := e.app.DB.LockSync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.Sync.RunExclusive(context.Background(), "test"); !errors.Is(err, syncjob.ErrRunning) {
		t.Fatalf("RunExclusive while locked: %v, want ErrRunning", err)
	}
	unlock()
	if _, err := e.app.Sync.RunExclusive(context.Background(), "test"); err != nil {
		t.Fatalf("RunExclusive after unlock: %v", err)
	}
	runs, err := e.app.DB.RecentSyncRuns(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for _, r := range runs {
		statuses = append(statuses, r.Status)
		if r.ID == dead && (r.Status != syncjob.StatusFailed || r.FinishedAt == nil || r.ErrorSummary == nil) {
			t.Errorf("the dead run is %+v, want failed and finished", r)
		}
	}
	if len(runs) != 2 || runs[0].Status != syncjob.StatusSucceeded {
		t.Errorf("runs %v, want the test run succeeded and the dead one failed", statuses)
	}
}
