-- The PostgreSQL schema: the same tables as the SQLite one, shared by every process of a
-- deployment. Times are epoch milliseconds from the processes' clocks (not now()), like SQLite.
-- docs/postgres-queue-position.md explains `ticket`, `queue_lanes` and queue_position().

CREATE TABLE jobs (
    seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- claim order within a lane
    id               TEXT     NOT NULL UNIQUE,
    tenant           TEXT     NOT NULL,
    model            TEXT     NOT NULL,
    lane             SMALLINT NOT NULL,            -- 0 normal, 1 low
    ticket           BIGINT   NOT NULL,            -- 1, 2, 3... per (model, lane), in commit order
    state            TEXT     NOT NULL,            -- QUEUED RUNNING SUCCEEDED FAILED CANCELLED
    input            TEXT,                         -- GenerationInput as JSON; null once expired
    sync_mode        BOOLEAN  NOT NULL DEFAULT FALSE,
    attempt          INTEGER  NOT NULL DEFAULT 0,  -- runs started so far
    run_after        BIGINT   NOT NULL,            -- not claimable before this (retry backoff)
    start_deadline   BIGINT,                       -- X-Fal-Request-Start-Timeout
    lease_owner      TEXT,                         -- the store instance that runs it
    lease_until      BIGINT,
    cancel_requested BOOLEAN  NOT NULL DEFAULT FALSE,
    created_at       BIGINT   NOT NULL,
    started_at       BIGINT,                       -- first start; null = never left the queue
    run_started_at   BIGINT,                       -- start of the latest attempt
    finished_at      BIGINT,
    inference_ms     BIGINT,
    error_type       TEXT,
    error            TEXT,
    error_loc        TEXT,                         -- JSON array, for 422 details
    result           TEXT,                         -- JobResult as JSON
    expired_at       BIGINT,
    purged           BOOLEAN  NOT NULL DEFAULT FALSE,
    upstream         TEXT,                         -- an upstream request id kept across attempts
    UNIQUE (model, lane, ticket)
);

CREATE INDEX jobs_ready    ON jobs (lane, seq)      WHERE state = 'QUEUED';
CREATE INDEX jobs_deadline ON jobs (start_deadline) WHERE state = 'QUEUED' AND start_deadline IS NOT NULL;
CREATE INDEX jobs_delayed  ON jobs (run_after)      WHERE state = 'QUEUED';
CREATE INDEX jobs_leases   ON jobs (lease_until)    WHERE state = 'RUNNING';
CREATE INDEX jobs_retained ON jobs (finished_at)    WHERE finished_at IS NOT NULL AND expired_at IS NULL;
CREATE INDEX jobs_purge    ON jobs (expired_at)     WHERE expired_at IS NOT NULL AND NOT purged;
-- For queue_position(): the waiting jobs that never ran (their head), the ones back after a run,
-- and the jobs that left the queue (the holes between a head and a job).
CREATE INDEX jobs_fresh    ON jobs (model, lane, ticket) WHERE state = 'QUEUED' AND started_at IS NULL;
CREATE INDEX jobs_returned ON jobs (model, lane, ticket) WHERE state = 'QUEUED' AND started_at IS NOT NULL;
CREATE INDEX jobs_left     ON jobs (model, lane, ticket) WHERE state <> 'QUEUED' OR started_at IS NOT NULL;

-- The last ticket handed out per (model, lane). A submit takes its tickets under this row's lock
-- and holds it to its commit, so tickets (and seq) follow commit order within a lane.
CREATE TABLE queue_lanes (
    model       TEXT     NOT NULL,
    lane        SMALLINT NOT NULL,
    last_ticket BIGINT   NOT NULL,
    PRIMARY KEY (model, lane)
);

CREATE TABLE job_logs (
    seq     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id  TEXT   NOT NULL,
    at      BIGINT NOT NULL,
    level   TEXT   NOT NULL,
    message TEXT   NOT NULL
);

CREATE INDEX job_logs_job ON job_logs (job_id, seq);

-- Idempotency-Key: the same key from the same tenant within 24 h names the same request.
CREATE TABLE idempotency_keys (
    tenant       TEXT   NOT NULL,
    key          TEXT   NOT NULL,
    request_hash TEXT   NOT NULL,
    job_id       TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant, key)
);

CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);

-- API keys, stored only as SHA-256 digests of the whole key.
CREATE TABLE api_keys (
    key_id     TEXT   PRIMARY KEY,                -- public, short: shown by `keys list`, used by `keys revoke`
    key_hash   TEXT   NOT NULL UNIQUE,            -- hex SHA-256 of the key
    tenant     TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- How many queued jobs of (p_model, p_lane) have a ticket below p_top, in O(log n) plus at most
-- 2 x 1000 index entries. Fresh jobs (never started) leave the queue in ticket order, except for
-- cancels and the like: so the fresh ones below p_top are the tickets from the fresh head up to
-- p_top, less the holes between (jobs that left, counted up to 1000: beyond that the answer is
-- too high, never too low). Jobs back after a run (retry, reap, release) are few and counted.
CREATE FUNCTION queue_lane_ahead(p_model TEXT, p_lane SMALLINT, p_top BIGINT) RETURNS BIGINT
LANGUAGE plpgsql STABLE AS $$
DECLARE
    head     BIGINT;
    holes    BIGINT;
    fresh    BIGINT := 0;
    returned BIGINT;
BEGIN
    SELECT ticket INTO head FROM jobs
     WHERE model = p_model AND lane = p_lane AND state = 'QUEUED' AND started_at IS NULL
     ORDER BY ticket LIMIT 1;
    IF head IS NOT NULL AND head < p_top THEN
        SELECT count(*) INTO holes FROM (
            SELECT 1 FROM jobs
             WHERE model = p_model AND lane = p_lane AND ticket > head AND ticket < p_top
               AND (state <> 'QUEUED' OR started_at IS NOT NULL)
             LIMIT 1000) h;
        fresh := (p_top - head) - holes;
    END IF;
    SELECT count(*) INTO returned FROM (
        SELECT 1 FROM jobs
         WHERE model = p_model AND lane = p_lane AND state = 'QUEUED' AND started_at IS NOT NULL AND ticket < p_top
         LIMIT 1000) r;
    RETURN fresh + returned;
END $$;

-- queue_position: the queued jobs of the model that start before the job at (p_lane, p_ticket):
-- every queued job of a lower lane, and those of its own lane with a smaller ticket.
CREATE FUNCTION queue_position(p_model TEXT, p_lane SMALLINT, p_ticket BIGINT) RETURNS BIGINT
LANGUAGE plpgsql STABLE AS $$
DECLARE
    ahead BIGINT := 0;
    lane_row RECORD;
BEGIN
    FOR lane_row IN SELECT lane, last_ticket FROM queue_lanes WHERE model = p_model AND lane < p_lane LOOP
        ahead := ahead + queue_lane_ahead(p_model, lane_row.lane, lane_row.last_ticket + 1);
    END LOOP;
    RETURN ahead + queue_lane_ahead(p_model, p_lane, p_ticket);
END $$;
