//go:build unix

package storage

import "syscall"

// newPartBuffer maps an anonymous uploadPartSize buffer outside the Go
// heap: its 16 MiB do not count in the heap the collector paces itself on
// (with GOGC=100 two live buffers would let 32 MiB more of garbage pile up
// before a collection), and freePartBuffer gives it back to the system at
// once.
func newPartBuffer() []byte {
	b, err := syscall.Mmap(-1, 0, uploadPartSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]byte, uploadPartSize)
	}
	return b
}

func freePartBuffer(b []byte) {
	_ = syscall.Munmap(b) // EINVAL for a heap buffer (the fallback above), which the collector takes
}
