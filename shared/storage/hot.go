package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/cors"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Hot is the hot tier: a bucket on MinIO or another S3-compatible server.
type Hot struct {
	client  *minio.Client
	Core    *minio.Core   // low-level calls (multipart) on the same client
	presign *minio.Client // signs URLs for the public endpoint browsers use
	bucket  string
	base    string // public base URL, for access URLs
}

// HotOptions locate the hot tier.
type HotOptions struct {
	Endpoint, PublicEndpoint string // host:port
	AccessKey, SecretKey     string
	Bucket, Region           string
	Secure                   bool
}

// NewHot returns a client of the hot tier. It does no network I/O.
func NewHot(o HotOptions) (*Hot, error) {
	mk := func(endpoint string) (*minio.Client, error) {
		return minio.New(endpoint, &minio.Options{
			Creds:  credentials.NewStaticV4(o.AccessKey, o.SecretKey, ""),
			Secure: o.Secure,
			Region: o.Region, // known region: presigning needs no round trip
			// Uploads send a CRC32C trailer instead of signing every 64 KiB
			// chunk with SHA-256 (see Put).
			TrailingHeaders: true,
		})
	}
	c, err := mk(o.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("hot tier client for %s: %w", o.Endpoint, err)
	}
	pub := o.PublicEndpoint
	if pub == "" {
		pub = o.Endpoint
	}
	p, err := mk(pub)
	if err != nil {
		return nil, fmt.Errorf("hot tier presign client for %s: %w", pub, err)
	}
	scheme := "http://"
	if o.Secure {
		scheme = "https://"
	}
	return &Hot{client: c, Core: &minio.Core{Client: c}, presign: p, bucket: o.Bucket, base: scheme + pub}, nil
}

// Bucket is the hot bucket's name.
func (h *Hot) Bucket() string { return h.bucket }

// URL is the object's address in the hot tier (not public: it needs a
// signature).
func (h *Hot) URL(key string) string { return objectURL(h.base, h.bucket, key) }

// Put streams r to key and returns the object's ETag and its full-object
// CRC64NVME (computed from the bytes sent). size may be -1 when unknown:
// the body is then sent in 16 MiB parts, two buffered at a time, so memory
// stays bounded (32 MiB, reused across puts) whatever the length
// (putStream). o.Digest, when set, is written every byte.
func (h *Hot) Put(ctx context.Context, key string, r io.Reader, size int64, o PutOptions) (ObjectInfo, error) {
	if size < 0 {
		return h.putStream(ctx, key, r, o)
	}
	crc := NewCRC64NVME()
	var w io.Writer = crc
	if o.Digest != nil {
		w = io.MultiWriter(crc, o.Digest)
	}
	info, err := h.client.PutObject(ctx, h.bucket, key, io.TeeReader(r, w), size, minio.PutObjectOptions{
		ContentType:  o.ContentType,
		UserMetadata: o.Metadata,
		PartSize:     uploadPartSize,
		// Over plain HTTP minio-go would otherwise hash every chunk with
		// SHA-256 for a streaming signature, and the server hash it again to
		// check it: most of an upload's CPU. The CRC32C trailer still lets
		// the server reject corrupted bytes, and the API hashes the file
		// itself for its checksum.
		DisableContentSha256: true,
	})
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("hot put %s: %w", key, err)
	}
	return ObjectInfo{Key: key, Size: info.Size, ETag: info.ETag, ContentType: o.ContentType, ChecksumCRC64NVME: CRC64NVMEBase64(crc)}, nil
}

// Open returns the object's bytes from offset to the end.
func (h *Hot) Open(ctx context.Context, key string, offset int64) (io.ReadCloser, error) {
	return h.OpenRange(ctx, key, offset, -1)
}

// OpenRange returns length bytes of the object from offset (to the end
// when length is negative), with one GET of that range.
func (h *Hot) OpenRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	return h.OpenMatch(ctx, key, "", offset, length)
}

// OpenMatch is OpenRange pinned to the object's ETag etag (unless empty):
// the GET carries If-Match, so an object replaced since etag was recorded
// is refused with ErrChanged, never read as if it were the same.
func (h *Hot) OpenMatch(ctx context.Context, key, etag string, offset, length int64) (io.ReadCloser, error) {
	if length == 0 {
		return io.NopCloser(strings.NewReader("")), nil
	}
	opts := minio.GetObjectOptions{}
	var err error
	if etag != "" {
		err = opts.SetMatchETag(etag)
	}
	switch {
	case err != nil:
	case length > 0:
		err = opts.SetRange(offset, offset+length-1) // bytes=N-M
	case offset > 0:
		err = opts.SetRange(offset, 0) // bytes=N-
	}
	if err != nil {
		return nil, fmt.Errorf("hot get %s: %w", key, err)
	}
	// minio.Core.GetObject sends the request now, so a missing key fails
	// here and not on the first read.
	body, _, _, err := h.Core.GetObject(ctx, h.bucket, key, opts)
	if err != nil {
		return nil, fmt.Errorf("hot get %s: %w", key, mapMinioErr(err))
	}
	return body, nil
}

