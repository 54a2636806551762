package syncjob_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/storage"
	"github.com/hybrid-storage/hybrid-storage/shared/syncjob"
)

// flipReader flips one bit of the byte at offset at of the stream: a body
// corrupted between the job's hashing and the cold tier.
type flipReader struct {
	r   io.Reader
	at  int64
	off int64
}

func (f *flipReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if f.at >= f.off && f.at < f.off+int64(n) {
		p[f.at-f.off] ^= 0x01
	}
	f.off += int64(n)
	return n, err
}

// corrupting is a ColdBody hook that corrupts the stream of file id and
// counts the streams it corrupted.
func corrupting(id int64, at int64, n *atomic.Int32) func(core.File, io.Reader) io.Reader {
	return func(f core.File, r io.Reader) io.Reader {
		if f.ID != id {
			return r
		}
		n.Add(1)
		return &flipReader{r: r, at: at}
	}
}

// wantRefused checks that f failed this run with an error containing want,
// recorded on its row, and that it is still in the hot tier only.
func (e *env) wantRefused(rep syncjob.Report, f core.File, data []byte, want string) {
	e.tb.Helper()
	if rep.Failed != 1 || len(rep.Errors) != 1 || rep.Errors[0].FileID != f.ID || !strings.Contains(rep.Errors[0].Error, want) {
		e.tb.Fatalf("report %+v, want file %d failed with %q", rep, f.ID, want)
	}
	e.wantHot(f, data)
	if s := e.state(f.ID); s.LastError == nil || !strings.Contains(*s.LastError, want) {
		e.tb.Errorf("recorded error %v, want one containing %q", s.LastError, want)
	}
	if exists(e.tb, e.app.Cold, f.ObjectKey) {
		e.tb.Error("a corrupted cold copy was left behind")
	}
	out, err := e.app.Cold.Client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(e.app.Cold.Bucket())})
	if err != nil {
		e.tb.Fatal(err)
	}
	if len(out.Uploads) != 0 {
		e.tb.Errorf("%d multipart uploads left open in the cold bucket", len(out.Uploads))
	}
}

var checksumSizes = []struct {
	name string
	size int
}{{"single", 200 << 10}, {"multipart", 12<<20 + 5}} // the job's parts are 5 MiB

// A stream corrupted between the hot and the cold tier, after the job
// hashed it, is refused by the cold tier itself: the object does not match
// the full-object CRC64NVME the job sends.
func TestCorruptedStreamIsRefusedByTheColdTier(t *testing.T) {
	t.Parallel()
	for _, tc := range checksumSizes {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			uid := e.user("flip@example.com")
			data := randomBytes(tc.size)
			f := e.seed(uid, "flip.bin", data)
			good := e.seed(uid, "fine.bin", []byte("fine"))
			var flips atomic.Int32
			rep := mustRun(t, e.jobWith(nil, syncjob.Options{MaxRetries: 2}, syncjob.Knobs{Hooks: syncjob.Hooks{
				ColdBody: corrupting(f.ID, int64(tc.size)-10, &flips)}}), context.Background())
			e.wantRefused(rep, f, data, "BadDigest") // the cold tier refused it
			if flips.Load() != 2 {
				t.Errorf("corrupted %d streams, want 2 (a refusal is retried)", flips.Load())
			}
			e.wantSynced(good, []byte("fine"), true)
		})
	}
}

// A file uploaded before the CRC64NVME was recorded has none to send: the
// job computes it from the bytes it reads (which match the row's SHA-256),
// and the HEAD catches a cold copy with another one.
func TestCorruptedStreamOfAFileWithoutCRC(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	uid := e.user("flip-legacy@example.com")
	data := randomBytes(6<<20 + 1)
	f := e.seedLegacy(uid, "flip.bin", data)
	var flips atomic.Int32
	rep := mustRun(t, e.jobWith(nil, syncjob.Options{MaxRetries: 1}, syncjob.Knobs{Hooks: syncjob.Hooks{
		ColdBody: corrupting(f.ID, 3, &flips)}}), context.Background())
	e.wantRefused(rep, f, data, syncjob.ErrChecksumMismatch.Error())
	if got := e.row(f).ChecksumCRC64NVME; got != "" {
		t.Errorf("a failed sync recorded crc64nvme %q", got)
	}
}

