package syncjob

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
)

// fakeFlips is a store whose flip statements are recorded: a file with an
// even id flips, an odd one is someone else's. panicFirst makes the first
// statement panic.
type fakeFlips struct {
	fileStore // nil: only FlipSyncedBatch is called

	mu         sync.Mutex
	batches    []int
	panicFirst bool
}

func (s *fakeFlips) FlipSyncedBatch(_ context.Context, flips []postgres.Flip) ([]postgres.Flipped, error) {
	s.mu.Lock()
	s.batches = append(s.batches, len(flips))
	first := len(s.batches) == 1
	s.mu.Unlock()
	if first && s.panicFirst {
		panic("injected panic in a flip statement")
	}
	out := make([]postgres.Flipped, len(flips))
	for i, fl := range flips {
		out[i] = postgres.Flipped{File: fl.File, Fence: postgres.FenceLost}
		if fl.File.ID%2 == 0 {
			f := fl.File
			f.Location = core.TierCold
			out[i] = postgres.Flipped{File: f, Fence: postgres.FenceHeld}
		}
	}
	return out, nil
}

var _ fileStore = (*fakeFlips)(nil)

// Every slot gets its own flip's outcome, whatever statement carried it,
// and no statement carries more flips than there are slots.
func TestFlipperDeliversEachOutcome(t *testing.T) {
	t.Parallel()
	const slots, each = 8, 50
	store := &fakeFlips{}
	p := newFlipper(store, slots, time.Millisecond)
	var wg sync.WaitGroup
	errs := make(chan error, slots*each)
	for s := range slots {
		wg.Go(func() {
			for i := range each {
				id := int64(s*each + i + 1)
				f, fence, err := p.flip(t.Context(), core.File{ID: id, Location: core.TierHot}, fmt.Sprintf("w%d", s), postgres.Moved{})
				switch {
				case err != nil:
					errs <- err
				case f.ID != id:
					errs <- fmt.Errorf("flip of file %d: got the outcome of file %d", id, f.ID)
				case (id%2 == 0) != (fence == postgres.FenceHeld) || (fence == postgres.FenceHeld) != (f.Location == core.TierCold):
					errs <- fmt.Errorf("file %d: fence %v, location %s", id, fence, f.Location)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	total := 0
	for _, n := range store.batches {
		if n < 1 || n > slots {
			t.Errorf("a statement of %d flips, want 1 to %d", n, slots)
		}
		total += n
	}
	if total != slots*each {
		t.Errorf("%d flips made, want %d", total, slots*each)
	}
	t.Logf("%d flips in %d statements", total, len(store.batches))
}

// A panic in a flip statement reaches the slot that led it; every other
// flip of that statement fails with it, and the flips after it go on.
func TestFlipperPanicFailsItsStatementOnly(t *testing.T) {
	t.Parallel()
	const slots = 4
	store := &fakeFlips{panicFirst: true}
	p := newFlipper(store, slots, time.Second) // the first statement waits for all four
	type result struct {
		panicked bool
		err      error
	}
	results := make(chan result, slots)
	for s := range slots {
		go func() {
			r := result{}
			defer func() {
				if recover() != nil {
					r.panicked = true
				}
				results <- r
			}()
			_, _, r.err = p.flip(t.Context(), core.File{ID: int64(2 * (s + 1))}, "w", postgres.Moved{})
		}()
	}
	panics, failed := 0, 0
	for range slots {
		select {
		case r := <-results:
			if r.panicked {
				panics++
			} else if r.err != nil {
				failed++
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a slot still waits for its flip")
		}
	}
	if panics != 1 || failed != slots-1 {
		t.Errorf("%d panicked and %d failed, want the leader to panic and the other %d to fail", panics, failed, slots-1)
	}
	if _, fence, err := p.flip(t.Context(), core.File{ID: 2}, "w", postgres.Moved{}); err != nil || fence != postgres.FenceHeld {
		t.Errorf("a flip after the panic: %v, %v; want it made", fence, err)
	}
}
