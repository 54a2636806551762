-- +goose Up
-- checksum_crc64nvme is the full-object CRC64NVME of the file, base64 of its
-- 8 big-endian bytes exactly as S3 reports it (x-amz-checksum-crc64nvme), so
-- the sync job sends it and compares the cold tier's answer as they are.
-- NULL for files uploaded before it was computed: the sync job computes it
-- from the bytes it reads and records it when it moves the file.
-- storage_class is the S3 storage class of the file's copy: STANDARD in the
-- hot tier, the class the sync job wrote in the cold tier.
ALTER TABLE files ADD COLUMN checksum_crc64nvme TEXT,
	ADD COLUMN storage_class TEXT NOT NULL DEFAULT 'STANDARD';

-- +goose Down
ALTER TABLE files DROP COLUMN storage_class, DROP COLUMN checksum_crc64nvme;
