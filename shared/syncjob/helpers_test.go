package syncjob_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/minio/minio-go/v7"

	"github.com/hybrid-storage/hybrid-storage/shared/app"
	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
	"github.com/hybrid-storage/hybrid-storage/shared/storage"
	"github.com/hybrid-storage/hybrid-storage/shared/syncjob"
	"github.com/hybrid-storage/hybrid-storage/shared/testenv"
)

// env is a real database and real hot and cold buckets for one test.
type env struct {
	tb  testing.TB
	cfg config.Config
	app *app.App
	log *logBuffer
}

func newEnv(tb testing.TB, edit func(*config.Config)) *env {
	tb.Helper()
	cfg := testenv.Config(tb)
	if edit != nil {
		edit(&cfg)
	}
	return &env{tb: tb, cfg: cfg, app: testenv.App(tb, cfg), log: &logBuffer{}}
}

// job builds a job over the env's real store and tiers with opt (zero
// BatchSize and MaxRetries: as configured; zero Workers: one), retrying
// 1 ms apart. cold, when not nil, replaces the real cold tier (usually a
// wrapper around it).
func (e *env) job(cold syncjob.ColdTier, opt syncjob.Options) *syncjob.Job {
	return e.jobWith(cold, opt, syncjob.Knobs{})
}

// jobWith is job with its fixed settings (and hooks) changed as k says.
func (e *env) jobWith(cold syncjob.ColdTier, opt syncjob.Options, k syncjob.Knobs) *syncjob.Job {
	if cold == nil {
		cold = e.app.Cold
	}
	if opt.BatchSize == 0 {
		opt.BatchSize = e.cfg.SyncBatchSize
	}
	if opt.MaxRetries == 0 {
		opt.MaxRetries = e.cfg.SyncMaxRetries
	}
	if opt.Workers == 0 {
		opt.Workers = 1
	}
	if k.BackoffBase == 0 {
		k.BackoffBase = time.Millisecond
	}
	return syncjob.New(e.app.DB, e.app.Hot, cold, slog.New(slog.NewJSONHandler(e.log, nil)), opt).With(k)
}

func (e *env) user(email string) int64 {
	e.tb.Helper()
	u, err := e.app.DB.CreateUser(context.Background(), email, "x")
	if err != nil {
		e.tb.Fatal(err)
	}
	return u.ID
}

// seed stores data in the hot tier and its row, as an upload does.
func (e *env) seed(userID int64, name string, data []byte) core.File {
	e.tb.Helper()
	return e.seedCRC(userID, name, data, crc64NVME(data))
}

// seedLegacy is seed as uploads did before they recorded the CRC64NVME.
func (e *env) seedLegacy(userID int64, name string, data []byte) core.File {
	e.tb.Helper()
	return e.seedCRC(userID, name, data, "")
}

// crc64NVME is the reference full-object CRC64NVME (testenv's, not the
// implementation under test).
var crc64NVME = testenv.CRC64NVME

// seedCRC is seed with crc as the row's CRC64NVME ("" for none).
func (e *env) seedCRC(userID int64, name string, data []byte, crc string) core.File {
	e.tb.Helper()
	ctx := context.Background()
	key := fmt.Sprintf("user-%d/%s-%s", userID, uuid.NewString(), name)
	sum := sha256.Sum256(data)
	if _, err := e.app.Hot.Put(ctx, key, bytes.NewReader(data), int64(len(data)), storage.PutOptions{
		ContentType: "application/octet-stream",
		Metadata:    map[string]string{"owner-id": strconv.FormatInt(userID, 10), "original-filename": url.QueryEscape(name)},
	}); err != nil {
		e.tb.Fatal(err)
	}
	f := core.File{UserID: userID, Filename: name, OriginalFilename: name, Size: int64(len(data)),
		ContentType: "application/octet-stream", Location: core.TierHot, ObjectKey: key,
		AccessURL: e.app.Hot.URL(key), ChecksumSHA256: hex.EncodeToString(sum[:]), ChecksumCRC64NVME: crc}
	if err := e.app.DB.CreateFile(ctx, &f); err != nil {
		e.tb.Fatal(err)
	}
	return f
}

// seedPresigned stores data in the hot tier as a presigned upload does
// (a multipart upload of 5 MiB parts the API completes) and records its
// row as the completion does: size and the assembled object's ETag, the
// checksums NULL (not known yet).
func (e *env) seedPresigned(userID int64, name string, data []byte) core.File {
	e.tb.Helper()
	ctx := context.Background()
	key := fmt.Sprintf("user-%d/%s-%s", userID, uuid.NewString(), name)
	id, err := e.app.Hot.NewMultipartUpload(ctx, key, storage.PutOptions{ContentType: "application/octet-stream",
		Metadata: map[string]string{"owner-id": strconv.FormatInt(userID, 10), "original-filename": url.QueryEscape(name)}})
	if err != nil {
		e.tb.Fatal(err)
	}
	const part = 5 << 20
	var parts []storage.Part
	for n, off := 1, 0; off < len(data); n, off = n+1, off+part {
		chunk := data[off:min(off+part, len(data))]
		p, err := e.app.Hot.Core.PutObjectPart(ctx, e.app.Hot.Bucket(), key, id, n, bytes.NewReader(chunk), int64(len(chunk)), minio.PutObjectPartOptions{})
		if err != nil {
			e.tb.Fatal(err)
		}
		parts = append(parts, storage.Part{Number: n, ETag: p.ETag, Size: int64(len(chunk))})
	}
	if err := e.app.Hot.CompleteMultipartUpload(ctx, key, id, parts); err != nil {
		e.tb.Fatal(err)
	}
	info, err := e.app.Hot.Stat(ctx, key)
	if err != nil {
		e.tb.Fatal(err)
	}
	f := core.File{UserID: userID, Filename: name, OriginalFilename: name, Size: int64(len(data)),
		ContentType: "application/octet-stream", Location: core.TierHot, ObjectKey: key,
		AccessURL: e.app.Hot.URL(key), HotETag: storage.TrimETag(info.ETag)}
	if err := e.app.DB.CreateFile(ctx, &f); err != nil {
		e.tb.Fatal(err)
	}
	return f
}

