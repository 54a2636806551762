package testenv

import (
	"encoding/base64"
	"encoding/binary"
	"hash/crc64"
)

// crc64NVMETable is CRC-64/NVME's (reflected) polynomial.
var crc64NVMETable = crc64.MakeTable(0x9a6c9329ac4bc9b5)

// CRC64NVME is data's full-object CRC64NVME as S3 reports it (base64 of the
// 8 big-endian bytes), computed with the standard library: a second
// implementation, not the one under test (storage.NewCRC64NVME).
func CRC64NVME(data []byte) string {
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint64(nil, crc64.Checksum(data, crc64NVMETable)))
}
