package gateway

import (
	"net"
	"os"
	"os/exec"
	"testing"
)

func TestTakePortsNeverHandsOutATakenPort(t *testing.T) {
	seen := map[int]bool{}
	var all []int
	for range 200 {
		ps, err := takePorts(2)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if seen[p] {
				t.Fatalf("port %d handed out twice while taken", p)
			}
			seen[p] = true
		}
		all = append(all, ps...)
	}
	releasePorts(all)
	if len(ports.taken) != 0 {
		t.Fatalf("%d ports still taken after release", len(ports.taken))
	}
}

func TestListeningIsTheProcessOwnSocket(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	if ok, err := listening(os.Getpid(), port); err != nil || !ok {
		t.Fatalf("own listener on %d: listening = %v, %v", port, ok, err)
	}
	// Another process does not own this listener.
	cmd := exec.Command("sleep", "5")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	if ok, err := listening(cmd.Process.Pid, port); err != nil || ok {
		t.Fatalf("another process: listening = %v, %v; want false", ok, err)
	}
	ln.Close()
	if ok, _ := listening(os.Getpid(), port); ok {
		t.Fatal("closed listener still reported as listening")
	}
}