// Files without a CRC64NVME still sync, and get theirs on the row.
func TestFileWithoutCRCSyncsAndGetsOne(t *testing.T) {
	t.Parallel()
	for _, tc := range checksumSizes {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			uid := e.user("legacy@example.com")
			data := randomBytes(tc.size)
			f := e.seedLegacy(uid, "old.bin", data)
			rep := mustRun(t, e.job(nil, syncjob.Options{}), context.Background())
			if rep.Synced != 1 || rep.Failed != 0 {
				t.Fatalf("report %+v", rep)
			}
			e.wantSynced(f, data, true) // the row's CRC64NVME is the reference one
		})
	}
}

// A row whose CRC64NVME does not match its (intact) hot copy is refused by
// the cold tier; the job names the row as wrong and does not retry.
func TestWrongCRCOnTheRowIsRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range checksumSizes {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			uid := e.user("wrongcrc@example.com")
			data := randomBytes(tc.size)
			f := e.seedCRC(uid, "wrong.bin", data, crc64NVME(append([]byte("x"), data...)))
			cold := newCountingCold(e.app.Cold, 0)
			rep := mustRun(t, e.job(cold, syncjob.Options{MaxRetries: 3}), context.Background())
			e.wantRefused(rep, f, data, syncjob.ErrRowCRC.Error())
			if !strings.Contains(rep.Errors[0].Error, "the cold tier refused it") || !strings.Contains(rep.Errors[0].Error, "BadDigest") {
				t.Errorf("error %q, want the cold tier's refusal (BadDigest)", rep.Errors[0].Error)
			}
			if n := cold.putsOf(f.ObjectKey); n != 1 {
				t.Errorf("%d puts, want 1 (not retried)", n)
			}
		})
	}
}

// A large file (many parts) goes up with its full-object checksum and is
// verified by it, in both modes.
func TestLargeFileWithFullObjectChecksum(t *testing.T) {
	t.Parallel()
	for _, verify := range []string{syncjob.VerifyChecksum, syncjob.VerifyReadback} {
		t.Run(verify, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *config.Config) { c.SyncVerify = verify })
			uid := e.user("large@example.com")
			data := randomBytes(40 << 20)
			f := e.seed(uid, "large.bin", data)
			rep, err := e.app.Sync.RunExclusive(context.Background(), "test")
			if err != nil || rep.Synced != 1 || rep.Failed != 0 {
				t.Fatalf("report %+v, %v", rep, err)
			}
			e.wantSynced(f, data, true)
		})
	}
}

// lyingCold is the real cold tier but its HEAD reports whatever checksum
// the row has: only a read back can catch a bad copy then.
type lyingCold struct {
	*storage.Cold
	crc string
}

func (c lyingCold) Stat(ctx context.Context, key string) (storage.ObjectInfo, error) {
	info, err := c.Cold.Stat(ctx, key)
	info.ChecksumCRC64NVME = c.crc
	return info, err
}

