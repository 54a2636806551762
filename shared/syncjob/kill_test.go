package syncjob_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/app"
	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/syncjob"
	"github.com/hybrid-storage/hybrid-storage/shared/testenv"
)

// killChildEnv makes the test binary a sync process to be SIGKILLed
// (TestMain): it runs the job over the configuration in its environment
// with the workers the variable says, and hangs: one worker after its
// third copy, printing "copied <id>"; several in every copy after the
// second, printing "hung <n>" once all of them hang.
const killChildEnv = "SYNCJOB_KILL_CHILD"

// killLease is the lease of the killed process.
const killLease = 5 * time.Second

func TestMain(m *testing.M) {
	if os.Getenv(killChildEnv) != "" {
		os.Exit(killChild())
	}
	os.Exit(m.Run())
}

func killChild() int {
	ctx := context.Background()
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	workers, _ := strconv.Atoi(os.Getenv(killChildEnv))
	var mu sync.Mutex
	copies, hung := 0, 0
	hang := make(chan struct{})
	// One worker: it hangs in its third copy. Several: the first two
	// copies go through, every later one hangs, and once every worker
	// hangs in one the child says so.
	hook := func(_ context.Context, f core.File) error {
		mu.Lock()
		copies++
		if workers <= 1 {
			if copies == 3 {
				fmt.Printf("copied %d\n", f.ID)
				mu.Unlock()
				<-hang // until SIGKILL
			}
			mu.Unlock()
			return nil
		}
		if copies <= 2 {
			mu.Unlock()
			return nil
		}
		if hung++; hung == workers {
			fmt.Printf("hung %d\n", hung)
		}
		mu.Unlock()
		<-hang // until SIGKILL
		return nil
	}
	batch := 4
	if workers > 1 {
		batch = 2
	}
	opt := app.SyncOptions(cfg)
	opt.BatchSize, opt.Workers = batch, max(workers, 1)
	j := syncjob.New(a.DB, a.Hot, a.Cold, nil, opt).With(syncjob.Knobs{Concurrency: 1, Lease: killLease,
		Hooks: syncjob.Hooks{AfterCopy: hook}})
	if _, err := j.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	return 1 // never reached before the kill
}

// A sync process SIGKILLed in the middle of a copy loses nothing and moves
// nothing twice: the files it flipped stay flipped and are not copied
// again; the file it was copying and the rest of its batch stay leased
// (no other run takes them) until the lease expires; then the next run
// moves each of them once.
func TestSIGKILLMidCopyLosesNothingAndMovesNothingTwice(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	uid := e.user("kill@example.com")
	var files []core.File
	var datas [][]byte
	for i := range 6 {
		d := randomBytes(64<<10 + i)
		datas = append(datas, d)
		files = append(files, e.seed(uid, fmt.Sprintf("k%d.bin", i), d))
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), testenv.Env(e.cfg)...), killChildEnv+"=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("child: %v (%q)", err, line)
	}
	killedAt := time.Now()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	var killedID int64
	if _, err := fmt.Sscanf(strings.TrimSpace(line), "copied %d", &killedID); err != nil || killedID != files[2].ID {
		t.Fatalf("child said %q, want the third file", line)
	}
	// Files 0 and 1 were flipped by the killed process; 2 (mid-copy) and 3
	// (claimed, not started) are leased to it; 4 and 5 are free.
	for i := range 2 {
		e.wantSynced(files[i], datas[i], true)
	}
	cold := newCountingCold(e.app.Cold, 0)
	rep := mustRun(t, e.job(cold, syncjob.Options{}), context.Background())
	if time.Since(killedAt) >= killLease {
		t.Skip("the run outlived the killed process's lease; the machine is too slow for this test")
	}
	if rep.Synced != 2 || rep.Left != 2 || rep.Failed != 0 {
		t.Fatalf("run during the dead process's leases %+v, want the 2 free files synced and the 2 leased ones left", rep)
	}
	for i := 2; i < 4; i++ {
		e.wantHot(files[i], datas[i])
	}
	time.Sleep(time.Until(killedAt.Add(killLease + 200*time.Millisecond)))
	rep = mustRun(t, e.job(cold, syncjob.Options{}), context.Background())
	if rep.Synced != 2 || rep.Left != 0 || rep.Failed != 0 {
		t.Fatalf("run after the leases expired %+v, want the 2 formerly leased files synced", rep)
	}
	for i, f := range files {
		e.wantSynced(f, datas[i], true)
		want := map[bool]int{true: 0, false: 1}[i < 2] // the killed process moved 0 and 1
		if n := cold.putsOf(f.ObjectKey); n != want {
			t.Errorf("file %d: copied %d times after the kill, want %d", i, n, want)
		}
		if s := e.state(f.ID); s.Attempts != 1 {
			t.Errorf("file %d: %d attempts recorded, want 1 (one flip)", i, s.Attempts)
		}
	}
}

