//go:build !linux

package auth

// runLowPriority runs fn; only Linux lowers a thread's priority.
func runLowPriority(fn func()) { fn() }