// SYNC_VERIFY=readback reads the copy back: it catches a bad cold copy
// that the checksum the tier reports does not.
func TestReadbackVerifyReadsTheCopyBack(t *testing.T) {
	t.Parallel()
	for _, verify := range []string{syncjob.VerifyChecksum, syncjob.VerifyReadback} {
		t.Run(verify, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			uid := e.user("readback@example.com")
			data := randomBytes(300 << 10)
			f := e.seed(uid, "rb.bin", data)
			evil := append([]byte(nil), data...)
			evil[7] ^= 0xff
			j := e.jobWith(lyingCold{e.app.Cold, f.ChecksumCRC64NVME}, syncjob.Options{Verify: verify, MaxRetries: 1},
				syncjob.Knobs{Hooks: syncjob.Hooks{AfterCopy: func(ctx context.Context, cf core.File) error {
					_, err := e.app.Cold.Put(ctx, cf.ObjectKey, strings.NewReader(string(evil)), int64(len(evil)), storage.PutOptions{})
					return err
				}}})
			rep := mustRun(t, j, context.Background())
			if verify == syncjob.VerifyChecksum {
				// What the checksum mode takes on trust: the tier's word.
				if rep.Synced != 1 {
					t.Fatalf("report %+v", rep)
				}
				return
			}
			e.wantRefused(rep, f, data, syncjob.ErrChecksumMismatch.Error())
		})
	}
}

// recordingCold is the real cold tier; it records the options of each put.
type recordingCold struct {
	*storage.Cold
	mu   sync.Mutex
	puts map[string]storage.PutOptions
}

func (c *recordingCold) Put(ctx context.Context, key string, r io.Reader, size int64, o storage.PutOptions) (storage.ObjectInfo, error) {
	c.mu.Lock()
	c.puts[key] = o
	c.mu.Unlock()
	return c.Cold.Put(ctx, key, r, size, o)
}

// The job writes cold copies in COLD_STORAGE_CLASS, files under 128 KiB
// in STANDARD, sends the row's CRC64NVME, and records the class on the row.
// (versitygw ignores the class, so this checks what the job sends.)
func TestColdStorageClass(t *testing.T) {
	t.Parallel()
	for _, class := range []string{"STANDARD", "STANDARD_IA", "INTELLIGENT_TIERING", "GLACIER_IR"} {
		t.Run(class, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			uid := e.user("class@example.com")
			small, big := randomBytes(128<<10-1), randomBytes(128<<10)
			fs, fb := e.seed(uid, "small.bin", small), e.seed(uid, "big.bin", big)
			cold := &recordingCold{Cold: e.app.Cold, puts: map[string]storage.PutOptions{}}
			rep := mustRun(t, e.job(cold, syncjob.Options{StorageClass: class}), context.Background())
			if rep.Synced != 2 {
				t.Fatalf("report %+v", rep)
			}
			for _, c := range []struct {
				f     core.File
				data  []byte
				class string
			}{{fs, small, "STANDARD"}, {fb, big, class}} {
				o := cold.puts[c.f.ObjectKey]
				if o.StorageClass != c.class || o.CRC64NVME != crc64NVME(c.data) || !o.Checksum {
					t.Errorf("%d bytes: put class %q, crc64nvme %q (checksum %v); want %q, %q", len(c.data),
						o.StorageClass, o.CRC64NVME, o.Checksum, c.class, crc64NVME(c.data))
				}
				if got := e.row(c.f).StorageClass; got != c.class {
					t.Errorf("%d bytes: row storage_class %q, want %q", len(c.data), got, c.class)
				}
				e.wantSynced(c.f, c.data, true)
			}
		})
	}
}

// The app's job takes COLD_STORAGE_CLASS from the configuration.
func TestColdStorageClassFromConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *config.Config) { c.ColdStorageClass = "GLACIER_IR" })
	uid := e.user("class-cfg@example.com")
	data := randomBytes(200 << 10)
	f := e.seed(uid, "ir.bin", data)
	if _, err := e.app.Sync.RunExclusive(context.Background(), "test"); err != nil {
		t.Fatal(err)
	}
	if got := e.row(f); got.StorageClass != "GLACIER_IR" {
		t.Errorf("row storage_class %q, want GLACIER_IR", got.StorageClass)
	}
	if got := e.row(e.seed(uid, "hot.bin", data)).StorageClass; got != core.StorageStandard {
		t.Errorf("a hot file's storage_class %q, want %s", got, fmt.Sprint(core.StorageStandard))
	}
}
