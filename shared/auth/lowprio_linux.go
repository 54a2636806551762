//go:build linux

package auth

import (
	"runtime"
	"syscall"
)

// runLowPriority runs fn on an OS thread of its own at nice 10, so that
// when cores are short the kernel prefers the threads serving other
// requests. The thread is thrown away afterwards: without privilege its
// priority cannot be raised back.
func runLowPriority(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: the thread exits with this goroutine
		_ = syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), 10)
		fn()
	}()
	<-done
}
