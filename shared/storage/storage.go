// Package storage talks to the two object tiers: the hot tier (MinIO or any
// S3-compatible server, through minio-go) and the cold tier (AWS S3, or an
// S3-compatible stand-in, through aws-sdk-go-v2). Both offer the same small
// set of operations: streaming put, ranged get, stat, presigned get, delete.
package storage

import (
	"errors"
	"io"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
)

// CORSRule is one bucket CORS rule (S3's CORSRule). The rules the product
// uses are in shared/hosted, which the deploy and the local stacks share.
type CORSRule struct {
	AllowedOrigins []string `json:"AllowedOrigins"`
	AllowedMethods []string `json:"AllowedMethods"`
	AllowedHeaders []string `json:"AllowedHeaders"`
	ExposeHeaders  []string `json:"ExposeHeaders"`
	MaxAgeSeconds  int      `json:"MaxAgeSeconds"`
}

// ErrNotFound is returned when an object or bucket does not exist.
var ErrNotFound = errors.New("object not found")

// ErrChanged is returned by a read pinned to an ETag (If-Match) when the
// object under the key has another ETag now: it was replaced.
var ErrChanged = errors.New("object changed: its ETag is not the one expected")

// MaxPresignTTL is the longest presigned URL the API hands out.
const MaxPresignTTL = 15 * time.Minute

// maxListKeys is the most keys S3 answers to one list request.
const maxListKeys = 1000

// uploadPartSize is the part size of streamed uploads of unknown length. It
// bounds the memory one upload holds.
const uploadPartSize = 16 << 20

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Key          string
	Size         int64
	ContentType  string
	ETag         string
	LastModified time.Time
	Metadata     map[string]string // user metadata, keys lower-case without the x-amz-meta- prefix
	// ChecksumCRC64NVME is the full-object CRC64NVME the cold tier keeps
	// (base64), when it has one; ChecksumType is its type (FULL_OBJECT).
	ChecksumCRC64NVME string
	ChecksumType      string
	StorageClass      string // as the cold tier reports it; S3 leaves it out for STANDARD
}

// PutOptions describe an object being written.
type PutOptions struct {
	ContentType string
	Metadata    map[string]string
	// PartSize, when set (at least 5 MiB), replaces the cold tier's 16 MiB
	// upload part size for this put: memory held is about three parts.
	PartSize int64
	// Cold tier only. Checksum sends CRC64NVME checksums with every request
	// of the put (multipart: ChecksumType FULL_OBJECT), so the tier keeps
	// the object's full-object CRC64NVME. CRC64NVME, when set (base64), is
	// that value: the tier refuses a body that does not match it (implies
	// Checksum).
	Checksum  bool
	CRC64NVME string
	// StorageClass is the S3 storage class to write (cold tier only; empty:
	// the bucket's default, STANDARD).
	StorageClass string
	// Digest, when set (hot tier only), is written every byte stored, in
	// order, before Put returns; a streamed put (size -1) writes it on a
	// goroutine of its own while the next part arrives.
	Digest io.Writer
}

// objectURL builds the path-style URL of key in bucket under base
// ("http://host:port").
func objectURL(base, bucket, key string) string {
	return strings.TrimRight(base, "/") + "/" + bucket + "/" + escapeKey(key)
}

func escapeKey(key string) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// ContentDisposition builds an RFC 6266 attachment header for a file name:
// an ASCII fallback in filename= and the exact UTF-8 name in filename*=
// (RFC 5987). Bidi controls and zero-width characters are left out
// (core.StripInvisible), also of names stored before they were refused.
func ContentDisposition(name string) string {
	name = core.StripInvisible(name)
	var ascii strings.Builder
	for _, r := range name {
		switch {
		case r < 0x20 || r == 0x7f:
			// control characters never reach a header
		case r > 0x7e || r == '"' || r == '\\' || r == '%' || r == ';':
			ascii.WriteByte('_')
		default:
			ascii.WriteRune(r)
		}
	}
	fallback := ascii.String()
	if strings.Trim(fallback, "_ ") == "" {
		fallback = "download"
	}
	return `attachment; filename="` + fallback + `"; filename*=UTF-8''` + rfc5987Escape(name)
}

// rfc5987Escape percent-encodes everything but RFC 5987 attr-chars.
func rfc5987Escape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// ByteRange is Length bytes of an object from Offset.
type ByteRange struct{ Offset, Length int64 }

// RangeReader returns an io.ReadSeeker over an object of the given size that
// opens a ranged GET (through open) only when read, and again after each
// seek. A GET asks for the bytes up to the end of the range of spans
// (sorted by offset) that holds the position, or else up to the end of the
// object, so a download of a few ranges costs one bounded GET per range.
// It lets http.ServeContent serve Range requests from either tier without
// buffering.
func RangeReader(size int64, spans []ByteRange, open func(offset, length int64) (io.ReadCloser, error)) io.ReadSeekCloser {
	return &rangeReader{size: size, spans: spans, open: open}
}

type rangeReader struct {
	size   int64
	spans  []ByteRange
	offset int64
	end    int64 // of the GET being read
	open   func(offset, length int64) (io.ReadCloser, error)
	body   io.ReadCloser
}

// spanEnd is where a GET from off stops.
func (r *rangeReader) spanEnd(off int64) int64 {
	i := sort.Search(len(r.spans), func(i int) bool { return r.spans[i].Offset+r.spans[i].Length > off })
	if i < len(r.spans) && r.spans[i].Offset <= off {
		return min(r.spans[i].Offset+r.spans[i].Length, r.size)
	}
	return r.size
}

func (r *rangeReader) Read(p []byte) (int, error) {
	if r.offset >= r.size {
		return 0, io.EOF
	}
	if r.body == nil {
		end := r.spanEnd(r.offset)
		body, err := r.open(r.offset, end-r.offset)
		if err != nil {
			return 0, err
		}
		r.body, r.end = body, end
	}
	if left := r.end - r.offset; int64(len(p)) > left {
		p = p[:left]
	}
	n, err := r.body.Read(p)
	r.offset += int64(n)
	if r.offset >= r.end {
		// This GET is done; reading on opens the next one.
		r.body.Close()
		r.body = nil
		if err == io.EOF {
			err = nil
		}
		if err == nil && r.offset >= r.size {
			err = io.EOF
		}
		return n, err
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}
func (r *rangeReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.offset
	case io.SeekEnd:
		offset += r.size
	default:
		return 0, errors.New("seek: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("seek: negative position")
	}
	if offset != r.offset && r.body != nil {
		r.body.Close()
		r.body = nil
	}
	r.offset = offset
	return offset, nil
}

func (r *rangeReader) Close() error {
	if r.body != nil {
		return r.body.Close()
	}
	return nil
}
