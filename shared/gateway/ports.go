package gateway

import (
	"fmt"
	"net"
	"sync"
)

// ports hands out loopback ports for emulators. The kernel may give a port
// that was just closed to the next listen on :0, so a port picked by
// listening and closing is only free until somebody else picks it: two
// instances started at once could be told the same port, and the first
// one's readiness check would then reach the other's listener (an invoke
// that fails in milliseconds, with the emulator not yet listening). A port
// handed out here stays taken in this process until its instance stops; the
// readiness check (listening) then proves the port is the emulator's own.
var ports = struct {
	mu    sync.Mutex
	taken map[int]bool
}{taken: map[int]bool{}}

// takePorts returns n distinct free loopback ports that no other instance
// of this process holds.
func takePorts(n int) ([]int, error) {
	ports.mu.Lock()
	defer ports.mu.Unlock()
	out := make([]int, 0, n)
	for tries := 0; len(out) < n; tries++ {
		if tries > 100 {
			return nil, fmt.Errorf("gateway: no free loopback port")
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("gateway: pick a port: %w", err)
		}
		// Held until every port is known, so no two of out are the same.
		defer ln.Close()
		p := ln.Addr().(*net.TCPAddr).Port
		if !ports.taken[p] {
			ports.taken[p] = true
			out = append(out, p)
		}
	}
	return out, nil
}

// releasePorts gives ports back once their instance has stopped.
func releasePorts(ps []int) {
	ports.mu.Lock()
	defer ports.mu.Unlock()
	for _, p := range ps {
		delete(ports.taken, p)
	}
}
