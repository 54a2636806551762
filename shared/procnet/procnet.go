// Package procnet answers, from Linux's /proc, whether a process itself
// listens on a loopback port: a readiness check that a dial cannot give,
// since a dial also succeeds against another process that took the port.
package procnet

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Listening reports whether process pid itself has a socket listening on
// 127.0.0.1:port (Linux: /proc/net/tcp and /proc/pid/fd). A listener of
// another process on the same port does not count.
func Listening(pid, port int) (bool, error) {
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
		return nil, fmt.Errorf("procnet: %w", err)
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
