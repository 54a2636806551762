package procnet

import (
	"net"
	"os"
	"os/exec"
	"testing"
)

func TestListeningIsTheProcessOwnSocket(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	if ok, err := Listening(os.Getpid(), port); err != nil || !ok {
		t.Fatalf("own listener on %d: listening = %v, %v", port, ok, err)
	}
	// Another process does not own this listener.
	cmd := exec.Command("sleep", "5")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	if ok, err := Listening(cmd.Process.Pid, port); err != nil || ok {
		t.Fatalf("another process: listening = %v, %v; want false", ok, err)
	}
	ln.Close()
	if ok, _ := Listening(os.Getpid(), port); ok {
		t.Fatal("closed listener still reported as listening")
	}
}
