package syncjob

// One file's move: the copy from the hot tier to the cold tier, hashed on
// the way, and the check of the cold copy.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/url"
	"strconv"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
	"github.com/hybrid-storage/hybrid-storage/shared/storage"
)

// Errors of one file's move.
var (
	ErrChecksumMismatch = errors.New("cold copy does not match the database (size, CRC64NVME or SHA-256)")
	ErrSourceMismatch   = errors.New("hot copy does not match the database (size or SHA-256)")
	ErrHotMissing       = errors.New("hot copy is missing")
	// ErrHotChanged: the hot object's ETag is not the one recorded with the
	// row, so it was replaced after the upload; it is not copied as the file.
	ErrHotChanged = errors.New("hot copy was replaced after the upload (its ETag is not the recorded one)")
	// ErrRowCRC: the hot copy matches the row's size and SHA-256 but not
	// its CRC64NVME, so the row's CRC64NVME is wrong (the cold tier refuses
	// the object).
	ErrRowCRC = errors.New("the database's CRC64NVME does not match the hot copy (whose size and SHA-256 do)")
)

// permanent marks an error no retry can fix.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

func isPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// partSize is the cold upload part size of the job: the transfer manager
// holds about three parts per file (one read ahead, two in flight), so
// 5 MiB parts (the S3 minimum) keep a file's buffers near 20 MiB whatever its size.
const partSize = 5 << 20

// move copies f from hot to cold (streaming, the size known), hashing what
// it reads, and sends the full-object CRC64NVME (the row's, or none for a
// row without one) so that the cold tier refuses a body that does not match
// it; then it checks the cold copy (verify). A bad cold copy is deleted. It
// runs with no transaction open, f leased to the run.
//
// The hot object is read pinned to the row's ETag when it has one
// (If-Match): a row recorded without its checksums (a presigned upload)
// gets them from these bytes, and an object replaced since the upload is
// refused. A row with a SHA-256 must match it as before.
func (j *Job) move(ctx context.Context, f core.File) (postgres.Moved, error) {
	key := f.ObjectKey
	if f.ChecksumSHA256 == "" && f.HotETag == "" {
		return postgres.Moved{}, permanent{fmt.Errorf("sync file %d: the row has neither a SHA-256 nor the ETag of its hot object", f.ID)}
	}
	src, err := j.hot.OpenMatch(ctx, key, f.HotETag, 0, -1)
	if errors.Is(err, storage.ErrNotFound) {
		return postgres.Moved{}, permanent{fmt.Errorf("sync file %d: %w: %v", f.ID, ErrHotMissing, err)}
	}
	if errors.Is(err, storage.ErrChanged) {
		return postgres.Moved{}, permanent{fmt.Errorf("sync file %d: %w: %v", f.ID, ErrHotChanged, err)}
	}
	if err != nil {
		return postgres.Moved{}, fmt.Errorf("sync file %d: open hot copy: %w", f.ID, err)
	}
	hr := newHashReader(src)
	var body io.Reader = hr
	if j.hooks.ColdBody != nil {
		body = j.hooks.ColdBody(f, hr)
	}
	class := j.storageClass(f)
	meta := map[string]string{
		"owner-id":          strconv.FormatInt(f.UserID, 10),
		"original-filename": url.QueryEscape(f.OriginalFilename),
	}
	if f.ChecksumSHA256 != "" { // else known only once the bytes are read
		meta["sha256"] = f.ChecksumSHA256
	}
	_, err = j.cold.Put(ctx, key, body, f.Size, storage.PutOptions{ContentType: f.ContentType, PartSize: partSize,
		Checksum: true, CRC64NVME: f.ChecksumCRC64NVME, StorageClass: class, Metadata: meta})
	src.Close()
	readAll := hr.n == f.Size && err != nil // a refused put read the whole file first
	if err == nil || readAll {
		if hr.n != f.Size || f.ChecksumSHA256 != "" && hr.sum() != f.ChecksumSHA256 {
			if err == nil {
				j.deleteBadCopy(ctx, f)
			}
			return postgres.Moved{}, permanent{fmt.Errorf("sync file %d: %w: read %d bytes with sha256 %s, want %d bytes with %s",
				f.ID, ErrSourceMismatch, hr.n, hr.sum(), f.Size, f.ChecksumSHA256)}
		}
		if f.ChecksumCRC64NVME != "" && hr.crc() != f.ChecksumCRC64NVME {
			refused := "the cold tier took it" // cannot happen: it checks the CRC64NVME sent
			if err == nil {
				j.deleteBadCopy(ctx, f)
			} else {
				refused = "the cold tier refused it: " + err.Error()
			}
			return postgres.Moved{}, permanent{fmt.Errorf("sync file %d: %w: read crc64nvme %s, the row has %s; %s",
				f.ID, ErrRowCRC, hr.crc(), f.ChecksumCRC64NVME, refused)}
		}
	}
	if err != nil {
		// Refused by the cold tier (a body corrupted on the way) or failed.
		return postgres.Moved{}, fmt.Errorf("sync file %d: copy to cold tier: %w", f.ID, err)
	}
	// The bytes read match the row's SHA-256 (or, for a row without one,
	// are those of the object with the row's ETag): their checksums are the
	// file's, for a row that has none yet.
	crc, sum := hr.crc(), hr.sum()
	if j.hooks.AfterCopy != nil {
		if err := j.hooks.AfterCopy(ctx, f); err != nil {
			return postgres.Moved{}, err
		}
	}
	if err := j.verify(ctx, f, crc, sum); err != nil {
		return postgres.Moved{}, err
	}
	if j.hooks.BeforeCommit != nil {
		if err := j.hooks.BeforeCommit(ctx, f); err != nil {
			return postgres.Moved{}, err
		}
	}
	return postgres.Moved{AccessURL: j.cold.URL(key), StorageClass: class, CRC64NVME: crc, SHA256: sum}, nil
}

