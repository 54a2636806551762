-- +goose Up
-- Leases of the sync job: a worker claims pending rows in one short
-- transaction (sync_owner = its id, sync_lease_until = now() + the lease),
-- copies them with no transaction open, and flips each row with an UPDATE
-- fenced on sync_owner. A lease is free when sync_lease_until is NULL
-- (released) or past (its worker died); sync_owner stays as the last
-- claimer, so a run does not claim again what it released.
ALTER TABLE files ADD COLUMN sync_owner TEXT,
	ADD COLUMN sync_lease_until TIMESTAMPTZ;

-- +goose Down
ALTER TABLE files DROP COLUMN sync_lease_until, DROP COLUMN sync_owner;
