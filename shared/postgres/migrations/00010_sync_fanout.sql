-- +goose Up
-- The AWS fan-out of the sync job: a dispatcher opens a run and sends
-- tickets to a queue; each ticket is one worker invocation, which may pass
-- its work on to a successor ticket. The run closes when its last ticket is
-- done. A local run has no tickets (fanout = false).
ALTER TABLE sync_runs ADD COLUMN fanout BOOLEAN NOT NULL DEFAULT false,
	ADD COLUMN workers INTEGER NOT NULL DEFAULT 0,
	ADD COLUMN batches INTEGER NOT NULL DEFAULT 0;
CREATE TABLE sync_tickets (
	run_id     BIGINT NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
	ticket     TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
	started_at TIMESTAMPTZ,
	done_at    TIMESTAMPTZ,
	PRIMARY KEY (run_id, ticket)
);
CREATE INDEX sync_tickets_open_idx ON sync_tickets (run_id) WHERE done_at IS NULL;

-- +goose Down
DROP TABLE sync_tickets;
ALTER TABLE sync_runs DROP COLUMN batches, DROP COLUMN workers, DROP COLUMN fanout;
