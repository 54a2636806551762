package main

import (
	"fmt"
	"strings"

	"github.com/hybrid-storage/hybrid-storage/shared/proccpu"
)

// cpuUse is what one measured call cost: its wall time (Spent.Wall), this
// program's CPU (Self), the S3 server's (Procs[0]) and the API server's
// (Procs[1]), and the machine's busy time.
type cpuUse struct {
	proccpu.Spent
	s3Known bool // -s3pid given
}

// measureCPU runs fn and returns what it cost in CPU, by process.
func (e *env) measureCPU(fn func() error) (cpuUse, error) {
	server := 0
	if e.srv != nil && e.srv.Process != nil {
		server = e.srv.Process.Pid
	}
	a := proccpu.Take(e.o.s3pid, server)
	err := fn()
	return cpuUse{Spent: proccpu.Take(e.o.s3pid, server).Sub(a), s3Known: e.o.s3pid > 0}, err
}

// String is "S3 server 2.10 s, API server 1.20 s, bench 0.30 s; machine
// busy 3.80 of 4.00 core-s (95 %)".
func (c cpuUse) String() string {
	var parts []string
	if c.s3Known {
		parts = append(parts, fmt.Sprintf("S3 server %.2f s", c.Procs[0].Seconds()))
	}
	if c.Procs[1] > 0 {
		parts = append(parts, fmt.Sprintf("API server %.2f s", c.Procs[1].Seconds()))
	}
	parts = append(parts, fmt.Sprintf("bench %.2f s", c.Self.Seconds()))
	return strings.Join(parts, ", ") + "; " + c.Machine()
}