// storageClass is the class f's cold copy is written in: the configured
// one, but STANDARD under the minimum billable size of the others.
func (j *Job) storageClass(f core.File) string {
	if f.Size < MinClassSize {
		return core.StorageStandard
	}
	return j.opt.StorageClass
}

// verify checks the cold copy of f, whose full-object CRC64NVME is crc and
// SHA-256 sum: a HEAD in checksum mode (the size and the checksum the tier
// keeps), and in readback mode the copy read back through a hash (multipart
// ETags prove nothing about the content).
func (j *Job) verify(ctx context.Context, f core.File, crc, sum string) error {
	info, err := j.cold.Stat(ctx, f.ObjectKey)
	if err != nil {
		return fmt.Errorf("sync file %d: head cold copy: %w", f.ID, err)
	}
	if info.Size != f.Size || info.ChecksumCRC64NVME != crc {
		j.deleteBadCopy(ctx, f)
		return fmt.Errorf("sync file %d: %w: the cold tier keeps %d bytes with crc64nvme %q, want %d bytes with %s",
			f.ID, ErrChecksumMismatch, info.Size, info.ChecksumCRC64NVME, f.Size, crc)
	}
	if j.opt.Verify != VerifyReadback {
		return nil
	}
	body, err := j.cold.Open(ctx, f.ObjectKey, 0)
	if err != nil {
		return fmt.Errorf("sync file %d: read cold copy back: %w", f.ID, err)
	}
	defer body.Close()
	hr := newHashReader(body)
	if _, err := io.Copy(io.Discard, hr); err != nil {
		return fmt.Errorf("sync file %d: read cold copy back: %w", f.ID, err)
	}
	if hr.n != f.Size || hr.sum() != sum {
		j.deleteBadCopy(ctx, f)
		return fmt.Errorf("sync file %d: %w: got %d bytes with sha256 %s, want %d bytes with %s",
			f.ID, ErrChecksumMismatch, hr.n, hr.sum(), f.Size, sum)
	}
	return nil
}

func (j *Job) deleteBadCopy(ctx context.Context, f core.File) {
	if err := j.cold.Delete(context.WithoutCancel(ctx), f.ObjectKey); err != nil {
		j.logger.ErrorContext(ctx, "delete bad cold copy", "file_id", f.ID, "key", f.ObjectKey, "error", err.Error())
	}
}

// hashReader counts what is read through it and hashes it (SHA-256 and
// CRC64NVME).
type hashReader struct {
	r io.Reader
	h hash.Hash
	c hash.Hash64
	n int64
}

func newHashReader(r io.Reader) *hashReader {
	return &hashReader{r: r, h: sha256.New(), c: storage.NewCRC64NVME()}
}

func (h *hashReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.n += int64(n)
	h.h.Write(p[:n])
	h.c.Write(p[:n])
	return n, err
}

func (h *hashReader) sum() string { return hex.EncodeToString(h.h.Sum(nil)) }

func (h *hashReader) crc() string { return storage.CRC64NVMEBase64(h.c) }
