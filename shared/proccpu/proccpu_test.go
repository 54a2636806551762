package proccpu

import (
	"crypto/sha256"
	"os"
	"testing"
	"time"
)

// Work on this goroutine shows in this process's time, as Self and as
// Process(own pid), and in the machine's busy time.
func TestCountsWork(t *testing.T) {
	self0 := Self()
	proc0, err := Process(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	busy0, total0, err := Machine()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); {
		sha256.Sum256(buf)
	}
	self := Self() - self0
	proc, err := Process(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	proc -= proc0
	busy1, total1, err := Machine()
	if err != nil {
		t.Fatal(err)
	}
	// 300 ms of hashing on one goroutine: at least 150 ms of CPU however
	// loaded the machine (a tick is 10 ms), never much more than the wall
	// time spent.
	if self < 150*time.Millisecond || self > 2*time.Second {
		t.Errorf("Self counted %v for 300 ms of work", self)
	}
	if proc < 150*time.Millisecond || proc > 2*time.Second {
		t.Errorf("Process counted %v for 300 ms of work", proc)
	}
	if busy1-busy0 < 150*time.Millisecond || total1-total0 < busy1-busy0 {
		t.Errorf("Machine: busy %v of %v", busy1-busy0, total1-total0)
	}
}

func TestMissingProcess(t *testing.T) {
	if _, err := Process(1 << 30); err == nil {
		t.Fatal("no error for a process that does not exist")
	}
}
