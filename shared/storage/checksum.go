package storage

import (
	"encoding/base64"
	"hash"

	"github.com/minio/crc64nvme"
)

// NewCRC64NVME returns a hash of the full-object CRC64NVME checksum S3
// computes (x-amz-checksum-crc64nvme); CRC64NVMEBase64 formats its sum as S3
// reports it. The implementation is minio's (SIMD where the CPU has it).
func NewCRC64NVME() hash.Hash64 { return crc64nvme.New() }

// CRC64NVMEBase64 is h's sum as S3 reports it: base64 of its 8 big-endian bytes.
func CRC64NVMEBase64(h hash.Hash64) string {
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}