// Stat returns the object's info, or ErrNotFound.
func (h *Hot) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	st, err := h.client.StatObject(ctx, h.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("hot stat %s: %w", key, mapMinioErr(err))
	}
	return ObjectInfo{Key: key, Size: st.Size, ContentType: st.ContentType, ETag: st.ETag, LastModified: st.LastModified, Metadata: lowerKeys(st.UserMetadata)}, nil
}

// PresignGet returns a URL that downloads the object as an attachment
// named filename, valid for ttl (at most MaxPresignTTL).
func (h *Hot) PresignGet(ctx context.Context, key, filename string, ttl time.Duration) (string, error) {
	params := url.Values{"response-content-disposition": {ContentDisposition(filename)}}
	u, err := h.presign.PresignedGetObject(ctx, h.bucket, key, min(ttl, MaxPresignTTL), params)
	if err != nil {
		return "", fmt.Errorf("hot presign %s: %w", key, err)
	}
	return u.String(), nil
}

// Delete removes the object; a missing object is not an error.
func (h *Hot) Delete(ctx context.Context, key string) error {
	if err := h.client.RemoveObject(ctx, h.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		if errors.Is(mapMinioErr(err), ErrNotFound) {
			return nil
		}
		return fmt.Errorf("hot delete %s: %w", key, err)
	}
	return nil
}

// List returns up to max objects (key, size, ETag, last modified) whose
// keys start with prefix and sort after after ("": from the first), in key
// order; fewer than max means the listing is over. It asks for at most
// 1000 keys a request.
func (h *Hot) List(ctx context.Context, prefix, after string, max int) ([]ObjectInfo, error) {
	ctx, cancel := context.WithCancel(ctx) // stops the lister when max is reached
	defer cancel()
	var out []ObjectInfo
	for o := range h.client.ListObjects(ctx, h.bucket, minio.ListObjectsOptions{Prefix: prefix, StartAfter: after, Recursive: true, MaxKeys: min(max, maxListKeys)}) {
		if o.Err != nil {
			return nil, fmt.Errorf("hot list %s after %q: %w", prefix, after, mapMinioErr(o.Err))
		}
		out = append(out, ObjectInfo{Key: o.Key, Size: o.Size, ETag: o.ETag, LastModified: o.LastModified})
		if len(out) >= max {
			break
		}
	}
	return out, nil
}

// Ping checks the bucket is reachable.
func (h *Hot) Ping(ctx context.Context) error {
	ok, err := h.client.BucketExists(ctx, h.bucket)
	if err != nil {
		return fmt.Errorf("hot bucket %s: %w", h.bucket, err)
	}
	if !ok {
		return fmt.Errorf("hot bucket %s: %w", h.bucket, ErrNotFound)
	}
	return nil
}

// EnsureBucket creates the bucket if missing and sets its CORS rules (none:
// CORS is left as it is), so browsers can PUT parts and GET objects with
// presigned URLs.
func (h *Hot) EnsureBucket(ctx context.Context, rules []CORSRule) error {
	ok, err := h.client.BucketExists(ctx, h.bucket)
	if err != nil {
		return fmt.Errorf("hot bucket %s: %w", h.bucket, err)
	}
	if !ok {
		if err := h.client.MakeBucket(ctx, h.bucket, minio.MakeBucketOptions{}); err != nil {
			return fmt.Errorf("create hot bucket %s: %w", h.bucket, err)
		}
	}
	if len(rules) == 0 {
		return nil
	}
	cr := make([]cors.Rule, len(rules))
	for i, r := range rules {
		cr[i] = cors.Rule{
			AllowedOrigin: r.AllowedOrigins,
			AllowedMethod: r.AllowedMethods,
			AllowedHeader: r.AllowedHeaders,
			ExposeHeader:  r.ExposeHeaders,
			MaxAgeSeconds: r.MaxAgeSeconds,
		}
	}
	cfg := cors.NewConfig(cr)
	if err := h.client.SetBucketCors(ctx, h.bucket, cfg); err != nil {
		// MinIO has no per-bucket CORS (it answers NotImplemented and is
		// configured server-wide with MINIO_API_CORS_ALLOW_ORIGIN): go on.
		if minio.ToErrorResponse(err).Code == "NotImplemented" {
			return ErrCORSNotSupported
		}
		return fmt.Errorf("set cors on hot bucket %s: %w", h.bucket, err)
	}
	return nil
}

// ErrCORSNotSupported is returned by EnsureBucket when the bucket exists but
// the server does not take per-bucket CORS rules (MinIO); callers warn.
var ErrCORSNotSupported = errors.New("the server does not support per-bucket CORS; configure CORS on the server")

func mapMinioErr(err error) error {
	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	case "NoSuchKey", "NoSuchBucket", "NotFound":
		return fmt.Errorf("%w (%s)", ErrNotFound, resp.Code)
	case "PreconditionFailed":
		return fmt.Errorf("%w (%s)", ErrChanged, resp.Code)
	}
	if resp.StatusCode == http.StatusPreconditionFailed {
		return fmt.Errorf("%w (%v)", ErrChanged, err)
	}
	if resp.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%w (%v)", ErrNotFound, err)
	}
	return err
}

func lowerKeys(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}
