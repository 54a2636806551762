// Package proccpu reads CPU time from Linux's /proc: a process's, this
// process's and the whole machine's. The benchmarks use it to say where
// the time of a transfer goes (which process spent it, and whether the
// cores were already full), since a wall time alone cannot.
package proccpu

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is the unit of /proc's CPU times (USER_HZ, 100 on Linux).
const clockTicks = 100

// Process returns the user + system time process pid has used, from
// /proc/<pid>/stat.
func Process(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("cpu of process %d: %w", pid, err)
	}
	// The command name (field 2) is in parentheses and may hold spaces and
	// parentheses: field 3 starts after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("cpu of process %d: unexpected /proc/%d/stat", pid, pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("cpu of process %d: unexpected /proc/%d/stat", pid, pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64) // field 14, utime
	st, err2 := strconv.ParseInt(f[12], 10, 64) // field 15, stime
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("cpu of process %d: unexpected /proc/%d/stat", pid, pid)
	}
	return ticks(ut + st), nil
}

// Self returns the user + system time of this process, all threads.
func Self() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Machine returns the time all cores together were busy and the time
// they had (busy + idle), since boot, from the first line of /proc/stat.
func Machine() (busy, total time.Duration, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, fmt.Errorf("machine cpu: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("machine cpu: unexpected /proc/stat")
	}
	// user nice system idle iowait irq softirq steal; guest times are
	// already counted in user and nice.
	var sum, idle int64
	for i, v := range f[1:min(len(f), 9)] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("machine cpu: unexpected /proc/stat")
		}
		sum += n
		if i == 3 || i == 4 {
			idle += n
		}
	}
	return ticks(sum - idle), ticks(sum), nil
}

func ticks(n int64) time.Duration { return time.Duration(n) * time.Second / clockTicks }

// Sample is one reading of the counters: when, this process's time, the
// time of the processes Take was given, and the machine's.
type Sample struct {
	At          time.Time
	Self        time.Duration
	Procs       []time.Duration // of Take's pids, in order: 0 for a pid <= 0 or gone
	Busy, Total time.Duration   // all cores
}

// Take reads the counters of this process, of pids and of the machine.
func Take(pids ...int) Sample {
	s := Sample{At: time.Now(), Self: Self(), Procs: make([]time.Duration, len(pids))}
	for i, pid := range pids {
		if pid > 0 {
			s.Procs[i], _ = Process(pid) // 0 if it has gone
		}
	}
	s.Busy, s.Total, _ = Machine()
	return s
}

// Spent is what was spent between two samples.
type Spent struct {
	Wall        time.Duration
	Self        time.Duration
	Procs       []time.Duration
	Busy, Total time.Duration
}

// Sub returns what was spent from earlier (taken with the same pids) to s.
func (s Sample) Sub(earlier Sample) Spent {
	d := Spent{Wall: s.At.Sub(earlier.At), Self: s.Self - earlier.Self, Busy: s.Busy - earlier.Busy, Total: s.Total - earlier.Total,
		Procs: make([]time.Duration, len(s.Procs))}
	for i := range s.Procs {
		d.Procs[i] = s.Procs[i] - earlier.Procs[i]
	}
	return d
}

// Measured is the CPU time of this process and the others together.
func (d Spent) Measured() time.Duration {
	t := d.Self
	for _, p := range d.Procs {
		t += p
	}
	return t
}

// BusyPercent is the share of the cores' time they were busy.
func (d Spent) BusyPercent() float64 {
	if d.Total <= 0 {
		return 0
	}
	return 100 * d.Busy.Seconds() / d.Total.Seconds()
}

// Machine is "machine busy 3.80 of 4.00 core-s (95 %)".
func (d Spent) Machine() string {
	return fmt.Sprintf("machine busy %.2f of %.2f core-s (%.0f %%)", d.Busy.Seconds(), d.Total.Seconds(), d.BusyPercent())
}

// Flags names the CPU and the instruction sets the figures depend on
// (SHA-256: sha_ni; CRC64NVME: pclmulqdq/vpclmulqdq; AVX2/AVX-512), from
// /proc/cpuinfo: machines differ between sessions, so every figure is
// printed with them.
func Flags() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	model, flags := "", map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		switch k = strings.TrimSpace(k); {
		case !ok:
		case k == "model name" && model == "":
			model = strings.TrimSpace(v)
		case k == "flags" && len(flags) == 0:
			for _, f := range strings.Fields(v) {
				flags[f] = true
			}
		}
	}
	var have []string
	for _, f := range []string{"sha_ni", "avx2", "avx512f", "aes", "pclmulqdq", "vpclmulqdq"} {
		if !flags[f] {
			f = "no " + f
		}
		have = append(have, f)
	}
	return model + "; " + strings.Join(have, ", ")
}
