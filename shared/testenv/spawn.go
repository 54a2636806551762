package testenv

import (
	"os/exec"
	"runtime"
	"sync"
)

var (
	spawnOnce sync.Once
	spawnc    chan func()
)

// Start starts cmd from an OS thread that lives as long as the test binary.
// Processes started with Pdeathsig die when the thread that started them
// exits, and Go ends threads whose goroutine exits while locked to them
// (shared/auth runs bcrypt on such throw-away threads): starting children
// from this one thread ties them to the test binary, as intended.
func Start(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawnc = make(chan func())
		go func() {
			runtime.LockOSThread() // never unlocked: this thread is kept for good
			for f := range spawnc {
				f()
			}
		}()
	})
	errc := make(chan error, 1)
	spawnc <- func() { errc <- cmd.Start() }
	return <-errc
}
