package lambdafn_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/hybrid-storage/hybrid-storage/shared/app"
	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/lambdafn"
	"github.com/hybrid-storage/hybrid-storage/shared/storage"
	"github.com/hybrid-storage/hybrid-storage/shared/testenv"
	"github.com/hybrid-storage/hybrid-storage/shared/testenv/lambdagw"
)

const operatorToken = "operator-token-for-tests-0123456789"

// syncApp is an app with an operator token and one file waiting in the hot tier.
func syncApp(tb testing.TB) (*app.App, core.File, func(context.Context, json.RawMessage) (any, error)) {
	tb.Helper()
	cfg := testenv.Config(tb)
	cfg.SyncTriggerToken = operatorToken
	a := testenv.App(tb, cfg)
	ctx := context.Background()
	u, err := a.DB.CreateUser(ctx, "sync-lambda@example.com", "x")
	if err != nil {
		tb.Fatal(err)
	}
	data := []byte("nightly bytes")
	sum := sha256.Sum256(data)
	f := core.File{UserID: u.ID, Filename: "n.txt", OriginalFilename: "n.txt", Size: int64(len(data)), ContentType: "text/plain",
		Location: core.TierHot, ObjectKey: "user-1/0000-n.txt", AccessURL: a.Hot.URL("user-1/0000-n.txt"), ChecksumSHA256: hex.EncodeToString(sum[:])}
	if _, err := a.Hot.Put(ctx, f.ObjectKey, bytes.NewReader(data), f.Size, storage.PutOptions{}); err != nil {
		tb.Fatal(err)
	}
	if err := a.DB.CreateFile(ctx, &f); err != nil {
		tb.Fatal(err)
	}
	return a, f, lambdafn.SyncHandler(a.Sync, a.API.Handler("sync"), slog.New(slog.DiscardHandler))
}

// call invokes the handler with raw JSON, as the runtime does (with a
// deadline), and returns the result as JSON.
func call(tb testing.TB, h func(context.Context, json.RawMessage) (any, error), raw []byte) ([]byte, error) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := h(ctx, raw)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(out)
	if err != nil {
		tb.Fatal(err)
	}
	return b, nil
}

func TestSyncFunctionScheduledEvent(t *testing.T) {
	t.Parallel()
	a, f, h := syncApp(t)
	raw, err := os.ReadFile("testdata/eventbridge-scheduled-event.json")
	if err != nil {
		t.Fatal(err)
	}
	b, err := call(t, h, raw)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Skipped bool `json:"skipped"`
		Report  struct {
			Synced  int    `json:"synced"`
			Trigger string `json:"trigger"`
		} `json:"report"`
	}
	if json.Unmarshal(b, &res) != nil || res.Skipped || res.Report.Synced != 1 || res.Report.Trigger != "schedule" {
		t.Fatalf("scheduled run answered %s, want one file synced by the schedule", b)
	}
	got, err := a.DB.FileForUser(context.Background(), f.UserID, f.ID)
	if err != nil || got.Location != core.TierCold {
		t.Fatalf("row %+v %v, want it in s3", got, err)
	}
	run, err := a.DB.LastSyncRun(context.Background())
	if err != nil || run == nil || run.Trigger != "schedule" || run.Synced != 1 {
		t.Errorf("recorded run %+v %v", run, err)
	}
	// While another run holds the lock, the schedule skips quietly.
	unlock, err := a.DB.LockSync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	b, err = call(t, h, raw)
	if err != nil || !strings.Contains(string(b), `"skipped":true`) {
		t.Errorf("scheduled run while locked: %s %v, want skipped", b, err)
	}
}

func TestSyncFunctionAPIGatewayEvent(t *testing.T) {
	t.Parallel()
	a, f, h := syncApp(t)
	userToken := testenv.UserToken(t, a, f.UserID)
	apigw := func(token string) events.APIGatewayV2HTTPResponse {
		t.Helper()
		b, err := call(t, h, event(t, "POST", "/api/sync/run", "", token, "", nil, false))
		if err != nil {
			t.Fatal(err)
		}
		var resp events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(b, &resp); err != nil {
			t.Fatal(err)
		}
		return resp
	}
	for _, tok := range []string{"", userToken, "not-the-operator-token-at-all"} {
		if r := apigw(tok); r.StatusCode != 401 || !strings.Contains(r.Body, `"UNAUTHORIZED"`) {
			t.Errorf("token %.10q: %d %s, want 401", tok, r.StatusCode, r.Body)
		}
	}
	if got, _ := a.DB.FileForUser(context.Background(), f.UserID, f.ID); got.Location != core.TierHot {
		t.Fatal("a refused trigger moved the file")
	}
	r := apigw(operatorToken)
	var rep struct {
		Synced  int    `json:"synced"`
		Trigger string `json:"trigger"`
	}
	if r.StatusCode != 200 || json.Unmarshal([]byte(r.Body), &rep) != nil || rep.Synced != 1 || rep.Trigger != "api" {
		t.Fatalf("operator trigger: %d %s", r.StatusCode, r.Body)
	}
	// Anything else is refused.
	if _, err := call(t, h, []byte(`{"hello":"world"}`)); err == nil {
		t.Error("an unknown event was accepted")
	}
	if _, err := call(t, h, []byte(`[1,2]`)); err == nil || errors.Is(err, context.Canceled) {
		t.Errorf("a non-object event: %v", err)
	}
}

