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

// SetFinishHook has f called with the request's context as a completion
// starts to read the assembled object.
func (a *API) SetFinishHook(f func(ctx context.Context)) { a.finishHook = f }
