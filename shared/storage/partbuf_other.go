//go:build !unix

package storage

// newPartBuffer allocates an uploadPartSize buffer (partbuf_unix.go maps
// it outside the heap).
func newPartBuffer() []byte { return make([]byte, uploadPartSize) }

func freePartBuffer([]byte) {} // the collector takes it
