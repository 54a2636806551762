package proccpu

import (
	"crypto/sha256"
	"os"
	"testing"
	"time"
)

// burn hashes on this goroutine until this process has used at least d
// more CPU (by getrusage), however loaded the machine: it fails after a
// minute.
func burn(t *testing.T, d time.Duration) {
	t.Helper()
	buf := make([]byte, 1<<20)
	start, deadline := Self(), time.Now().Add(time.Minute)
	for Self()-start < d {
		if time.Now().After(deadline) {
			t.Fatalf("this process got less than %v of CPU in a minute", d)
		}
		sha256.Sum256(buf)
	}
}

// CPU used by this process shows in its /proc/<pid>/stat time (within a
// few 10 ms ticks of getrusage's) and in the machine's busy time; Sub of
// two samples is what was spent between them.
func TestCountsWork(t *testing.T) {
	a := Take(os.Getpid(), 0)
	burn(t, 300*time.Millisecond)
	d := Take(os.Getpid(), 0).Sub(a)
	if d.Self < 300*time.Millisecond || d.Self > 2*time.Second {
		t.Errorf("Self counted %v, want the 300 ms burnt (and not seconds more)", d.Self)
	}
	if d.Procs[0] < 250*time.Millisecond || d.Procs[0] > d.Self+100*time.Millisecond {
		t.Errorf("Process(own pid) counted %v, Self %v", d.Procs[0], d.Self)
	}
	if d.Procs[1] != 0 {
		t.Errorf("pid 0 counted %v, want 0", d.Procs[1])
	}
	if d.Busy < 250*time.Millisecond || d.Total < d.Busy || d.Wall <= 0 {
		t.Errorf("Machine: busy %v of %v in %v", d.Busy, d.Total, d.Wall)
	}
	if p := d.BusyPercent(); p <= 0 || p > 100 {
		t.Errorf("BusyPercent = %v", p)
	}
	if m := d.Measured(); m != d.Self+d.Procs[0] {
		t.Errorf("Measured = %v, want Self + Procs = %v", m, d.Self+d.Procs[0])
	}
}

func TestMissingProcess(t *testing.T) {
	if _, err := Process(1 << 30); err == nil {
		t.Fatal("no error for a process that does not exist")
	}
	if got := Take(1 << 30).Procs[0]; got != 0 {
		t.Fatalf("Take counted %v for a process that does not exist", got)
	}
}
