package syncjob_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/storage"
	"github.com/hybrid-storage/hybrid-storage/shared/syncjob"
)

// BenchmarkSyncLargeFile moves one large file (SYNC_BENCH_SIZE_MB, default
// 1024) from hot to cold through the real job on the real S3 server and
// reports how far the process's resident memory rose above where it stood
// before the run (rss-delta-MiB; the goal is at most 64 MiB for 1 GiB).
//
//	go test ./shared/syncjob/ -run '^$' -bench BenchmarkSyncLargeFile -benchtime 1x
func BenchmarkSyncLargeFile(b *testing.B) {
	if testing.Short() {
		b.Skip("large file benchmark skipped in -short mode")
	}
	mb := 1024
	if v := os.Getenv("SYNC_BENCH_SIZE_MB"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("SYNC_BENCH_SIZE_MB=%q: want a positive whole number", v)
		}
		mb = n
	}
	size := int64(mb) << 20
	e := newEnv(b, nil)
	uid := e.user("bench@example.com")
	var worst int64
	b.SetBytes(size)
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		f := seedStream(b, e, uid, fmt.Sprintf("big-%d.bin", i), size, uint64(i))
		runtime.GC()
		debug.FreeOSMemory()
		base := rss(b)
		var peak atomic.Int64
		peak.Store(base)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // sample the resident set while the job runs
			defer wg.Done()
			t := time.NewTicker(5 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					if r := rss(b); r > peak.Load() {
						peak.Store(r)
					}
				}
			}
		}()
		b.StartTimer()
		rep, err := e.job(nil, syncjob.Options{}).Run(context.Background())
		b.StopTimer()
		close(stop)
		wg.Wait()
		if err != nil || rep.Synced != 1 {
			b.Fatalf("run: %v, report %+v", err, rep)
		}
		if got := e.row(f); got.Location != core.TierCold {
			b.Fatalf("file not flipped: %+v", got)
		}
		worst = max(worst, peak.Load()-base)
		b.StartTimer()
	}
	b.ReportMetric(float64(worst)/(1<<20), "rss-delta-MiB")
}

// seedStream puts size pseudo-random bytes into the hot tier without
// holding them, and records the file.
func seedStream(tb testing.TB, e *env, userID int64, name string, size int64, seed uint64) core.File {
	tb.Helper()
	var key [32]byte
	key[0] = byte(seed)
	h := sha256.New()
	src := io.TeeReader(io.LimitReader(rand.NewChaCha8(key), size), h)
	objKey := fmt.Sprintf("user-%d/bench-%d-%s", userID, seed, name)
	if _, err := e.app.Hot.Put(context.Background(), objKey, src, size, storage.PutOptions{ContentType: "application/octet-stream"}); err != nil {
		tb.Fatal(err)
	}
	f := core.File{UserID: userID, Filename: name, OriginalFilename: name, Size: size, ContentType: "application/octet-stream",
		Location: core.TierHot, ObjectKey: objKey, AccessURL: e.app.Hot.URL(objKey), ChecksumSHA256: hex.EncodeToString(h.Sum(nil))}
	if err := e.app.DB.CreateFile(context.Background(), &f); err != nil {
		tb.Fatal(err)
	}
	return f
}

// rss is the process's resident set size in bytes (Linux).
func rss(tb testing.TB) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Skipf("no /proc/self/status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	tb.Skip("no VmRSS in /proc/self/status")
	return 0
}