// The same with three workers in the killed process: each dies in the
// middle of a copy, holding its own leases. What the process flipped stays
// flipped and is not copied again; what any of its workers held stays
// leased until the lease expires; the next run (four workers) moves every
// other file at once, then, once the leases expired, the rest, each file once.
func TestSIGKILLOfSeveralWorkersLosesNothingAndMovesNothingTwice(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	uid := e.user("kill-workers@example.com")
	var files []core.File
	var datas [][]byte
	for i := range 14 {
		d := randomBytes(32<<10 + i)
		datas = append(datas, d)
		files = append(files, e.seed(uid, fmt.Sprintf("kw%02d.bin", i), d))
	}
	const workers = 3
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), testenv.Env(e.cfg)...), fmt.Sprintf("%s=%d", killChildEnv, workers))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != fmt.Sprintf("hung %d", workers) {
		t.Fatalf("child: %v (%q)", err, line)
	}
	killedAt := time.Now()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	ctx := context.Background()
	type row struct {
		location string
		owner    *string
		leased   bool
	}
	rows := map[int64]row{}
	rs, err := e.app.DB.Pool.Query(ctx, `SELECT id, storage_location, sync_owner, sync_lease_until > now() FROM files`)
	if err != nil {
		t.Fatal(err)
	}
	for rs.Next() {
		var id int64
		var r row
		var leased *bool
		if err := rs.Scan(&id, &r.location, &r.owner, &leased); err != nil {
			t.Fatal(err)
		}
		r.leased = leased != nil && *leased
		rows[id] = r
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	var flipped, leased, free []int
	owners := map[string]bool{}
	for i, f := range files {
		switch r := rows[f.ID]; {
		case r.location == string(core.TierCold):
			flipped = append(flipped, i)
		case r.leased:
			leased = append(leased, i)
			owners[*r.owner] = true
		default:
			free = append(free, i)
		}
	}
	// Two copies went through before every worker hung in a third.
	if len(flipped) != 2 || len(owners) != workers || len(leased) < workers || len(free) == 0 {
		t.Fatalf("after the kill: %d flipped, %d leased by %d owners, %d free; want 2 flipped and %d workers' leases",
			len(flipped), len(leased), len(owners), len(free), workers)
	}
	for _, i := range flipped {
		e.wantSynced(files[i], datas[i], true)
	}
	cold := newCountingCold(e.app.Cold, 0)
	rep := mustRun(t, e.job(cold, syncjob.Options{Workers: 4}), ctx)
	if time.Since(killedAt) >= killLease {
		t.Skip("the run outlived the killed process's leases; the machine is too slow for this test")
	}
	if rep.Synced != len(free) || rep.Left != len(leased) || rep.Failed != 0 {
		t.Fatalf("run during the dead workers' leases %+v, want the %d free files synced and the %d leased ones left", rep, len(free), len(leased))
	}
	for _, i := range leased {
		e.wantHot(files[i], datas[i])
	}
	time.Sleep(time.Until(killedAt.Add(killLease + 200*time.Millisecond)))
	rep = mustRun(t, e.job(cold, syncjob.Options{Workers: 4}), ctx)
	if rep.Synced != len(leased) || rep.Left != 0 || rep.Failed != 0 {
		t.Fatalf("run after the leases expired %+v, want the %d formerly leased files synced", rep, len(leased))
	}
	wasFlipped := map[int]bool{}
	for _, i := range flipped {
		wasFlipped[i] = true
	}
	for i, f := range files {
		e.wantSynced(f, datas[i], true)
		want := map[bool]int{true: 0, false: 1}[wasFlipped[i]]
		if n := cold.putsOf(f.ObjectKey); n != want {
			t.Errorf("file %d: copied %d times after the kill, want %d", i, n, want)
		}
		if s := e.state(f.ID); s.Attempts != 1 {
			t.Errorf("file %d: %d attempts recorded, want 1 (one flip)", i, s.Attempts)
		}
	}
}
