package httpapi

import (
	"sync"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
)

// streamRetryAfter is the Retry-After of a streamed upload refused for
// want of a slot: about what a small upload takes.
const streamRetryAfter = 5

// streamSlots caps the streamed uploads one process reads at once, in all
// and per user (MAX_STREAMED_UPLOADS, MAX_STREAMED_UPLOADS_PER_USER): each
// holds up to 34 MiB of buffers while its body arrives, however slowly.
// On Lambda an instance serves one request at a time, so the caps never
// refuse there.
type streamSlots struct {
	mu           sync.Mutex
	max, maxUser int
	total        int
	perUser      map[int64]int
}

func newStreamSlots(max, maxUser int) *streamSlots {
	return &streamSlots{max: max, maxUser: maxUser, perUser: map[int64]int{}}
}

// acquire takes a slot for one of uid's uploads and returns its release,
// or a TOO_MANY_STREAMED_UPLOADS error (429, Retry-After) when uid or the
// server has all theirs in use.
func (s *streamSlots) acquire(uid int64) (release func(), err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.perUser[uid] >= s.maxUser:
		return nil, &core.Error{Code: core.CodeTooManyStreams, RetryAfter: streamRetryAfter,
			Message: "you have as many uploads under way as one account may send at once; retry when one ends"}
	case s.total >= s.max:
		return nil, &core.Error{Code: core.CodeTooManyStreams, RetryAfter: streamRetryAfter,
			Message: "the server is receiving as many uploads as it can at once; retry shortly"}
	}
	s.total++
	s.perUser[uid]++
	var once sync.Once
	return func() { once.Do(func() { s.release(uid) }) }, nil
}

func (s *streamSlots) release(uid int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total--
	if s.perUser[uid]--; s.perUser[uid] <= 0 {
		delete(s.perUser, uid)
	}
}

// inUse is how many slots are taken.
func (s *streamSlots) inUse() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}
