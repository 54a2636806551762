package httpapi

import (
	"context"
	"time"
)

// SetTimeouts shortens the client deadlines so that tests of slow and
// stalled clients run in a second. Call it before serving.
func (a *API) SetTimeouts(read, write, idle time.Duration) {
	a.timeouts = timeouts{read: read, write: write, idle: idle}
}

// StreamedUploads is how many streamed uploads hold a slot now.
func (a *API) StreamedUploads() int { return a.streams.inUse() }

// SetFinishHook has f called with the request's context as a completion
// starts to read the assembled object.
func (a *API) SetFinishHook(f func(ctx context.Context)) { a.finishHook = f }

// SetCompleteHook has f called at each step of a completion: "assembling"
// (the tier is about to assemble the object), "assembled" (it has
// answered), "read" (the object was found, its head is about to be read)
// and "record" (the file is about to be recorded).
func (a *API) SetCompleteHook(f func(ctx context.Context, step string)) { a.completeHook = f }

// SetBulkBudget sets how long a bulk delete without a trash starts purges.
func (a *API) SetBulkBudget(d time.Duration) { a.bulkBudget = d }