// row reads f's row again.
func (e *env) row(f core.File) core.File {
	e.tb.Helper()
	got, err := e.app.DB.FileForUser(context.Background(), f.UserID, f.ID)
	if err != nil {
		e.tb.Fatal(err)
	}
	return got
}

func (e *env) state(id int64) postgres.SyncState {
	e.tb.Helper()
	s, err := e.app.DB.SyncStateOf(context.Background(), id)
	if err != nil {
		e.tb.Fatal(err)
	}
	return s
}

// exists reports whether key is in the tier, failing on other errors.
func exists(tb testing.TB, t interface {
	Stat(context.Context, string) (storage.ObjectInfo, error)
}, key string) bool {
	tb.Helper()
	_, err := t.Stat(context.Background(), key)
	if errors.Is(err, storage.ErrNotFound) {
		return false
	}
	if err != nil {
		tb.Fatal(err)
	}
	return true
}

func readAll(tb testing.TB, t interface {
	Open(context.Context, string, int64) (io.ReadCloser, error)
}, key string) []byte {
	tb.Helper()
	rc, err := t.Open(context.Background(), key, 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// wantSynced checks f's row points at the cold tier, the cold copy holds
// data with the metadata, and the hot copy is there or not as hotWanted.
func (e *env) wantSynced(f core.File, data []byte, hotWanted bool) {
	e.tb.Helper()
	got := e.row(f)
	if got.Location != core.TierCold || got.SyncedAt == nil || got.AccessURL != e.app.Cold.URL(f.ObjectKey) || got.ObjectKey != f.ObjectKey {
		e.tb.Fatalf("file %d: row %+v, want location s3, synced_at set, cold access url", f.ID, got)
	}
	if got.ChecksumCRC64NVME != crc64NVME(data) {
		e.tb.Errorf("file %d: row crc64nvme %q, want %q", f.ID, got.ChecksumCRC64NVME, crc64NVME(data))
	}
	if sum := sha256.Sum256(data); got.ChecksumSHA256 != hex.EncodeToString(sum[:]) {
		e.tb.Errorf("file %d: row sha256 %q, want %x", f.ID, got.ChecksumSHA256, sum)
	}
	if b := readAll(e.tb, e.app.Cold, f.ObjectKey); !bytes.Equal(b, data) {
		e.tb.Fatalf("file %d: cold copy has %d bytes, want the %d uploaded", f.ID, len(b), len(data))
	}
	info, err := e.app.Cold.Stat(context.Background(), f.ObjectKey)
	if err != nil {
		e.tb.Fatal(err)
	}
	if info.ChecksumCRC64NVME != crc64NVME(data) {
		e.tb.Errorf("file %d: the cold tier keeps crc64nvme %q, want %q", f.ID, info.ChecksumCRC64NVME, crc64NVME(data))
	}
	if info.Metadata["sha256"] != f.ChecksumSHA256 || info.Metadata["owner-id"] != strconv.FormatInt(f.UserID, 10) ||
		info.Metadata["original-filename"] != url.QueryEscape(f.OriginalFilename) {
		e.tb.Errorf("file %d: cold metadata %v", f.ID, info.Metadata)
	}
	if h := exists(e.tb, e.app.Hot, f.ObjectKey); h != hotWanted {
		e.tb.Errorf("file %d: hot copy exists=%v, want %v", f.ID, h, hotWanted)
	}
}

// wantHot checks f's row still points at the hot tier with its bytes.
func (e *env) wantHot(f core.File, data []byte) {
	e.tb.Helper()
	got := e.row(f)
	if got.Location != core.TierHot || got.SyncedAt != nil || got.AccessURL != f.AccessURL {
		e.tb.Fatalf("file %d: row %+v, want it unchanged in minio", f.ID, got)
	}
	if b := readAll(e.tb, e.app.Hot, f.ObjectKey); !bytes.Equal(b, data) {
		e.tb.Fatalf("file %d: hot copy changed", f.ID)
	}
}

func mustRun(tb testing.TB, j *syncjob.Job, ctx context.Context) syncjob.Report {
	tb.Helper()
	rep, err := j.Run(ctx)
	if err != nil {
		tb.Fatalf("Run: %v (report %+v)", err, rep)
	}
	return rep
}

// logBuffer collects the job's JSON log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// countingCold wraps the REAL cold tier: it counts puts per key and can
// fail the first failPuts puts (a flaky network, without a fake server).
type countingCold struct {
	*storage.Cold
	mu       sync.Mutex
	failPuts int
	puts     map[string]int
}

func newCountingCold(c *storage.Cold, failPuts int) *countingCold {
	return &countingCold{Cold: c, failPuts: failPuts, puts: map[string]int{}}
}

var errInjected = errors.New("injected cold put failure")

func (c *countingCold) Put(ctx context.Context, key string, r io.Reader, size int64, o storage.PutOptions) (storage.ObjectInfo, error) {
	c.mu.Lock()
	c.puts[key]++
	fail := c.failPuts > 0
	if fail {
		c.failPuts--
	}
	c.mu.Unlock()
	if fail {
		return storage.ObjectInfo{}, errInjected
	}
	return c.Cold.Put(ctx, key, r, size, o)
}

func (c *countingCold) putsOf(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.puts[key]
}

var _ syncjob.ColdTier = (*countingCold)(nil)
