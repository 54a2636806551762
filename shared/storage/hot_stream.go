package storage

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
)

// maxParts is S3's limit of parts per multipart upload.
const maxParts = 10000

// streamBuffers is how many part buffers one streamed put holds: one
// filling from the source while the other is hashed and sent.
const streamBuffers = 2

// idleBuffers is how many part buffers are kept between streamed puts:
// those of two puts at a time.
const idleBuffers = 2 * streamBuffers

// partBuffers holds the idle uploadPartSize buffers of streamed puts, so
// that puts reuse them: a fresh 32 MiB per upload cost zeroing it and let
// the heap, and the resident set, grow with garbage between collections.
// A channel, not a sync.Pool: a pool is emptied by collections, and new
// buffers then came on top of the old ones not yet returned to the system.
var partBuffers = make(chan *[]byte, idleBuffers)

func getPartBuffer() *[]byte {
	select {
	case b := <-partBuffers:
		return b
	default:
		b := newPartBuffer()
		return &b
	}
}

func putPartBuffer(b *[]byte) {
	select {
	case partBuffers <- b:
	default: // enough kept
		freePartBuffer(*b)
	}
}

// putStream uploads a stream of unknown length as a multipart upload of
// uploadPartSize parts, in a pipeline: the caller's goroutine fills one
// buffer from r while the previous one is hashed (o.Digest and the
// full-object CRC64NVME, in order, on a goroutine of their own) and sent
// (each part with its CRC64NVME, which the tier checks). The completion
// names the full-object CRC64NVME, which the tier checks against the parts
// it holds, and returns it. A failure aborts the upload.
func (h *Hot) putStream(ctx context.Context, key string, r io.Reader, o PutOptions) (info ObjectInfo, err error) {
	meta := map[string]string{"X-Amz-Checksum-Algorithm": "CRC64NVME", "X-Amz-Checksum-Type": "FULL_OBJECT"}
	for k, v := range o.Metadata {
		meta[k] = v
	}
	uploadID, err := h.Core.NewMultipartUpload(ctx, h.bucket, key, minio.PutObjectOptions{ContentType: o.ContentType, UserMetadata: meta})
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("hot put %s: start multipart upload: %w", key, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer func() {
		if err != nil {
			actx, acancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer acancel()
			_ = h.Core.AbortMultipartUpload(actx, h.bucket, key, uploadID) // an upload left over expires with the bucket's rules
		}
	}()

	p := &pipeline{h: h, ctx: ctx, cancel: cancel, key: key, uploadID: uploadID, free: make(chan *[]byte, streamBuffers),
		hashq: make(chan hashJob, streamBuffers), crc: NewCRC64NVME(), digest: o.Digest}
	for range streamBuffers {
		p.free <- getPartBuffer()
	}
	hashed := make(chan struct{})
	go p.hash(hashed)
	size, rerr := p.feed(r)
	close(p.hashq)
	<-hashed
	p.sends.Wait()
	for range streamBuffers {
		putPartBuffer(<-p.free)
	}
	switch {
	case p.err != nil:
		return ObjectInfo{}, fmt.Errorf("hot put %s: %w", key, p.err)
	case rerr != nil:
		return ObjectInfo{}, fmt.Errorf("hot put %s: %w", key, rerr)
	}
	sort.Slice(p.parts, func(i, k int) bool { return p.parts[i].PartNumber < p.parts[k].PartNumber })
	crc := CRC64NVMEBase64(p.crc)
	res, err := h.Core.CompleteMultipartUpload(ctx, h.bucket, key, uploadID, p.parts, minio.PutObjectOptions{
		UserMetadata: map[string]string{"X-Amz-Checksum-Crc64nvme": crc, "X-Amz-Checksum-Type": "FULL_OBJECT"},
	})
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("hot put %s: complete multipart upload: %w", key, err)
	}
	return ObjectInfo{Key: key, Size: size, ETag: res.ETag, ContentType: o.ContentType, ChecksumCRC64NVME: crc}, nil
}

// pipeline is one streamed put in progress.
type pipeline struct {
	h             *Hot
	ctx           context.Context
	cancel        context.CancelFunc
	key, uploadID string
	free          chan *[]byte // buffers neither hashed nor sent
	hashq         chan hashJob // filled buffers, in order
	crc           hash.Hash64
	digest        io.Writer
	sends         sync.WaitGroup
	mu            sync.Mutex
	parts         []minio.CompletePart
	err           error // the first failure of a send
}

// hashJob is a filled buffer; done is called when it is hashed.
type hashJob struct {
	b    []byte
	done func()
}

// feed fills buffers from r and hands each to the hasher and a sender. It
// returns the bytes read and a failure of r; a send's failure stops it
// (p.err).
func (p *pipeline) feed(r io.Reader) (int64, error) {
	var size int64
	for part := 1; ; part++ {
		if err := p.ctx.Err(); err != nil {
			return size, err // a send failed (p.err) or the caller's context ended
		}
		var buf *[]byte
		select {
		case buf = <-p.free:
		case <-p.ctx.Done():
			return size, p.ctx.Err() // a send failed (p.err) or the caller's context ended
		}
		if part > maxParts {
			p.free <- buf
			return size, fmt.Errorf("the stream is longer than %d parts of %d MiB", maxParts, uploadPartSize>>20)
		}
		n, err := io.ReadFull(r, *buf)
		// As minio-go does, a short read (io.ErrUnexpectedEOF) ends the
		// stream: the caller knows whether its source failed.
		end := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && !end {
			p.free <- buf
			return size, fmt.Errorf("read source: %w", err)
		}
		if n == 0 && part > 1 {
			p.free <- buf
			return size, nil
		}
		size += int64(n)
		b := (*buf)[:n]
		var pending sync.WaitGroup // hashed and sent: the buffer is free again
		pending.Add(2)
		go func() { pending.Wait(); p.free <- buf }()
		p.hashq <- hashJob{b: b, done: pending.Done}
		p.sends.Add(1)
		go p.send(part, b, pending.Done)
		if end {
			return size, nil
		}
	}
}

// hash writes every filled buffer, in order, to the full-object CRC64NVME
// and the caller's digest.
func (p *pipeline) hash(done chan<- struct{}) {
	defer close(done)
	for j := range p.hashq {
		p.crc.Write(j.b) //nolint:errcheck // hashes never fail
		if p.digest != nil {
			p.digest.Write(j.b) //nolint:errcheck // the caller's hashes never fail
		}
		j.done()
	}
}

// send uploads b as part number part, with its CRC64NVME for the tier to
// check.
func (p *pipeline) send(part int, b []byte, done func()) {
	defer p.sends.Done()
	defer done()
	c := NewCRC64NVME()
	c.Write(b) //nolint:errcheck // hashes never fail
	sum := base64.StdEncoding.EncodeToString(c.Sum(nil))
	res, err := p.h.Core.PutObjectPart(p.ctx, p.h.bucket, p.key, p.uploadID, part, bytes.NewReader(b), int64(len(b)), minio.PutObjectPartOptions{
		DisableContentSha256: true,
		CustomHeader:         http.Header{"X-Amz-Checksum-Crc64nvme": {sum}},
	})
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		if p.err == nil {
			p.err = fmt.Errorf("upload part %d: %w", part, err)
		}
		p.cancel()
		return
	}
	p.parts = append(p.parts, minio.CompletePart{PartNumber: part, ETag: res.ETag, ChecksumCRC64NVME: sum})
}
