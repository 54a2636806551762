package syncjob

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
)

// flipDelay is how long the slot leading a flip waits for the other
// slots' flips to join its statement, unless all of them have already.
const flipDelay = 2 * time.Millisecond

// flipper flips the rows of verified files in batches (group commit),
// for the slots of one process's run that share it: a slot that has
// verified a copy hands its flip over and waits for its row's outcome, as
// it waited for its own statement before. The first slot to find no flip
// under way leads: it waits up to delay for more flips (not when max are
// waiting already), flips up to max of them in one statement
// (postgres.FlipSyncedBatch, each row fenced on its own lease), delivers
// each outcome, and hands the lead to the oldest flip still waiting. So a
// flip is still made only after its copy was verified, by its lease
// holder only, and a slot goes on only once its row is flipped (a kill
// then loses nothing that was reported); a statement's error fails the
// attempt of every flip in it, which its slot retries as before.
type flipper struct {
	store fileStore
	max   int           // flips per statement at most: the slots sharing it
	delay time.Duration // how long a leader waits for more flips

	mu      sync.Mutex
	pending []*flipReq
	leading bool
	full    chan struct{} // closed when max flips wait (while one leads)
	closed  bool          // full is closed
}

// newRound opens the wait of a leader for more flips; p.mu held.
func (p *flipper) newRound() {
	p.full, p.closed = make(chan struct{}), false
	p.signal()
}

// signal ends the leader's wait once max flips wait; p.mu held.
func (p *flipper) signal() {
	if len(p.pending) >= p.max && !p.closed {
		close(p.full)
		p.closed = true
	}
}

func newFlipper(store fileStore, slots int, delay time.Duration) *flipper {
	return &flipper{store: store, max: max(slots, 1), delay: delay}
}

// flipReq is one slot's flip, waiting; done gets its outcome, or lead
// when the slot is to lead the next statement.
type flipReq struct {
	flip postgres.Flip
	done chan flipOutcome
}

type flipOutcome struct {
	lead  bool
	file  core.File
	fence postgres.Fence
	err   error
}

// flip flips f, leased to owner and verified in the cold tier as m says,
// with the flips of the other slots waiting at the same time; it returns
// what FlipSynced returns for one file.
func (p *flipper) flip(ctx context.Context, f core.File, owner string, m postgres.Moved) (core.File, postgres.Fence, error) {
	r := &flipReq{flip: postgres.Flip{File: f, Owner: owner, Moved: m}, done: make(chan flipOutcome, 1)}
	p.mu.Lock()
	p.pending = append(p.pending, r)
	lead := !p.leading
	if lead {
		p.leading = true
		p.newRound()
	} else {
		p.signal()
	}
	p.mu.Unlock()
	for {
		if lead {
			p.lead(ctx)
		}
		o := <-r.done
		if !o.lead {
			return o.file, o.fence, o.err
		}
		lead = true
	}
}

// lead runs one statement for the flips waiting (its own among them),
// after up to delay for more, then hands the lead on or ends it.
func (p *flipper) lead(ctx context.Context) {
	p.mu.Lock()
	full := p.full
	waitMore := len(p.pending) < p.max && p.delay > 0
	p.mu.Unlock()
	if waitMore {
		t := time.NewTimer(p.delay)
		select {
		case <-full:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	p.mu.Lock()
	n := min(len(p.pending), p.max)
	batch := append([]*flipReq(nil), p.pending[:n]...)
	p.pending = append(p.pending[:0], p.pending[n:]...)
	p.mu.Unlock()

	var outcomes []flipOutcome
	defer func() {
		// Whatever happened (a panic in the store included), every flip
		// of the batch gets an outcome and the lead passes on.
		p2 := recover()
		if outcomes == nil {
			err := fmt.Errorf("flip %d files to s3: no outcome", len(batch))
			if p2 != nil {
				err = fmt.Errorf("flip %d files to s3: %w", len(batch), panicError(p2))
			}
			outcomes = make([]flipOutcome, len(batch))
			for i, r := range batch {
				outcomes[i] = flipOutcome{file: r.flip.File, err: err}
			}
		}
		for i, r := range batch {
			r.done <- outcomes[i]
		}
		p.mu.Lock()
		if len(p.pending) > 0 {
			p.newRound()
			p.pending[0].done <- flipOutcome{lead: true}
		} else {
			p.leading = false
		}
		p.mu.Unlock()
		if p2 != nil {
			panic(p2)
		}
	}()
	flips := make([]postgres.Flip, len(batch))
	for i, r := range batch {
		flips[i] = r.flip
	}
	done, err := p.store.FlipSyncedBatch(ctx, flips)
	out := make([]flipOutcome, len(batch))
	for i, r := range batch {
		if err != nil {
			out[i] = flipOutcome{file: r.flip.File, err: err}
		} else {
			out[i] = flipOutcome{file: done[i].File, fence: done[i].Fence}
		}
	}
	outcomes = out
}
