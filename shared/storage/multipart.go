package storage

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/minio/minio-go/v7"
)

// MaxPartPresignTTL is the longest a presigned part URL is valid: long
// enough for one part of a large file on a slow link.
const MaxPartPresignTTL = time.Hour

// ErrNoSuchUpload is returned when the tier no longer knows a multipart
// upload (completed or aborted).
var ErrNoSuchUpload = errors.New("no such multipart upload")

// ErrInvalidPart is returned when the tier refuses to assemble the parts
// named (one is missing or has another ETag, or they are out of order).
var ErrInvalidPart = errors.New("invalid part")

// Part is one uploaded part of a multipart upload.
type Part struct {
	Number int
	ETag   string // as the server sent it, without quotes
	Size   int64
}

// NewMultipartUpload starts a multipart upload of key and returns the
// tier's upload id.
func (h *Hot) NewMultipartUpload(ctx context.Context, key string, o PutOptions) (string, error) {
	id, err := h.Core.NewMultipartUpload(ctx, h.bucket, key, minio.PutObjectOptions{ContentType: o.ContentType, UserMetadata: o.Metadata})
	if err != nil {
		return "", fmt.Errorf("hot new multipart upload %s: %w", key, err)
	}
	return id, nil
}

// PresignPart returns a URL a client PUTs part number n of the upload to,
// with no credentials of its own, valid for ttl (at most
// MaxPartPresignTTL). The part's size is signed into the URL as its
// Content-Length, so the tier refuses a body of any other size (403). It
// signs for the public endpoint and does no I/O.
func (h *Hot) PresignPart(ctx context.Context, key, uploadID string, n int, size int64, ttl time.Duration) (string, error) {
	params := url.Values{"partNumber": {strconv.Itoa(n)}, "uploadId": {uploadID}}
	signed := http.Header{"Content-Length": {strconv.FormatInt(size, 10)}}
	u, err := h.presign.PresignHeader(ctx, http.MethodPut, h.bucket, key, min(ttl, MaxPartPresignTTL), params, signed)
	if err != nil {
		return "", fmt.Errorf("hot presign part %d of %s: %w", n, key, err)
	}
	return u.String(), nil
}

// ListParts returns every uploaded part of the upload, by part number.
// ErrNoSuchUpload when the tier no longer knows it.
func (h *Hot) ListParts(ctx context.Context, key, uploadID string) ([]Part, error) {
	var parts []Part
	marker := 0
	for {
		res, err := h.Core.ListObjectParts(ctx, h.bucket, key, uploadID, marker, 1000)
		if err != nil {
			return nil, fmt.Errorf("hot list parts of %s: %w", key, mapUploadErr(err))
		}
		for _, p := range res.ObjectParts {
			parts = append(parts, Part{Number: p.PartNumber, ETag: TrimETag(p.ETag), Size: p.Size})
		}
		if !res.IsTruncated || res.NextPartNumberMarker <= marker {
			return parts, nil
		}
		marker = res.NextPartNumberMarker
	}
}

// CompleteMultipartUpload assembles the parts into the object.
// ErrNoSuchUpload when the tier no longer knows the upload, ErrInvalidPart
// when it refuses the parts.
func (h *Hot) CompleteMultipartUpload(ctx context.Context, key, uploadID string, parts []Part) error {
	cp := make([]minio.CompletePart, len(parts))
	for i, p := range parts {
		cp[i] = minio.CompletePart{PartNumber: p.Number, ETag: p.ETag}
	}
	if _, err := h.Core.CompleteMultipartUpload(ctx, h.bucket, key, uploadID, cp, minio.PutObjectOptions{}); err != nil {
		return fmt.Errorf("hot complete multipart upload %s: %w", key, mapUploadErr(err))
	}
	return nil
}

// AbortMultipartUpload drops the upload's parts; an upload the tier no
// longer knows is not an error.
func (h *Hot) AbortMultipartUpload(ctx context.Context, key, uploadID string) error {
	if err := h.Core.AbortMultipartUpload(ctx, h.bucket, key, uploadID); err != nil {
		if errors.Is(mapUploadErr(err), ErrNoSuchUpload) {
			return nil
		}
		return fmt.Errorf("hot abort multipart upload %s: %w", key, err)
	}
	return nil
}

func mapUploadErr(err error) error {
	switch minio.ToErrorResponse(err).Code {
	case "NoSuchUpload":
		return fmt.Errorf("%w: %v", ErrNoSuchUpload, err)
	case "InvalidPart", "InvalidPartOrder":
		return fmt.Errorf("%w: %v", ErrInvalidPart, err)
	}
	return mapMinioErr(err)
}

// TrimETag returns an ETag without its surrounding quotes: servers and
// clients send part ETags quoted or not, and they compare without them.
func TrimETag(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}
