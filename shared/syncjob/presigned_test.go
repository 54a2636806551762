package syncjob_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/storage"
	"github.com/hybrid-storage/hybrid-storage/shared/syncjob"
)

// A file completed from a presigned upload is recorded without checksums:
// the job computes both from the bytes it reads (pinned to the row's ETag),
// the cold tier checks the CRC64NVME of what it was sent, and the flip
// writes them into the row, in either verification mode.
func TestSyncFillsChecksumsOfPresignedFile(t *testing.T) {
	t.Parallel()
	for _, verify := range []string{syncjob.VerifyChecksum, syncjob.VerifyReadback} {
		t.Run(verify, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			uid := e.user("presigned@example.com")
			data := randomBytes(2*5<<20 + 1234) // three parts
			f := e.seedPresigned(uid, "p.bin", data)
			if f.ChecksumSHA256 != "" || f.ChecksumCRC64NVME != "" || f.HotETag == "" || !strings.HasSuffix(f.HotETag, "-3") {
				t.Fatalf("seeded row %+v: want no checksums and the multipart ETag", f)
			}
			rep, err := e.job(nil, syncjob.Options{Verify: verify}).Run(context.Background())
			if err != nil || rep.Synced != 1 || rep.Failed != 0 {
				t.Fatalf("run: %+v, %v; want 1 synced", rep, err)
			}
			e.wantSynced(f, data, true) // the row's SHA-256 and CRC64NVME are the data's
		})
	}
}

// A hot object replaced after the completion (its ETag is not the row's) is
// refused: nothing reaches the cold tier, the row stays in minio without
// checksums, and the failure says why; it is not retried.
func TestSyncRefusesReplacedHotObject(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	uid := e.user("replaced@example.com")
	data := randomBytes(5<<20 + 10)
	f := e.seedPresigned(uid, "r.bin", data)
	other := randomBytes(len(data)) // same size, other bytes
	if _, err := e.app.Hot.Put(context.Background(), f.ObjectKey, strings.NewReader(string(other)), int64(len(other)), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	cold := newCountingCold(e.app.Cold, 0)
	rep, err := e.job(cold, syncjob.Options{MaxRetries: 3}).Run(context.Background())
	if err != nil || rep.Synced != 0 || rep.Failed != 1 || len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0].Error, syncjob.ErrHotChanged.Error()) {
		t.Fatalf("run: %+v, %v; want 1 failed with %q", rep, err, syncjob.ErrHotChanged)
	}
	got := e.row(f)
	if got.Location != core.TierHot || got.SyncedAt != nil || got.ChecksumSHA256 != "" || got.ChecksumCRC64NVME != "" || got.HotETag != f.HotETag {
		t.Errorf("row %+v, want it unchanged in minio", got)
	}
	if n := cold.putsOf(f.ObjectKey); n != 0 || exists(t, e.app.Cold, f.ObjectKey) {
		t.Errorf("%d cold puts, cold copy exists=%v; want none", n, exists(t, e.app.Cold, f.ObjectKey))
	}
	if st := e.state(f.ID); st.Attempts != 1 || st.LastError == nil || !strings.Contains(*st.LastError, "replaced") {
		t.Errorf("sync state %+v, want 1 attempt (permanent) with the error recorded", st)
	}
}
