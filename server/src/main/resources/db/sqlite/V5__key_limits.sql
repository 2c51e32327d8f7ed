-- Limits per key (io.genqueue.limit), checked at submit; 0 is "no limit" in every column.
-- rate: requests per second of the key's token bucket, burst its size; max_queued: the tenant's
-- requests in the queue or running; daily_images: num_images accepted per UTC day. admin: the
-- key may use the admin API.
ALTER TABLE api_keys ADD COLUMN rate         REAL    NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN burst        INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN max_queued   INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN daily_images INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN admin        INTEGER NOT NULL DEFAULT 0;

-- The requests of a tenant that are QUEUED or RUNNING, for tenants whose submits were checked
-- against a max_queued (the row is made, by counting, at the first such submit, and then kept by
-- the triggers below in the statements that change the jobs). Tenants without a row cost the
-- triggers one failed lookup.
CREATE TABLE tenant_live (
    tenant TEXT    PRIMARY KEY,
    live   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TRIGGER tenant_live_in AFTER INSERT ON jobs
BEGIN
    UPDATE tenant_live SET live = live + 1 WHERE tenant = NEW.tenant;
END;

CREATE TRIGGER tenant_live_out AFTER UPDATE OF state ON jobs
WHEN OLD.state IN ('QUEUED', 'RUNNING') AND NEW.state NOT IN ('QUEUED', 'RUNNING')
BEGIN
    UPDATE tenant_live SET live = live - 1 WHERE tenant = OLD.tenant;
END;

-- Images (num_images) a key has had accepted per UTC day (days since 1970-01-01), for keys with
-- a daily_images limit: added to in the transaction that stores the job.
CREATE TABLE key_day_images (
    key_id TEXT    NOT NULL,
    day    INTEGER NOT NULL,
    images INTEGER NOT NULL,
    PRIMARY KEY (key_id, day)
) STRICT, WITHOUT ROWID;
