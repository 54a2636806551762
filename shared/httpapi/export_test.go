package httpapi

import "time"

// SetTimeouts shortens the client deadlines so that tests of slow and
// stalled clients run in a second. Call it before serving.
func (a *API) SetTimeouts(read, write, idle time.Duration) {
	a.timeouts = timeouts{read: read, write: write, idle: idle}
}
