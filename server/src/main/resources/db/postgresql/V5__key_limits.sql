-- Limits per key (io.genqueue.limit), checked at submit; 0 is "no limit" in every column.
-- rate: requests per second of the key's token bucket, burst its size; max_queued: the tenant's
-- requests in the queue or running; daily_images: num_images accepted per UTC day. admin: the
-- key may use the admin API.
ALTER TABLE api_keys ADD COLUMN rate         DOUBLE PRECISION NOT NULL DEFAULT 0,
                     ADD COLUMN burst        INTEGER NOT NULL DEFAULT 0,
                     ADD COLUMN max_queued   INTEGER NOT NULL DEFAULT 0,
                     ADD COLUMN daily_images INTEGER NOT NULL DEFAULT 0,
                     ADD COLUMN admin        BOOLEAN NOT NULL DEFAULT FALSE;

-- The requests of a tenant that are QUEUED or RUNNING, for tenants whose submits were checked
-- against a max_queued. The row is made by counting, under a lock that holds job writes off
-- (once per tenant), and then kept by the triggers below in the statements that change the jobs.
-- A submit checking the limit locks the row to its commit, so submits of that tenant from every
-- process are checked one after another. Tenants without a row cost the triggers nothing but one
-- look at this (small) table per statement.
CREATE TABLE tenant_live (
    tenant TEXT   PRIMARY KEY,
    live   BIGINT NOT NULL
);

-- Once per insert statement (a submit group), not per row; rows are updated in tenant order, the
-- order in which submit groups lock them, so two groups never deadlock.
CREATE FUNCTION tenant_live_in() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r RECORD;
BEGIN
    IF EXISTS (SELECT 1 FROM tenant_live) THEN
        FOR r IN SELECT n.tenant, count(*) AS added FROM new_jobs n GROUP BY n.tenant ORDER BY n.tenant LOOP
            UPDATE tenant_live SET live = live + r.added WHERE tenant = r.tenant;
        END LOOP;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER tenant_live_in AFTER INSERT ON jobs REFERENCING NEW TABLE AS new_jobs
FOR EACH STATEMENT EXECUTE FUNCTION tenant_live_in();

-- Once per job, when it leaves the queue and running states for good.
CREATE FUNCTION tenant_live_out() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tenant_live SET live = live - 1 WHERE tenant = OLD.tenant;
    RETURN NULL;
END $$;

CREATE TRIGGER tenant_live_out AFTER UPDATE OF state ON jobs FOR EACH ROW
WHEN (OLD.state IN ('QUEUED', 'RUNNING') AND NEW.state NOT IN ('QUEUED', 'RUNNING'))
EXECUTE FUNCTION tenant_live_out();

-- Images (num_images) a key has had accepted per UTC day (days since 1970-01-01), for keys with
-- a daily_images limit: added to, conditionally, in the transaction that stores the job.
CREATE TABLE key_day_images (
    key_id TEXT    NOT NULL,
    day    INTEGER NOT NULL,
    images INTEGER NOT NULL,
    PRIMARY KEY (key_id, day)
);

-- The token bucket of each key with a rate, shared by every process: tokens as of `at` (epoch
-- milliseconds of the taking process's clock). One conditional upsert takes a token.
CREATE TABLE key_buckets (
    key_id TEXT             PRIMARY KEY,
    tokens DOUBLE PRECISION NOT NULL,
    at     BIGINT           NOT NULL
);
