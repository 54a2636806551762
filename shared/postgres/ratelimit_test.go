package postgres_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
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
