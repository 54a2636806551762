package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// syncJob runs the sync job's benchmarks (Go testing.B, in
// shared/syncjob) against this run's S3 server and PostgreSQL, and adds
// their figures to the report:
//   - BenchmarkSyncWorkload: 1000 × 1 MiB + 10 × 100 MiB uploaded through
//     the API, then one run (4 workers × 2 files), against a GetObject →
//     PutObject loop with the same concurrency; goal ≥ 0.9× of the loop;
//   - BenchmarkSyncSmallFiles: 3000 × 16 KiB uploaded through the API,
//     then one run against the same loop at the job's concurrency; goal
//     ≥ 0.9× of the loop;
//   - BenchmarkSyncFanout: 1000 × 4 KiB through a cold tier 20 ms away
//     with 1, 2, 4, 8 workers; goal 4 workers ≥ 3× one;
//   - BenchmarkSyncLargeFile: one 1 GiB file moved; goal RSS growth ≤ 64 MiB.
func (e *env) syncJob() error {
	cmd := exec.CommandContext(e.ctx, "go", "test", "-count=1", "-run", "^$",
		"-bench", "^BenchmarkSync(Workload|SmallFiles|Fanout|LargeFile)$", "-benchtime", "1x", "-timeout", "60m", "./shared/syncjob/")
	cmd.Env = append(os.Environ(), "TEST_S3_ENDPOINT="+e.o.s3, "TEST_DATABASE_URL="+e.o.adminDB, "SYNC_BENCH_S3_PID="+strconv.Itoa(e.o.s3pid))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	metrics := map[string]map[string]float64{}
	sc := bufio.NewScanner(io.TeeReader(out, os.Stdout))
	for sc.Scan() {
		name, m, ok := parseBenchLine(sc.Text())
		if ok {
			metrics[name] = m
		}
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("go test -bench ./shared/syncjob/: %w", err)
	}
	if m, ok := metrics["BenchmarkSyncWorkload"]; ok {
		r := m["job/loop"]
		e.report.add("sync workload: job / GetObject→PutObject loop",
			fmt.Sprintf("%.2f× (job %.1f MiB/s, loop %.1f MiB/s, 8 copies in flight each; loop through the job's cold put %.1f MiB/s)",
				r, m["job-MiB/s"], m["loop-MiB/s"], m["putpath-MiB/s"]),
			"≥ 0.9×", boolp(r >= 0.9))
		if c := m["cpu-ceiling-job/loop"]; c > 0 {
			e.report.add("sync workload: CPU-bound ceiling of job / loop", fmt.Sprintf("%.2f× (the loop's CPU / the job's, S3 server and test process)", c), "", nil)
		}
	}
	if m, ok := metrics["BenchmarkSyncSmallFiles"]; ok {
		r := m["job/loop"]
		e.report.add("sync 3000 × 16 KiB: job / GetObject→PutObject loop",
			fmt.Sprintf("%.2f× (job %.0f files/s, loop %.0f files/s, 8 copies in flight each; CPU-bound ceiling %.2f×)",
				r, m["job-files/s"], m["loop-files/s"], m["cpu-ceiling-job/loop"]),
			"≥ 0.9×", boolp(r >= 0.9))
	}
	if m, ok := metrics["BenchmarkSyncFanout"]; ok {
		e.report.add("sync fan-out, cold tier +20 ms: files/s, 1/2/4/8 workers",
			fmt.Sprintf("%.1f / %.1f / %.1f / %.1f", m["files/s-w1"], m["files/s-w2"], m["files/s-w4"], m["files/s-w8"]), "", nil)
		r := m["speedup-w4/w1"]
		e.report.add("sync fan-out: 4 workers / 1 worker", fmt.Sprintf("%.2f×", r), "≥ 3×", boolp(r >= 3))
	}
	if m, ok := metrics["BenchmarkSyncLargeFile"]; ok {
		d := m["rss-delta-MiB"]
		e.report.add("sync: 1 GiB file moved, RSS growth", fmt.Sprintf("%.1f MiB (%.1f MB/s)", d, m["MB/s"]), "≤ 64 MiB", boolp(d <= 64))
	}
	return nil
}

// parseBenchLine reads "BenchmarkX-2  1  123 ns/op  4.5 unit ..." into the
// name without the -GOMAXPROCS suffix and its metrics by unit.
func parseBenchLine(line string) (string, map[string]float64, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
		return "", nil, false
	}
	name := f[0]
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		name = name[:i]
	}
	m := map[string]float64{}
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return "", nil, false
		}
		m[f[i+1]] = v
	}
	return name, m, true
}
