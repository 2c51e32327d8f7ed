-- Less to write per submit. Tickets from one sequence per (model, lane) instead of a counter row locked to each submit's
-- commit: a submit no longer waits for another process's commit (and its WAL flush) to number its
-- jobs. A sequence hands out numbers outside transactions, so tickets follow the order of taking,
-- not of commit, and a rolled-back submit (or a server crash, which may skip up to 32 numbers)
-- leaves gaps: both only make queue_position too high for a while, never too low, and the error
-- leaves with the head (docs/postgres-queue-position.md).

ALTER TABLE queue_lanes ADD COLUMN id INTEGER GENERATED ALWAYS AS IDENTITY UNIQUE;

-- The sequence of lane `id` is queue_ticket_<id>; the existing lanes continue where they were.
DO $$
DECLARE
    r RECORD;
BEGIN
    FOR r IN SELECT id, last_ticket FROM queue_lanes LOOP
        EXECUTE format('CREATE SEQUENCE queue_ticket_%s START %s', r.id, r.last_ticket + 1);
    END LOOP;
END $$;

ALTER TABLE queue_lanes DROP COLUMN last_ticket;

-- Tickets are unique by construction now; the index was one more to write on every submit.
ALTER TABLE jobs DROP CONSTRAINT jobs_model_lane_ticket_key;

-- Rows are found by their id; seq only orders claims (jobs_ready). The id becomes the primary key
-- and the index on seq goes: one index fewer to write on every submit.
ALTER TABLE jobs DROP CONSTRAINT jobs_pkey, DROP CONSTRAINT jobs_id_key, ADD CONSTRAINT jobs_pkey PRIMARY KEY (id);

-- Only jobs back after a run wait out a delay (a fresh job is due when it is made), so the index of
-- delays leaves fresh jobs out: one index fewer to write on every submit.
DROP INDEX jobs_delayed;
CREATE INDEX jobs_delayed ON jobs (run_after) WHERE state = 'QUEUED' AND started_at IS NOT NULL;

-- queue_position: the lower lanes of the model counted up to their last queued ticket, found in
-- the fresh and returned indexes (lanes are 0 and 1), instead of the counter row.
CREATE OR REPLACE FUNCTION queue_position(p_model TEXT, p_lane SMALLINT, p_ticket BIGINT) RETURNS BIGINT
LANGUAGE plpgsql STABLE AS $$
DECLARE
    ahead BIGINT := 0;
    top   BIGINT;
BEGIN
    FOR l IN 0 .. p_lane - 1 LOOP
        SELECT GREATEST(
                 (SELECT max(ticket) FROM jobs WHERE model = p_model AND lane = l AND state = 'QUEUED' AND started_at IS NULL),
                 (SELECT max(ticket) FROM jobs WHERE model = p_model AND lane = l AND state = 'QUEUED' AND started_at IS NOT NULL))
          INTO top;
        IF top IS NOT NULL THEN
            ahead := ahead + queue_lane_ahead(p_model, l::SMALLINT, top + 1);
        END IF;
    END LOOP;
    RETURN ahead + queue_lane_ahead(p_model, p_lane, p_ticket);
END $$;
