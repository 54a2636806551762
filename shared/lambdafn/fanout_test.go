package lambdafn_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/hybrid-storage/hybrid-storage/shared/app"
	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/lambdafn"
	"github.com/hybrid-storage/hybrid-storage/shared/maintenance"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
	"github.com/hybrid-storage/hybrid-storage/shared/queue"
	"github.com/hybrid-storage/hybrid-storage/shared/storage"
	"github.com/hybrid-storage/hybrid-storage/shared/syncjob"
	"github.com/hybrid-storage/hybrid-storage/shared/testenv"
	"github.com/hybrid-storage/hybrid-storage/shared/testenv/lambdagw"
)

// fanoutEnv is a real database, real buckets and a real SQS queue (goaws).
type fanoutEnv struct {
	t     *testing.T
	cfg   config.Config
	app   *app.App
	q     *queue.SQS
	esm   *testenv.ESM
	files []core.File
}

func newFanoutEnv(t *testing.T, visibility time.Duration, edit func(*config.Config)) *fanoutEnv {
	t.Helper()
	cfg := testenv.Config(t)
	q := testenv.Queue(t, &cfg, visibility)
	if edit != nil {
		edit(&cfg)
	}
	a := testenv.App(t, cfg)
	return &fanoutEnv{t: t, cfg: cfg, app: a, q: q, esm: testenv.NewESM(t, q, cfg.SyncQueueURL)}
}

// seed puts n files in the hot tier with their rows, as uploads do.
func (e *fanoutEnv) seed(n int) {
	e.t.Helper()
	ctx := context.Background()
	u, err := e.app.DB.CreateUser(ctx, fmt.Sprintf("fanout-%d@example.com", len(e.files)), "x")
	if err != nil {
		e.t.Fatal(err)
	}
	for i := range n {
		data := []byte(fmt.Sprintf("fan-out file %d of user %d", i, u.ID))
		sum := sha256.Sum256(data)
		key := fmt.Sprintf("user-%d/%04d-f.txt", u.ID, i)
		f := core.File{UserID: u.ID, Filename: "f.txt", OriginalFilename: "f.txt", Size: int64(len(data)), ContentType: "text/plain",
			Location: core.TierHot, ObjectKey: key, AccessURL: e.app.Hot.URL(key), ChecksumSHA256: hex.EncodeToString(sum[:])}
		if _, err := e.app.Hot.Put(ctx, key, bytes.NewReader(data), f.Size, storage.PutOptions{}); err != nil {
			e.t.Fatal(err)
		}
		if err := e.app.DB.CreateFile(ctx, &f); err != nil {
			e.t.Fatal(err)
		}
		e.files = append(e.files, f)
	}
}

// fanout is the fan-out of a job with the configured options, but for the
// ones opt sets, over cold (nil: the real cold tier).
func (e *fanoutEnv) fanout(cold syncjob.ColdTier, opt syncjob.Options) *syncjob.Fanout {
	o := app.SyncOptions(e.cfg)
	if opt.BatchSize != 0 {
		o.BatchSize = opt.BatchSize
	}
	o.StopMargin = opt.StopMargin
	if cold == nil {
		cold = e.app.Cold
	}
	j := syncjob.New(e.app.DB, e.app.Hot, cold, slog.New(slog.DiscardHandler), o)
	return syncjob.NewFanout(j, e.app.DB, e.q, e.cfg.SyncWorkers)
}

// slowCold is the real cold tier taking at least delay for each put.
type slowCold struct {
	*storage.Cold
	delay time.Duration
}

func (c slowCold) Put(ctx context.Context, key string, r io.Reader, size int64, o storage.PutOptions) (storage.ObjectInfo, error) {
	time.Sleep(c.delay)
	return c.Cold.Put(ctx, key, r, size, o)
}

func (e *fanoutEnv) run(id int64) postgres.SyncRun {
	e.t.Helper()
	runs, err := e.app.DB.RecentSyncRuns(context.Background(), 100)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range runs {
		if r.ID == id {
			return r
		}
	}
	e.t.Fatalf("run %d not recorded", id)
	return postgres.SyncRun{}
}

func (e *fanoutEnv) wantAllSynced() {
	e.t.Helper()
	for _, f := range e.files {
		got, err := e.app.DB.FileForUser(context.Background(), f.UserID, f.ID)
		if err != nil || got.Location != core.TierCold {
			e.t.Errorf("file %d: %s, %v; want it in s3", f.ID, got.Location, err)
			continue
		}
		s, err := e.app.DB.SyncStateOf(context.Background(), f.ID)
		if err != nil || s.Attempts != 1 {
			e.t.Errorf("file %d: %d attempts (%v), want 1: moved once", f.ID, s.Attempts, err)
		}
	}
}

