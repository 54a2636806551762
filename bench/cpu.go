package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/proccpu"
)

// cpuUse is the CPU time each process of an upload used, and how much the
// whole machine did, over one measured call.
type cpuUse struct {
	wall              time.Duration
	s3, server, bench time.Duration // S3 server, the API server, this program
	busy, capacity    time.Duration // all cores: busy, and wall × cores
	s3Known           bool
}

// cpuSample is one reading of the counters cpuUse is taken from.
type cpuSample struct {
	at                time.Time
	s3, server, bench time.Duration
	busy, total       time.Duration
}

func (e *env) cpuSample() cpuSample {
	s := cpuSample{at: time.Now()}
	if e.o.s3pid > 0 {
		s.s3, _ = proccpu.Process(e.o.s3pid) // 0 if it has gone: the figure then shows it
	}
	if e.srv != nil && e.srv.Process != nil {
		s.server, _ = proccpu.Process(e.srv.Process.Pid)
	}
	s.bench = proccpu.Self()
	s.busy, s.total, _ = proccpu.Machine()
	return s
}

// measureCPU runs fn and returns what it cost in CPU, by process.
func (e *env) measureCPU(fn func() error) (cpuUse, error) {
	a := e.cpuSample()
	err := fn()
	b := e.cpuSample()
	return cpuUse{
		wall: b.at.Sub(a.at), s3: b.s3 - a.s3, server: b.server - a.server, bench: b.bench - a.bench,
		busy: b.busy - a.busy, capacity: b.total - a.total, s3Known: e.o.s3pid > 0,
	}, err
}

// procs is the CPU time of the processes measured.
func (c cpuUse) procs() time.Duration { return c.s3 + c.server + c.bench }

// String is "S3 server 2.10 s, API server 1.20 s, bench 0.30 s; machine
// busy 3.80 of 4.00 core-s (95 %)".
func (c cpuUse) String() string {
	var parts []string
	if c.s3Known {
		parts = append(parts, fmt.Sprintf("S3 server %.2f s", c.s3.Seconds()))
	}
	if c.server > 0 {
		parts = append(parts, fmt.Sprintf("API server %.2f s", c.server.Seconds()))
	}
	parts = append(parts, fmt.Sprintf("bench %.2f s", c.bench.Seconds()))
	pct := 0.0
	if c.capacity > 0 {
		pct = 100 * c.busy.Seconds() / c.capacity.Seconds()
	}
	return fmt.Sprintf("%s; machine busy %.2f of %.2f core-s (%.0f %%)", strings.Join(parts, ", "), c.busy.Seconds(), c.capacity.Seconds(), pct)
}
