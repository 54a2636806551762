package postgres_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
)

// A batch of flips keeps each flip's fence: in one statement, the files
// whose lease the caller still holds flip, a file whose lease another
// worker took over stays as that worker has it (FenceLost), a file deleted
// meanwhile is reported gone (FenceGone), and a file already in s3 is not
// flipped twice (FenceLost).
func TestFlipSyncedBatchKeepsEachFence(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := t.Context()
	u := createUser(t, db, "flip-batch@example.com")
	var files []core.File
	for i := range 6 {
		key := fmt.Sprintf("user-%d/%s-f%d.bin", u.ID, uuid.NewString(), i)
		f := core.File{UserID: u.ID, Filename: key, OriginalFilename: key, Size: int64(10 + i), ContentType: "application/octet-stream",
			Location: core.TierHot, ObjectKey: key, AccessURL: "http://hot/" + key, ChecksumSHA256: fmt.Sprintf("%064x", i)}
		if err := db.CreateFile(ctx, &f); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	const mine, thief = "run-1/w1", "run-2/w1"
	claimed, err := db.ClaimSyncBatch(ctx, mine, len(files), time.Minute)
	if err != nil || len(claimed) != len(files) {
		t.Fatalf("claim: %d files, %v", len(claimed), err)
	}
	// files[1]: its lease expired and another run's worker claimed it.
	if _, err := db.Pool.Exec(ctx, `UPDATE files SET sync_lease_until = now() - interval '1 second' WHERE id = $1`, files[1].ID); err != nil {
		t.Fatal(err)
	}
	if got, err := db.ClaimSyncBatch(ctx, thief, 10, time.Minute); err != nil || len(got) != 1 || got[0].ID != files[1].ID {
		t.Fatalf("takeover claim: %+v, %v", got, err)
	}
	// files[3]: deleted by its owner mid-copy.
	if _, err := db.Pool.Exec(ctx, `DELETE FROM files WHERE id = $1`, files[3].ID); err != nil {
		t.Fatal(err)
	}
	// files[5]: flipped already (by this worker's earlier statement).
	if _, fence, err := db.FlipSynced(ctx, files[5], mine, postgres.Moved{AccessURL: "http://cold/" + files[5].ObjectKey}); err != nil || fence != postgres.FenceHeld {
		t.Fatalf("first flip of files[5]: %v, %v", fence, err)
	}

	var flips []postgres.Flip
	for _, f := range files {
		flips = append(flips, postgres.Flip{File: f, Owner: mine, Moved: postgres.Moved{AccessURL: "http://cold/" + f.ObjectKey,
			StorageClass: "STANDARD_IA", CRC64NVME: "crc-" + f.ObjectKey, SHA256: fmt.Sprintf("%064x", 99)}})
	}
	// files[4] twice: also from a stale worker of another run that once held
	// its lease; that flip must not count as applied.
	files = append(files, files[4])
	flips = append(flips, postgres.Flip{File: files[4], Owner: "run-0/stale", Moved: postgres.Moved{AccessURL: "http://cold/stale"}})
	out, err := db.FlipSyncedBatch(ctx, flips)
	if err != nil {
		t.Fatal(err)
	}
	want := []postgres.Fence{postgres.FenceHeld, postgres.FenceLost, postgres.FenceHeld, postgres.FenceGone, postgres.FenceHeld,
		postgres.FenceLost, postgres.FenceLost}
	if len(out) != len(want) {
		t.Fatalf("%d outcomes, want %d", len(out), len(want))
	}
	for i, f := range files {
		if out[i].Fence != want[i] {
			t.Errorf("files[%d]: fence %v, want %v", i, out[i].Fence, want[i])
		}
		if out[i].File.ID != f.ID {
			t.Errorf("files[%d]: outcome of file %d, want %d", i, out[i].File.ID, f.ID)
		}
		if want[i] != postgres.FenceHeld {
			continue
		}
		got := out[i].File
		if got.Location != core.TierCold || got.AccessURL != "http://cold/"+f.ObjectKey || got.StorageClass != "STANDARD_IA" || got.SyncedAt == nil {
			t.Errorf("files[%d]: returned row %+v, want it flipped to s3 as moved", i, got)
		}
		if got.ChecksumSHA256 != f.ChecksumSHA256 || got.ChecksumCRC64NVME != "crc-"+f.ObjectKey {
			t.Errorf("files[%d]: checksums %q, %q: want the row's SHA-256 kept and the CRC64NVME filled", i, got.ChecksumSHA256, got.ChecksumCRC64NVME)
		}
		if row, err := db.FileForUser(ctx, u.ID, f.ID); err != nil || row.Location != core.TierCold {
			t.Errorf("files[%d]: stored row %+v, %v: want it in s3", i, row, err)
		}
	}
	// The file taken over is still the thief's, in the hot tier, leased.
	var owner string
	var loc string
	var leased bool
	if err := db.Pool.QueryRow(ctx, `SELECT sync_owner, storage_location, sync_lease_until > now() FROM files WHERE id = $1`,
		files[1].ID).Scan(&owner, &loc, &leased); err != nil {
		t.Fatal(err)
	}
	if owner != thief || loc != "minio" || !leased {
		t.Errorf("file taken over: owner %q, location %q, leased %v; want %q's lease in minio untouched", owner, loc, leased, thief)
	}
	// files[5] was not flipped a second time (its attempt counted once).
	if s, err := db.SyncStateOf(ctx, files[5].ID); err != nil || s.Attempts != 1 {
		t.Errorf("files[5]: %+v, %v; want one attempt", s, err)
	}
	// The thief's flip of its file applies.
	got, err := db.FlipSyncedBatch(ctx, []postgres.Flip{{File: files[1], Owner: thief, Moved: postgres.Moved{AccessURL: "http://cold/x"}}})
	if err != nil || got[0].Fence != postgres.FenceHeld {
		t.Errorf("the thief's flip: %+v, %v; want it held", got, err)
	}
}
