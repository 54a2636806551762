package storage_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/storage"
	"github.com/hybrid-storage/hybrid-storage/shared/testenv"
)

// refCRC is the reference full-object CRC64NVME (testenv's, not the
// implementation under test).
var refCRC = testenv.CRC64NVME

func TestCRC64NVMEMatchesReference(t *testing.T) {
	data := make([]byte, 3<<20+7)
	rand.Read(data)
	h := storage.NewCRC64NVME()
	h.Write(data[:1000])
	h.Write(data[1000:])
	if got := storage.CRC64NVMEBase64(h); got != refCRC(data) {
		t.Fatalf("CRC64NVME %s, want %s", got, refCRC(data))
	}
}

// The cold tier (versitygw, like S3) checks the full-object CRC64NVME the
// put sends, single PUT and multipart alike, and HEAD in checksum mode
// reports the one it keeps.
func TestColdPutVerifiesFullObjectCRC64NVME(t *testing.T) {
	t.Parallel()
	cold := testenv.App(t, testenv.Config(t)).Cold
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		size int
	}{{"single", 100 << 10}, {"multipart", 12<<20 + 3}} {
		t.Run(tc.name, func(t *testing.T) {
			data := make([]byte, tc.size)
			rand.Read(data)
			opt := func(crc string) storage.PutOptions {
				return storage.PutOptions{PartSize: 5 << 20, CRC64NVME: crc, StorageClass: "STANDARD"}
			}
			wrong := refCRC(append(bytes.Clone(data), 0))
			if _, err := cold.Put(ctx, tc.name+"/wrong", bytes.NewReader(data), int64(len(data)), opt(wrong)); err == nil {
				t.Fatal("a put with the wrong CRC64NVME was accepted")
			}
			if _, err := cold.Stat(ctx, tc.name+"/wrong"); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("refused object: stat %v, want not found", err)
			}
			if _, err := cold.Put(ctx, tc.name+"/right", bytes.NewReader(data), int64(len(data)), opt(refCRC(data))); err != nil {
				t.Fatal(err)
			}
			if _, err := cold.Put(ctx, tc.name+"/computed", bytes.NewReader(data), int64(len(data)), storage.PutOptions{PartSize: 5 << 20, Checksum: true}); err != nil {
				t.Fatal(err)
			}
			for _, key := range []string{tc.name + "/right", tc.name + "/computed"} {
				info, err := cold.Stat(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				if info.ChecksumCRC64NVME != refCRC(data) || info.Size != int64(len(data)) {
					t.Errorf("%s: HEAD reports crc64nvme %q (type %q), size %d; want %q, %d", key, info.ChecksumCRC64NVME,
						info.ChecksumType, info.Size, refCRC(data), len(data))
				}
			}
		})
	}
}
