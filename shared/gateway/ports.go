package gateway

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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

// listening reports whether process pid itself has a socket listening on
// 127.0.0.1:port (Linux: /proc/net/tcp and /proc/pid/fd). A listener of
// another process on the same port does not count.
func listening(pid, port int) (bool, error) {
	inodes, err := listenInodes(port)
	if err != nil || len(inodes) == 0 {
		return false, err
	}
	fds, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "fd"))
	if err != nil {
		return false, nil // the process has gone (or not yet exec'd)
	}
	for _, fd := range fds {
		link, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "fd", fd.Name()))
		if err != nil {
			continue
		}
		if ino, ok := strings.CutPrefix(link, "socket:["); ok && inodes[strings.TrimSuffix(ino, "]")] {
			return true, nil
		}
	}
	return false, nil
}

// listenInodes returns the inodes of the sockets in state LISTEN on
// 127.0.0.1:port.
func listenInodes(port int) (map[string]bool, error) {
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return nil, fmt.Errorf("gateway: readiness check: %w", err)
	}
	defer f.Close()
	want := fmt.Sprintf("0100007F:%04X", port)
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode
		fs := strings.Fields(sc.Text())
		if len(fs) >= 10 && fs[1] == want && fs[3] == "0A" {
			out[fs[9]] = true
		}
	}
	return out, sc.Err()
}
