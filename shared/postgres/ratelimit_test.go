package postgres_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
)

func TestRateHit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t)

	// Concurrent attempts are each counted once: the upsert is atomic.
	const n = 20
	var mu sync.Mutex
	var counts []int
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hits, left, err := db.RateHit(ctx, "addr:192.0.2.1", time.Minute)
			if err != nil || left <= 0 || left > time.Minute {
				t.Errorf("RateHit = %d, %s, %v", hits, left, err)
			}
			mu.Lock()
			counts = append(counts, hits)
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(counts)
	for i, c := range counts {
		if c != i+1 {
			t.Fatalf("counts %v, want 1..%d each once", counts, n)
		}
	}
	if hits, _, _ := db.RateHit(ctx, "addr:192.0.2.2", time.Minute); hits != 1 {
		t.Errorf("another key: hits %d, want 1", hits)
	}

	// Once a window has ended the next attempt opens a new one, and the
	// rows of ended windows are deleted.
	if _, err := db.Pool.Exec(ctx, `UPDATE auth_rate_limits SET expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	hits, left, err := db.RateHit(ctx, "addr:192.0.2.1", time.Hour)
	if err != nil || hits != 1 || left < 59*time.Minute {
		t.Errorf("after the window: %d, %s, %v; want 1 and about an hour", hits, left, err)
	}
	var rows int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM auth_rate_limits`).Scan(&rows); err != nil || rows != 1 {
		t.Errorf("rows after cleanup: %d (%v), want 1 (the ended window of the other key deleted)", rows, err)
	}
}

func TestBackoffDelay(t *testing.T) {
	b := postgres.Backoff{Free: 5, Base: time.Second, Max: 15 * time.Minute, Forget: 24 * time.Hour}
	for _, tc := range []struct {
		n    int
		want time.Duration
	}{{0, 0}, {4, 0}, {5, time.Second}, {6, 2 * time.Second}, {14, 512 * time.Second}, {15, 15 * time.Minute}, {1000, 15 * time.Minute}} {
		if got := b.Delay(tc.n); got != tc.want {
			t.Errorf("Delay(%d) got %s, want %s", tc.n, got, tc.want)
		}
	}
}

// BackoffHit lets Free attempts through, then one per growing delay, with
// parallel attempts counted once each; RateUnhit, RateDelete and Remember
// do what they say.
func TestBackoffHit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t)
	b := postgres.Backoff{Free: 3, Base: time.Second, Max: 4 * time.Second, Forget: time.Hour}

	var mu sync.Mutex
	allowed := 0
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			wait, err := db.BackoffHit(ctx, "pair:a", b)
			if err != nil {
				t.Error(err)
			}
			if wait == 0 {
				mu.Lock()
				allowed++
				mu.Unlock()
			} else if wait > time.Second {
				t.Errorf("wait %s after 3 attempts, want at most 1s", wait)
			}
		})
	}
	wg.Wait()
	if allowed != 3 {
		t.Fatalf("%d of 10 parallel attempts allowed, want 3", allowed)
	}
	back := func(d time.Duration) {
		t.Helper()
		if _, err := db.Pool.Exec(ctx, `UPDATE auth_rate_limits SET window_start = window_start - $1 * interval '1 second' WHERE key = 'pair:a'`, d.Seconds()); err != nil {
			t.Fatal(err)
		}
	}
	for _, step := range []struct {
		waited time.Duration
		want   time.Duration // 0: allowed; else the wait answered, to the second
	}{
		{time.Second, 0},           // the 4th attempt, a second after the 3rd
		{time.Second, time.Second}, // then 2 s: one more to wait
		{time.Second, 0},           // 2 s in all
		{0, 4 * time.Second},       // then 4 s, the most
		{4 * time.Second, 0},
		{0, 4 * time.Second},
	} {
		back(step.waited)
		wait, err := db.BackoffHit(ctx, "pair:a", b)
		if err != nil || wait.Round(time.Second) != step.want {
			t.Fatalf("after waiting %s: wait %s (%v), want %s", step.waited, wait, err, step.want)
		}
	}
	if err := db.RateDelete(ctx, "pair:a"); err != nil {
		t.Fatal(err)
	}
	if wait, err := db.BackoffHit(ctx, "pair:a", b); wait != 0 || err != nil {
		t.Errorf("after RateDelete: wait %s (%v), want 0", wait, err)
	}

	db.RateHit(ctx, "ceiling", time.Hour)
	db.RateHit(ctx, "ceiling", time.Hour)
	if err := db.RateUnhit(ctx, "ceiling"); err != nil {
		t.Fatal(err)
	}
	if hits, _, _ := db.RateHit(ctx, "ceiling", time.Hour); hits != 2 {
		t.Errorf("hits %d after 2 hits, a take-back and a hit; want 2", hits)
	}

	if ok, err := db.Remembered(ctx, "known:x"); ok || err != nil {
		t.Errorf("Remembered before Remember: %v, %v", ok, err)
	}
	if err := db.Remember(ctx, "known:x", time.Hour); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.Remembered(ctx, "known:x"); !ok || err != nil {
		t.Errorf("Remembered after Remember: %v, %v", ok, err)
	}
	db.Pool.Exec(ctx, `UPDATE auth_rate_limits SET expires_at = now() WHERE key = 'known:x'`)
	if ok, _ := db.Remembered(ctx, "known:x"); ok {
		t.Error("Remembered after its end")
	}
}