// pump is the event source mapping: at most concurrency invocations at
// once, one message each (batch size 1), each invocation with budget as
// its deadline, until the run is closed and the queue is empty, or three
// minutes have passed. invoke gets the event as the mapping sends it (JSON)
// and returns the function's JSON answer. It returns how many
// invocations ran.
func (e *fanoutEnv) pump(runID int64, concurrency int, invoke func(ctx context.Context, event []byte) []byte) int {
	e.t.Helper()
	var invocations atomic.Int64
	var wg sync.WaitGroup
	stop := time.Now().Add(3 * time.Minute)
	for range concurrency {
		wg.Go(func() {
			for time.Now().Before(stop) {
				ctx := context.Background()
				ev, err := e.esm.Receive(ctx, 1, 0)
				if err != nil {
					e.t.Error(err)
					return
				}
				if len(ev.Records) == 0 {
					if r := e.run(runID); r.Status != "running" {
						return
					}
					time.Sleep(50 * time.Millisecond)
					continue
				}
				raw, err := json.Marshal(ev)
				if err != nil {
					e.t.Error(err)
					return
				}
				invocations.Add(1)
				out := invoke(ctx, raw)
				var resp events.SQSEventResponse
				if err := json.Unmarshal(out, &resp); err != nil {
					e.t.Errorf("worker answered %s: %v", out, err)
					return
				}
				if err := e.esm.Ack(ctx, ev, resp); err != nil {
					e.t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return int(invocations.Load())
}

// inProcess invokes handler through the Lambda runtime's own JSON decoding
// (lambda.NewHandler), with budget as the invocation's deadline.
func inProcess(handler any, budget time.Duration) func(context.Context, []byte) []byte {
	h := lambda.NewHandler(handler)
	return func(ctx context.Context, event []byte) []byte {
		ctx, cancel := context.WithTimeout(ctx, budget)
		defer cancel()
		out, err := h.Invoke(ctx, event)
		if err != nil {
			return []byte(fmt.Sprintf(`{"invoke_error":%q}`, err.Error()))
		}
		return out
	}
}

func scheduledEvent(t *testing.T) events.EventBridgeEvent {
	t.Helper()
	raw, err := os.ReadFile("testdata/eventbridge-scheduled-event.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// noMaintenance is a maintenance that does nothing.
type noMaintenance struct{}

func (noMaintenance) Run(context.Context) maintenance.Report { return maintenance.Report{} }

// The whole night on the fan-out: the dispatcher opens one run and sends
// SYNC_WORKERS tickets; three workers at once (the mapping's
// MaximumConcurrency) claim leases until their short budget is nearly
// spent and pass the rest on to successor tickets; the last one closes the
// run. Every file is moved once, and the run is one row with the totals.
func TestFanoutMovesEverythingOnceInOneRun(t *testing.T) {
	t.Parallel()
	e := newFanoutEnv(t, 30*time.Second, func(c *config.Config) { c.SyncWorkers = 3; c.SyncBatchSize = 4 })
	e.seed(60)
	// Each file takes at least 200 ms, so a ticket's 20 files take 2 s:
	// more than an invocation's claiming time.
	slow := slowCold{e.app.Cold, 200 * time.Millisecond}
	// A budget of 6 s, of which the last 5 s are the stop margin: each
	// invocation claims for 1 s, then finishes what it holds (well within
	// the margin, even on a loaded machine) and hands over.
	f := e.fanout(slow, syncjob.Options{BatchSize: 4, StopMargin: 5 * time.Second})
	d, err := lambdafn.DispatchHandler(f, noMaintenance{}, slog.New(slog.DiscardHandler))(context.Background(), scheduledEvent(t))
	if err != nil || d.Skipped || len(d.Tickets) != 3 || d.Pending != 60 {
		t.Fatalf("dispatch %+v, %v; want 3 tickets for 60 pending files", d, err)
	}
	// A second dispatch while the run's workers go is skipped, and so is an
	// exclusive (inline) run such as POST /api/sync/run.
	if d2, err := f.Dispatch(context.Background(), "schedule"); err != nil || !d2.Skipped {
		t.Errorf("second dispatch %+v, %v; want skipped", d2, err)
	}
	if _, err := e.app.Sync.RunExclusive(context.Background(), "api"); err != syncjob.ErrRunning {
		t.Errorf("inline run during the fan-out: %v, want ErrRunning", err)
	}
	n := e.pump(d.RunID, 3, inProcess(lambdafn.WorkerHandler(f, slog.New(slog.DiscardHandler)), 6*time.Second))
	r := e.run(d.RunID)
	if r.Status != syncjob.StatusSucceeded || r.Synced != 60 || r.Failed != 0 || r.Left != 0 || r.FinishedAt == nil || r.Trigger != "schedule" {
		summary := ""
		if r.ErrorSummary != nil {
			summary = *r.ErrorSummary
		}
		t.Fatalf("run %+v (errors: %s), want one succeeded run of 60 files", r, summary)
	}
	var size int64
	for _, f := range e.files {
		size += f.Size
	}
	if r.Bytes != size || r.Workers != n || r.Workers <= 3 || r.Batches < 15 {
		t.Errorf("run %+v after %d invocations, want %d bytes, a worker per invocation, successors (more than 3) and 15+ batches",
			r, n, size)
	}
	e.wantAllSynced()
	runs, _ := e.app.DB.RecentSyncRuns(context.Background(), 10)
	if len(runs) != 1 {
		t.Errorf("%d runs recorded, want 1", len(runs))
	}
	// /api/sync/status sees the night as one run.
	last, err := e.app.DB.LastSyncRunForUser(context.Background(), e.files[0].UserID)
	if err != nil || last == nil || last.Status != syncjob.StatusSucceeded || last.Synced != 60 {
		t.Errorf("last run for the user %+v, %v; want succeeded with 60 synced", last, err)
	}
	// Now a new night may start.
	if d3, err := f.Dispatch(context.Background(), "schedule"); err != nil || d3.Skipped || d3.Pending != 0 {
		t.Errorf("dispatch after the run %+v, %v; want a new run", d3, err)
	}
}

// A worker that dies mid-run (its invocation never answers: Lambda's
// timeout or a crash) leaves its message undeleted and its leases behind;
// SQS delivers the ticket again after the visibility timeout, which is far
// longer than a lease (6× the worker's timeout against 2 minutes; here 2 s
// against 1 s), so the next worker takes the expired leases over. A ticket
// delivered again after it was done is skipped. Each file is moved once
// and the run closes with all of them.
func TestFanoutWorkerDeathAndDuplicateDelivery(t *testing.T) {
	t.Parallel()
	e := newFanoutEnv(t, 2*time.Second, func(c *config.Config) { c.SyncWorkers = 1; c.SyncBatchSize = 5 })
	e.seed(8)
	f := e.fanout(nil, syncjob.Options{BatchSize: 5})
	ctx := context.Background()
	d, err := f.Dispatch(ctx, "schedule")
	if err != nil || len(d.Tickets) != 1 {
		t.Fatalf("dispatch %+v, %v", d, err)
	}
	first, err := e.esm.Receive(ctx, 1, time.Second)
	if err != nil || len(first.Records) != 1 {
		t.Fatalf("receive: %v, %d records", err, len(first.Records))
	}
	// The first delivery's worker dies holding five leases: it started the
	// ticket, claimed under its owner, and never answers.
	if ok, err := e.app.DB.StartTicket(ctx, d.RunID, "t1"); !ok || err != nil {
		t.Fatalf("start ticket: %v %v", ok, err)
	}
	held, err := e.app.DB.ClaimSyncBatch(ctx, fmt.Sprintf("run-%d/t1-dead", d.RunID), 5, time.Second)
	if err != nil || len(held) != 5 {
		t.Fatalf("claim: %d, %v", len(held), err)
	}
	var again events.SQSEvent
	for deadline := time.Now().Add(10 * time.Second); len(again.Records) == 0 && time.Now().Before(deadline); {
		if again, err = e.esm.Receive(ctx, 1, time.Second); err != nil {
			t.Fatal(err)
		}
	}
	// (goaws v0.5.4 reports ApproximateReceiveCount 1 on every delivery,
	// so the test compares the message itself.)
	if len(again.Records) != 1 || again.Records[0].MessageId != first.Records[0].MessageId ||
		again.Records[0].ReceiptHandle == first.Records[0].ReceiptHandle {
		t.Fatalf("redelivery %+v, want the same message delivered again", again.Records)
	}
	worker := inProcess(lambdafn.WorkerHandler(f, slog.New(slog.DiscardHandler)), 30*time.Second)
	raw, _ := json.Marshal(again)
	out := worker(ctx, raw)
	var resp events.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("worker answered %s", out)
	}
	if err := e.esm.Ack(ctx, again, resp); err != nil {
		t.Fatal(err)
	}
	r := e.run(d.RunID)
	if r.Status != syncjob.StatusSucceeded || r.Synced != 8 || r.Left != 0 || r.Workers != 1 {
		t.Fatalf("run %+v, want the redelivered ticket's worker to have moved all 8 files", r)
	}
	e.wantAllSynced()
	// The same ticket once more (a duplicate delivery): done, skipped.
	wk, err := f.Work(ctx, syncjob.Ticket{RunID: d.RunID, Ticket: "t1"})
	if err != nil || !wk.Skipped {
		t.Errorf("duplicate ticket %+v, %v; want skipped", wk, err)
	}
	if r2 := e.run(d.RunID); r2.Workers != 1 || r2.Synced != 8 {
		t.Errorf("run after the duplicate %+v, want it unchanged", r2)
	}
}

// The real bootstraps under the Lambda Runtime Interface Emulator: the
// dispatcher gets the recorded EventBridge event, the worker the queue's
// messages as the event source mapping's events.SQSEvent JSON; a message
// that is no ticket is reported in batchItemFailures.
func TestFanoutFunctionsUnderRuntimeInterfaceEmulator(t *testing.T) {
	t.Parallel()
	e := newFanoutEnv(t, 30*time.Second, func(c *config.Config) { c.SyncWorkers = 2; c.SyncBatchSize = 3 })
	e.seed(9)
	dispatch := lambdagw.StartRIE(t, "sync-dispatch", e.cfg)
	worker := lambdagw.StartRIE(t, "sync-worker", e.cfg)
	post := func(url string, body []byte) []byte {
		t.Helper()
		resp, err := http.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return b
	}
	raw, err := os.ReadFile("testdata/eventbridge-scheduled-event.json")
	if err != nil {
		t.Fatal(err)
	}
	var d syncjob.Dispatched
	if b := post(dispatch, raw); json.Unmarshal(b, &d) != nil || d.RunID == 0 || len(d.Tickets) != 2 || d.Pending != 9 {
		t.Fatalf("dispatcher under RIE answered %s", b)
	}
	if err := e.q.Send(context.Background(), []string{`{"not":"a ticket"}`}); err != nil {
		t.Fatal(err)
	}
	var failures atomic.Int64
	e.pump(d.RunID, 1, func(_ context.Context, event []byte) []byte {
		b := post(worker, event)
		if bytes.Contains(b, []byte(`"itemIdentifier"`)) {
			failures.Add(1)
			var ev events.SQSEvent
			_ = json.Unmarshal(event, &ev)
			if !strings.Contains(ev.Records[0].Body, "not") {
				t.Errorf("worker under RIE failed a ticket: %s", b)
			}
			// As if it went to the dead-letter queue: the test drops it.
			return []byte(`{"batchItemFailures":[]}`)
		}
		return b
	})
	if failures.Load() != 1 {
		t.Errorf("%d records failed, want the one that is no ticket", failures.Load())
	}
	if r := e.run(d.RunID); r.Status != syncjob.StatusSucceeded || r.Synced != 9 || r.Workers < 2 {
		t.Errorf("run %+v, want 9 synced by 2 workers", r)
	}
	e.wantAllSynced()
}

// A dispatcher that cannot send its tickets closes the run it opened as
// failed, with the reason, and a later dispatch goes ahead.
func TestFanoutDispatchThatCannotSend(t *testing.T) {
	t.Parallel()
	e := newFanoutEnv(t, 30*time.Second, nil)
	e.seed(2)
	bad, err := queue.New(context.Background(), queue.Options{URL: e.cfg.SyncQueueURL + "-missing", Endpoint: e.cfg.SQSEndpoint,
		Region: "us-east-1", AccessKeyID: "x", SecretKey: "x"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := syncjob.NewFanout(e.app.Sync, e.app.DB, bad, 4).Dispatch(context.Background(), "schedule")
	if err == nil {
		t.Fatalf("dispatch to a missing queue: %+v, want an error", d)
	}
	r := e.run(d.RunID)
	if r.Status != syncjob.StatusFailed || r.FinishedAt == nil || r.ErrorSummary == nil || !strings.Contains(*r.ErrorSummary, "send tickets") {
		t.Errorf("run %+v, want it closed failed with the reason", r)
	}
	if d2, err := e.fanout(nil, syncjob.Options{}).Dispatch(context.Background(), "schedule"); err != nil || d2.Skipped {
		t.Errorf("next dispatch %+v, %v", d2, err)
	}
}
