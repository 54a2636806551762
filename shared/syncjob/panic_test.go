package syncjob_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/app"
	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
	"github.com/hybrid-storage/hybrid-storage/shared/storage"
	"github.com/hybrid-storage/hybrid-storage/shared/syncjob"
)

// panicCold is the real cold tier, except that a put of key panics.
type panicCold struct {
	*storage.Cold
	key string
}

func (c panicCold) Put(ctx context.Context, key string, r io.Reader, size int64, o storage.PutOptions) (storage.ObjectInfo, error) {
	if key == c.key {
		panic("injected panic in the cold tier")
	}
	return c.Cold.Put(ctx, key, r, size, o)
}

// panicStore is the real store, except that its first claim panics
// (outside any one file's move).
type panicStore struct {
	*postgres.DB
	claims atomic.Int32
}

func (s *panicStore) ClaimSyncBatch(ctx context.Context, owner string, limit int, lease time.Duration) ([]core.File, error) {
	if s.claims.Add(1) == 1 {
		panic("injected panic in the store")
	}
	return s.DB.ClaimSyncBatch(ctx, owner, limit, lease)
}

var (
	_ syncjob.ColdTier = panicCold{}
	_ syncjob.Store    = (*panicStore)(nil)
)

// A panic while moving one file fails that file, with the panic as its
// error, and the run goes on; a panic in a worker outside a move is counted
// as a failure and the worker goes on. Neither takes the process down.
func TestPanicsFailOneFileAndTheRunGoesOn(t *testing.T) {
	t.Parallel()
	t.Run("in a move", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		uid := e.user("panic@example.com")
		a, b, c := e.seed(uid, "a.bin", []byte("a")), e.seed(uid, "b.bin", []byte("b")), e.seed(uid, "c.bin", []byte("c"))
		rep := mustRun(t, e.job(panicCold{e.app.Cold, b.ObjectKey}, syncjob.Options{}), context.Background())
		if rep.Synced != 2 || rep.Failed != 1 || len(rep.Errors) != 1 || rep.Errors[0].FileID != b.ID ||
			!strings.Contains(rep.Errors[0].Error, "injected panic in the cold tier") {
			t.Fatalf("report %+v, want a and c synced, b failed with the panic", rep)
		}
		e.wantSynced(a, []byte("a"), true)
		e.wantSynced(c, []byte("c"), true)
		e.wantHot(b, []byte("b"))
		if st := e.state(b.ID); st.LastError == nil || !strings.Contains(*st.LastError, "panic") || st.Attempts != 1 {
			t.Errorf("b's sync state %+v, want one attempt with the panic recorded", st)
		}
	})
	t.Run("in a worker", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		uid := e.user("panic-worker@example.com")
		a, b := e.seed(uid, "a.bin", []byte("a")), e.seed(uid, "b.bin", []byte("b"))
		opt := app.SyncOptions(e.cfg)
		opt.Workers = 1
		j := syncjob.New(&panicStore{DB: e.app.DB}, e.app.Hot, e.app.Cold, slog.New(slog.NewJSONHandler(e.log, nil)), opt).
			With(syncjob.Knobs{Concurrency: 1})
		rep := mustRun(t, j, context.Background())
		if rep.Synced != 2 || rep.Failed != 1 || len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0].Error, "injected panic in the store") {
			t.Fatalf("report %+v, want both files synced and the panic counted", rep)
		}
		e.wantSynced(a, []byte("a"), true)
		e.wantSynced(b, []byte("b"), true)
		if !strings.Contains(e.log.String(), "sync worker panic") {
			t.Error("the worker's panic was not logged")
		}
	})
}
