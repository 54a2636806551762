-- +goose Up
-- A file completed from a presigned multipart upload is recorded without
-- reading its bytes again: checksum_sha256 (and checksum_crc64nvme) are NULL,
-- "not known yet", and hot_etag is the ETag the hot tier gave the assembled
-- object. The sync job reads the hot object with If-Match on hot_etag (a
-- replaced object is refused, never copied as the file), computes both
-- checksums as it streams it to the cold tier, and its fenced flip writes
-- them into the row. A row without a SHA-256 must have the ETag that pins
-- its bytes, and no row reaches the cold tier without a SHA-256.
ALTER TABLE files ALTER COLUMN checksum_sha256 DROP NOT NULL,
	ADD COLUMN hot_etag TEXT,
	ADD CONSTRAINT files_sha256_or_etag CHECK (checksum_sha256 IS NOT NULL OR hot_etag IS NOT NULL),
	ADD CONSTRAINT files_cold_has_sha256 CHECK (storage_location = 'minio' OR checksum_sha256 IS NOT NULL);

-- +goose Down
-- Fails while a row still has no SHA-256 (sync those files first).
ALTER TABLE files DROP CONSTRAINT files_cold_has_sha256, DROP CONSTRAINT files_sha256_or_etag,
	DROP COLUMN hot_etag,
	ALTER COLUMN checksum_sha256 SET NOT NULL;
