-- Jobs. seq is the rowid: the queue order within a lane, assigned at submit.
-- Times are epoch milliseconds.
CREATE TABLE jobs (
    seq              INTEGER PRIMARY KEY,
    id               TEXT    NOT NULL UNIQUE,
    tenant           TEXT    NOT NULL,
    model            TEXT    NOT NULL,
    lane             INTEGER NOT NULL,            -- 0 normal, 1 low
    state            TEXT    NOT NULL,            -- QUEUED RUNNING SUCCEEDED FAILED CANCELLED
    input            TEXT,                        -- GenerationInput as JSON; null once expired
    sync_mode        INTEGER NOT NULL DEFAULT 0,
    attempt          INTEGER NOT NULL DEFAULT 0,  -- runs started so far
    run_after        INTEGER NOT NULL,            -- not claimable before this (retry backoff)
    start_deadline   INTEGER,                     -- X-Fal-Request-Start-Timeout
    lease_owner      TEXT,
    lease_until      INTEGER,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    started_at       INTEGER,                     -- first start
    run_started_at   INTEGER,                     -- start of the latest attempt
    finished_at      INTEGER,
    inference_ms     INTEGER,
    error_type       TEXT,
    error            TEXT,
    error_loc        TEXT,                        -- JSON array, for 422 details
    result           TEXT,                        -- JobResult as JSON
    expired_at       INTEGER,
    purged           INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX jobs_ready    ON jobs (lane, seq)         WHERE state = 'QUEUED';
CREATE INDEX jobs_deadline ON jobs (start_deadline)    WHERE state = 'QUEUED' AND start_deadline IS NOT NULL;
CREATE INDEX jobs_delayed  ON jobs (run_after)         WHERE state = 'QUEUED';
CREATE INDEX jobs_leases   ON jobs (lease_until)       WHERE state = 'RUNNING';
CREATE INDEX jobs_retained ON jobs (finished_at)       WHERE finished_at IS NOT NULL AND expired_at IS NULL;
CREATE INDEX jobs_purge    ON jobs (expired_at)        WHERE expired_at IS NOT NULL AND purged = 0;

CREATE TABLE job_logs (
    seq     INTEGER PRIMARY KEY,
    job_id  TEXT    NOT NULL,
    at      INTEGER NOT NULL,
    level   TEXT    NOT NULL,
    message TEXT    NOT NULL
) STRICT;

CREATE INDEX job_logs_job ON job_logs (job_id, seq);

-- Idempotency-Key: the same key from the same tenant within 24 h names the same request.
CREATE TABLE idempotency_keys (
    tenant       TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    job_id       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant, key)
) STRICT, WITHOUT ROWID;

CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);

-- API keys, stored only as SHA-256 digests of the whole key.
CREATE TABLE api_keys (
    key_id     TEXT    PRIMARY KEY,               -- public, short: shown by `keys list`, used by `keys revoke`
    key_hash   TEXT    NOT NULL UNIQUE,           -- hex SHA-256 of the key
    tenant     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT, WITHOUT ROWID;
