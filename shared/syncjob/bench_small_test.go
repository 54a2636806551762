package syncjob_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hybrid-storage/hybrid-storage/shared/app"
	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/proccpu"
	"github.com/hybrid-storage/hybrid-storage/shared/syncjob"
)

// BenchmarkSyncSmallFiles is issue 27's small-file sync: 3000 files of
// 16 KiB uploaded through the API (16 at once), then one run of the job
// (benchWorkers workers × 2 files, SYNC_BATCH_SIZE's default), against
// the plain copy loop of BenchmarkSyncWorkload over the same objects with
// as many copies in flight (minio-go GetObject → PutObject, unsigned
// payload), run before and after the job, the faster one the baseline.
// Every pass starts with the same data on the S3 server (each pass's
// copies are removed after it, untimed). The CPU of a pass counts this
// process, the S3 server and the PostgreSQL backends of the test's
// database (other sessions' work on the machine is not). Reports job-files/s,
// loop-files/s, job/loop (goal ≥ 0.9), the CPU-bound ceiling of job/loop,
// and logs each pass's CPU by process and the CPU's flags.
//
//	go test ./shared/syncjob/ -run '^$' -bench BenchmarkSyncSmallFiles -benchtime 1x
func BenchmarkSyncSmallFiles(b *testing.B) {
	if testing.Short() {
		b.Skip("skipped in -short mode")
	}
	const n, size = 3000, 16 << 10
	for range b.N {
		b.StopTimer()
		e := newEnv(b, func(c *config.Config) { c.MaxStreamedUploadsPerUser = 16 })
		uid := e.user("small@example.com")
		sizes := make([]int64, n)
		for i := range sizes {
			sizes[i] = size
		}
		uploadAll(b, e.api(uid), sizes, 16)
		files := pending(b, e)
		if len(files) != n {
			b.Fatalf("%d files pending after the uploads, want %d", len(files), n)
		}
		hot, cold := rawClients(b, e.cfg)
		pass := func(prefix string, run func()) (time.Duration, spentCPU) {
			pg0 := e.backendCPU()
			c := cpuNow()
			run()
			s := cpuNow().Sub(c)
			pg := e.backendCPU() - pg0
			removePrefix(b, cold, e.cfg.Cold.Bucket, prefix)
			return s.Wall, spentCPU{s.Measured() + pg, fmt.Sprintf("%s, PostgreSQL backends %.2f s", cpuString(s), pg.Seconds())}
		}
		loop1, loop1CPU := pass("loop1/", func() { copyLoop(b, hot, cold, e.cfg, files, "loop1/", benchWorkers*2) })
		// The job as the app builds it (SYNC_* defaults), over a store
		// that counts the flips per statement.
		opt := app.SyncOptions(e.cfg)
		opt.Workers = benchWorkers
		store := &batchingStore{DB: e.app.DB}
		var k syncjob.Knobs
		if d, err := time.ParseDuration(os.Getenv("SYNC_BENCH_FLIP_DELAY")); err == nil {
			k.FlipDelay = d
		}
		j := syncjob.New(store, e.app.Hot, e.app.Cold, slog.New(slog.NewJSONHandler(e.log, nil)), opt).With(k)
		stopProfile := profileTo(b, os.Getenv("SYNC_BENCH_CPUPROFILE")) // the job's window only
		var rep syncjob.Report
		var err error
		b.StartTimer()
		took, jobCPU := pass(fmt.Sprintf("user-%d/", uid), func() { rep, err = j.RunExclusive(context.Background(), "bench") })
		b.StopTimer()
		stopProfile()
		if err != nil || rep.Synced != n || rep.Failed != 0 {
			b.Fatalf("run: %v, report %+v", err, rep)
		}
		loop2, loop2CPU := pass("loop2/", func() { copyLoop(b, hot, cold, e.cfg, files, "loop2/", benchWorkers*2) })
		loop, loopCPU := loop1, loop1CPU
		if loop2 < loop1 {
			loop, loopCPU = loop2, loop2CPU
		}
		b.Logf("cpu: %s", proccpu.Flags())
		b.Logf("CPU, loop before the job (%.2f s): %s", loop1.Seconds(), loop1CPU.text)
		b.Logf("CPU, job (%.2f s, %d batches, %d workers): %s", took.Seconds(), rep.Batches, rep.Workers, jobCPU.text)
		b.Logf("CPU, loop after the job (%.2f s): %s", loop2.Seconds(), loop2CPU.text)
		if jobCPU.total > 0 {
			b.ReportMetric(loopCPU.total.Seconds()/jobCPU.total.Seconds(), "cpu-ceiling-job/loop")
		}
		store.mu.Lock()
		b.ReportMetric(float64(n)/float64(len(store.batches)), "flips/statement")
		store.mu.Unlock()
		jobRate, loopRate := float64(n)/took.Seconds(), float64(n)/loop.Seconds()
		b.ReportMetric(jobRate, "job-files/s")
		b.ReportMetric(loopRate, "loop-files/s")
		b.ReportMetric(jobRate/loopRate, "job/loop")
		b.Logf("%d × %d KiB: job %.2f s, loop %.2f s and %.2f s: job/loop %.2f×", n, size>>10, took.Seconds(),
			loop1.Seconds(), loop2.Seconds(), jobRate/loopRate)
	}
}

// spentCPU is the CPU one pass cost this process and the S3 server
// together, and its description.
type spentCPU struct {
	total time.Duration
	text  string
}

// backendCPU is the CPU time spent so far by the PostgreSQL backends
// connected to the env's database (its pool's connections; /proc). A
// connection closed between two readings takes its time with it.
func (e *env) backendCPU() time.Duration {
	e.tb.Helper()
	rows, err := e.app.DB.Pool.Query(context.Background(), `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		e.tb.Fatal(err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		e.tb.Fatal(err)
	}
	var t time.Duration
	for _, pid := range pids {
		d, _ := proccpu.Process(int(pid)) // 0 if it has gone
		t += d
	}
	return t
}