// TestSyncFunctionUnderRuntimeInterfaceEmulator runs the real sync
// bootstrap under the Lambda Runtime Interface Emulator and sends it the
// recorded scheduled event, then an API Gateway event: the raw-JSON handler
// must be accepted by lambda.Start and dispatch both.
func TestSyncFunctionUnderRuntimeInterfaceEmulator(t *testing.T) {
	t.Parallel()
	a, f, _ := syncApp(t)
	url := lambdagw.StartRIE(t, "sync", a.Config, "SYNC_TRIGGER_TOKEN="+operatorToken)
	invoke := func(ev []byte) []byte {
		t.Helper()
		resp, err := http.Post(url, "application/json", bytes.NewReader(ev))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return b
	}
	scheduled, err := os.ReadFile("testdata/eventbridge-scheduled-event.json")
	if err != nil {
		t.Fatal(err)
	}
	if b := invoke(scheduled); !strings.Contains(string(b), `"synced":1`) || !strings.Contains(string(b), `"trigger":"schedule"`) {
		t.Fatalf("scheduled event under RIE answered %s", b)
	}
	if got, err := a.DB.FileForUser(context.Background(), f.UserID, f.ID); err != nil || got.Location != core.TierCold {
		t.Fatalf("after the scheduled run: %+v %v", got, err)
	}
	var resp events.APIGatewayV2HTTPResponse
	b := invoke(event(t, "POST", "/api/sync/run", "", operatorToken, "", nil, false))
	if err := json.Unmarshal(b, &resp); err != nil || resp.StatusCode != 200 || !strings.Contains(resp.Body, `"trigger":"api"`) {
		t.Fatalf("API Gateway event under RIE answered %s", b)
	}
	b = invoke(event(t, "POST", "/api/sync/run", "", "wrong-token-wrong-token", "", nil, false))
	if err := json.Unmarshal(b, &resp); err != nil || resp.StatusCode != 401 {
		t.Fatalf("wrong token under RIE answered %s", b)
	}
}

// On AWS the nightly run is the trash's sweep: the real sync bootstrap,
// given the scheduled event, purges a trashed file past its purge_at
// (objects, then the row) and finishes an interrupted account deletion,
// and leaves a file still within its time in the trash.
func TestScheduledSyncPurgesExpiredTrash(t *testing.T) {
	t.Parallel()
	a, f, _ := syncApp(t)
	ctx := context.Background()
	keep := f
	keep.ID, keep.ObjectKey, keep.Filename, keep.OriginalFilename = 0, "user-1/0001-keep.txt", "keep.txt", "keep.txt"
	if _, err := a.Hot.Put(ctx, keep.ObjectKey, strings.NewReader("nightly bytes"), f.Size, storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := a.DB.CreateFile(ctx, &keep); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{f.ID, keep.ID} {
		if _, err := a.DB.TrashFile(ctx, f.UserID, id, 30*24*time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.DB.Pool.Exec(ctx, `UPDATE files SET purge_at = now() - interval '1 minute' WHERE id = $1`, f.ID); err != nil {
		t.Fatal(err)
	}
	leaver, err := a.DB.CreateUser(ctx, "leaver@example.com", "x")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.DB.MarkUserDeleting(ctx, leaver.ID); err != nil {
		t.Fatal(err)
	}
	url := lambdagw.StartRIE(t, "sync", a.Config, "SYNC_TRIGGER_TOKEN="+operatorToken)
	scheduled, err := os.ReadFile("testdata/eventbridge-scheduled-event.json")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(url, "application/json", bytes.NewReader(scheduled))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"trigger":"schedule"`) {
		t.Fatalf("scheduled event answered %s", b)
	}
	if _, err := a.Hot.Stat(ctx, f.ObjectKey); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("expired file's hot object: %v, want gone", err)
	}
	var n int
	if err := a.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM files WHERE id = $1`, f.ID).Scan(&n); err != nil || n != 0 {
		t.Errorf("expired file's row: %d (%v), want gone", n, err)
	}
	if got, err := a.DB.TrashedFileForUser(ctx, f.UserID, keep.ID); err != nil || got.ID != keep.ID {
		t.Errorf("file within its time: %+v %v, want still in the trash", got, err)
	}
	if _, err := a.Hot.Stat(ctx, keep.ObjectKey); err != nil {
		t.Errorf("file within its time lost its object: %v", err)
	}
	if err := a.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM users WHERE id = $1`, leaver.ID).Scan(&n); err != nil || n != 0 {
		t.Errorf("account marked deleting: %d rows (%v), want gone", n, err)
	}
}
