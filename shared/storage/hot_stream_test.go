package storage_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/hybrid-storage/hybrid-storage/shared/storage"
	"github.com/hybrid-storage/hybrid-storage/shared/testenv"
)

// A stream of unknown length goes up in 16 MiB parts, each with its
// CRC64NVME, and completes with the full-object CRC64NVME, which the tier
// checks and keeps; Put returns it and the ETag, and the digest saw every
// byte in order.
func TestHotStreamedPut(t *testing.T) {
	t.Parallel()
	hot := testenv.App(t, testenv.Config(t)).Hot
	ctx := context.Background()
	data := make([]byte, 2*16<<20+12345) // three parts
	rand.Read(data)
	digest := sha256.New()
	// A reader that returns odd sizes, as a request body does.
	src := io.MultiReader(bytes.NewReader(data[:1000]), bytes.NewReader(data[1000:]))
	info, err := hot.Put(ctx, "stream/three", src, -1, storage.PutOptions{ContentType: "application/octet-stream", Digest: digest})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if info.Size != int64(len(data)) || info.ChecksumCRC64NVME != refCRC(data) || !strings.HasSuffix(info.ETag, "-3") || !bytes.Equal(digest.Sum(nil), sum[:]) {
		t.Errorf("put: %+v, digest %x; want %d bytes, crc64nvme %s, a 3-part ETag, digest %x", info, digest.Sum(nil), len(data), refCRC(data), sum)
	}
	st, err := hot.Core.Client.StatObject(ctx, hot.Bucket(), "stream/three", minio.StatObjectOptions{Checksum: true})
	if err != nil {
		t.Fatal(err)
	}
	if st.ChecksumCRC64NVME != refCRC(data) || st.Size != int64(len(data)) || storage.TrimETag(st.ETag) != storage.TrimETag(info.ETag) {
		t.Errorf("the tier keeps %d bytes, crc64nvme %q, ETag %s; want %d, %s, %s", st.Size, st.ChecksumCRC64NVME, st.ETag, len(data), refCRC(data), info.ETag)
	}
	body, err := hot.Open(ctx, "stream/three", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	if got, err := io.ReadAll(body); err != nil || !bytes.Equal(got, data) {
		t.Errorf("stored %d bytes (%v), want the %d sent", len(got), err, len(data))
	}
}

// A source failing mid-stream fails the put and leaves neither an object
// nor an open multipart upload.
func TestHotStreamedPutFailingSource(t *testing.T) {
	t.Parallel()
	hot := testenv.App(t, testenv.Config(t)).Hot
	ctx := context.Background()
	broken := errors.New("connection reset")
	src := io.MultiReader(io.LimitReader(rand.Reader, 20<<20), &failing{broken})
	if _, err := hot.Put(ctx, "stream/broken", src, -1, storage.PutOptions{}); !errors.Is(err, broken) {
		t.Fatalf("put: %v, want the source's error", err)
	}
	if _, err := hot.Stat(ctx, "stream/broken"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("stat: %v, want not found", err)
	}
	res, err := hot.Core.ListMultipartUploads(ctx, hot.Bucket(), "", "", "", "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Uploads) != 0 {
		t.Errorf("%d open multipart uploads, want 0", len(res.Uploads))
	}
}

type failing struct{ err error }

func (f *failing) Read([]byte) (int, error) { return 0, f.err }
