-- Usage (io.genqueue.usage): what each tenant asked for and got, per UTC day and model. The counts
-- are written by triggers on jobs, in the statement that makes or ends a job, so they commit or
-- roll back with it: no crash separates a job's outcome from its count, and no code path (submit,
-- finish, cancel, a reap out of attempts, a missed start deadline) can forget to count.
--
-- One row per (tenant, day, model, outcome, error_type, provider, shard):
--   outcome SUBMITTED: requests accepted (an idempotent repeat is not a new request); day = submit time
--   outcome SUCCEEDED: provider = the provider that made the images; images made; provider_ms = the run's time
--   outcome FAILED:    error_type = the job's error_type
--   outcome CANCELLED
-- day is the UTC day of the event as days since 1970-01-01: the submit for SUBMITTED, the end for
-- the others.
--
-- Contention: a counter row is locked from its update to the commit. With one row per key, every
-- submit group of every process for one tenant and model, and every finish, would wait for the
-- previous one's commit (and its WAL flush). So each key is spread over 64 shards, chosen by the
-- backend (pg_backend_pid() % 64): two transactions wait for each other only when their
-- connections share a shard (with three processes' submit writers, a group finds its shard held
-- by another in flight about 3 % of the time), and readers sum the shards (at most 64 rows per
-- key and day). Submits are counted once per statement (a group of up to 256), not per job.

-- The provider that made a succeeded job's images (written by finish).
ALTER TABLE jobs ADD COLUMN provider TEXT;

CREATE TABLE usage_counts (
    tenant      TEXT     NOT NULL,
    day         INTEGER  NOT NULL,
    model       TEXT     NOT NULL,
    outcome     TEXT     NOT NULL,            -- SUBMITTED SUCCEEDED FAILED CANCELLED
    error_type  TEXT     NOT NULL DEFAULT '', -- FAILED rows only
    provider    TEXT     NOT NULL DEFAULT '', -- SUCCEEDED rows only
    shard       SMALLINT NOT NULL DEFAULT 0,
    requests    BIGINT   NOT NULL,
    images      BIGINT   NOT NULL DEFAULT 0,
    provider_ms BIGINT   NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, day, model, outcome, error_type, provider, shard)
);

-- Jobs stored before this migration are counted once, from their rows (rows are never deleted; an
-- expired result no longer says how many images it had: those count 0).
INSERT INTO usage_counts (tenant, day, model, outcome, requests)
SELECT tenant, created_at / 86400000, model, 'SUBMITTED', count(*) FROM jobs GROUP BY 1, 2, 3;

INSERT INTO usage_counts (tenant, day, model, outcome, error_type, requests, images, provider_ms)
SELECT tenant, finished_at / 86400000, model, state,
       CASE WHEN state = 'FAILED' THEN COALESCE(error_type, '') ELSE '' END,
       count(*),
       SUM(CASE WHEN state = 'SUCCEEDED' AND result IS NOT NULL THEN json_array_length(result::json -> 'images') ELSE 0 END),
       SUM(CASE WHEN state = 'SUCCEEDED' THEN COALESCE(inference_ms, 0) ELSE 0 END)
FROM jobs WHERE state IN ('SUCCEEDED', 'FAILED', 'CANCELLED') AND finished_at IS NOT NULL
GROUP BY 1, 2, 3, 4, 5;

-- Once per inserting statement (a submit group), over the rows it inserted; keys in sorted order,
-- so two groups never lock each other's rows in opposite orders.
CREATE FUNCTION usage_submitted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO usage_counts (tenant, day, model, outcome, shard, requests)
    SELECT tenant, created_at / 86400000, model, 'SUBMITTED', pg_backend_pid() % 64, count(*)
      FROM inserted_jobs GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (tenant, day, model, outcome, error_type, provider, shard)
    DO UPDATE SET requests = usage_counts.requests + EXCLUDED.requests;
    RETURN NULL;
END $$;

CREATE TRIGGER usage_submitted AFTER INSERT ON jobs REFERENCING NEW TABLE AS inserted_jobs
FOR EACH STATEMENT EXECUTE FUNCTION usage_submitted();

-- Once per job: the move into a final state (a final state never changes again).
CREATE FUNCTION usage_ended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO usage_counts (tenant, day, model, outcome, error_type, provider, shard, requests, images, provider_ms)
    VALUES (NEW.tenant, COALESCE(NEW.finished_at, 0) / 86400000, NEW.model, NEW.state,
            CASE WHEN NEW.state = 'FAILED' THEN COALESCE(NEW.error_type, '') ELSE '' END,
            CASE WHEN NEW.state = 'SUCCEEDED' THEN COALESCE(NEW.provider, '') ELSE '' END,
            pg_backend_pid() % 64,
            1,
            CASE WHEN NEW.state = 'SUCCEEDED' AND NEW.result IS NOT NULL THEN json_array_length(NEW.result::json -> 'images') ELSE 0 END,
            CASE WHEN NEW.state = 'SUCCEEDED' THEN COALESCE(NEW.inference_ms, 0) ELSE 0 END)
    ON CONFLICT (tenant, day, model, outcome, error_type, provider, shard) DO UPDATE SET
        requests = usage_counts.requests + EXCLUDED.requests,
        images = usage_counts.images + EXCLUDED.images,
        provider_ms = usage_counts.provider_ms + EXCLUDED.provider_ms;
    RETURN NULL;
END $$;

CREATE TRIGGER usage_ended AFTER UPDATE OF state ON jobs FOR EACH ROW
WHEN (NEW.state IN ('SUCCEEDED', 'FAILED', 'CANCELLED')
      AND OLD.state NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED'))
EXECUTE FUNCTION usage_ended();
