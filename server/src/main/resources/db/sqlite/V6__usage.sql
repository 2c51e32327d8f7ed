-- Usage (io.genqueue.usage): what each tenant asked for and got, per UTC day and model. The counts
-- are written by triggers on jobs, in the statement that makes or ends a job, so they commit or
-- roll back with it: no crash separates a job's outcome from its count, and no code path (submit,
-- finish, cancel, a reap out of attempts, a missed start deadline) can forget to count.
--
-- One row per (tenant, day, model, outcome, error_type, provider):
--   outcome SUBMITTED: requests accepted (an idempotent repeat is not a new request); day = submit time
--   outcome SUCCEEDED: provider = the provider that made the images; images made; provider_ms = the run's time
--   outcome FAILED:    error_type = the job's error_type
--   outcome CANCELLED
-- day is the UTC day of the event as days since 1970-01-01: the submit for SUBMITTED, the end for
-- the others. SQLite has a single writer, so one row per key has no contention to spread.

-- The provider that made a succeeded job's images (written by finish).
ALTER TABLE jobs ADD COLUMN provider TEXT;

CREATE TABLE usage_counts (
    tenant      TEXT    NOT NULL,
    day         INTEGER NOT NULL,
    model       TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,            -- SUBMITTED SUCCEEDED FAILED CANCELLED
    error_type  TEXT    NOT NULL DEFAULT '', -- FAILED rows only
    provider    TEXT    NOT NULL DEFAULT '', -- SUCCEEDED rows only
    requests    INTEGER NOT NULL,
    images      INTEGER NOT NULL DEFAULT 0,
    provider_ms INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, day, model, outcome, error_type, provider)
) STRICT, WITHOUT ROWID;

-- Jobs stored before this migration are counted once, from their rows (rows are never deleted; an
-- expired result no longer says how many images it had: those count 0).
INSERT INTO usage_counts (tenant, day, model, outcome, requests)
SELECT tenant, created_at / 86400000, model, 'SUBMITTED', count(*) FROM jobs GROUP BY 1, 2, 3;

INSERT INTO usage_counts (tenant, day, model, outcome, error_type, requests, images, provider_ms)
SELECT tenant, finished_at / 86400000, model, state,
       CASE WHEN state = 'FAILED' THEN COALESCE(error_type, '') ELSE '' END,
       count(*),
       SUM(CASE WHEN state = 'SUCCEEDED' AND result IS NOT NULL THEN json_array_length(result, '$.images') ELSE 0 END),
       SUM(CASE WHEN state = 'SUCCEEDED' THEN COALESCE(inference_ms, 0) ELSE 0 END)
FROM jobs WHERE state IN ('SUCCEEDED', 'FAILED', 'CANCELLED') AND finished_at IS NOT NULL
GROUP BY 1, 2, 3, 4, 5;

CREATE TRIGGER usage_submitted AFTER INSERT ON jobs
BEGIN
    INSERT INTO usage_counts (tenant, day, model, outcome, requests)
    VALUES (NEW.tenant, NEW.created_at / 86400000, NEW.model, 'SUBMITTED', 1)
    ON CONFLICT (tenant, day, model, outcome, error_type, provider) DO UPDATE SET requests = requests + 1;
END;

-- Fires once per job: the move into a final state (a final state never changes again).
CREATE TRIGGER usage_ended AFTER UPDATE OF state ON jobs
WHEN NEW.state IN ('SUCCEEDED', 'FAILED', 'CANCELLED')
     AND OLD.state NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED')
BEGIN
    INSERT INTO usage_counts (tenant, day, model, outcome, error_type, provider, requests, images, provider_ms)
    VALUES (NEW.tenant, COALESCE(NEW.finished_at, 0) / 86400000, NEW.model, NEW.state,
            CASE WHEN NEW.state = 'FAILED' THEN COALESCE(NEW.error_type, '') ELSE '' END,
            CASE WHEN NEW.state = 'SUCCEEDED' THEN COALESCE(NEW.provider, '') ELSE '' END,
            1,
            CASE WHEN NEW.state = 'SUCCEEDED' AND NEW.result IS NOT NULL THEN json_array_length(NEW.result, '$.images') ELSE 0 END,
            CASE WHEN NEW.state = 'SUCCEEDED' THEN COALESCE(NEW.inference_ms, 0) ELSE 0 END)
    ON CONFLICT (tenant, day, model, outcome, error_type, provider) DO UPDATE SET
        requests = requests + excluded.requests,
        images = images + excluded.images,
        provider_ms = provider_ms + excluded.provider_ms;
END;
