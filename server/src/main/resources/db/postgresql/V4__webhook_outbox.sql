-- Webhooks (io.genqueue.webhook): the URL a request asked to be told at when it completes, and
-- the outbox of deliveries. Times are epoch milliseconds from the processes' clocks.
-- webhook_base: the base URL the request was submitted at, for the links in the delivered payload
-- (as GET .../response would give that client).
ALTER TABLE jobs ADD COLUMN webhook_url TEXT;
ALTER TABLE jobs ADD COLUMN webhook_base TEXT;

-- One row per request with a webhook, from the moment it reached a final state until delivered
-- or given up. due_at is both the time of the next attempt and, while an attempt is in flight,
-- the end of its lease: a claim (FOR UPDATE SKIP LOCKED, so each by exactly one process) moves it
-- to now + lease, so the delivery of a process that died mid-attempt is due again once that passes.
CREATE TABLE webhook_deliveries (
    job_id      TEXT   PRIMARY KEY,
    due_at      BIGINT NOT NULL,
    tries       INTEGER NOT NULL DEFAULT 0,      -- finished attempts that failed
    lease_owner TEXT,                            -- the process of the attempt in flight, if any
    done_at     BIGINT,                          -- delivered or given up
    outcome     TEXT,                            -- DELIVERED GIVEN_UP
    CHECK ((done_at IS NULL) = (outcome IS NULL))
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (due_at) WHERE done_at IS NULL;

-- The delivery is written by the statement that ends the request, whichever path ends it
-- (finish, a cancel, a reap out of attempts, a missed start deadline), so it commits or rolls
-- back with the final state: a 200 from submit means the webhook will be sent.
CREATE FUNCTION webhook_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_deliveries (job_id, due_at) VALUES (NEW.id, COALESCE(NEW.finished_at, 0))
        ON CONFLICT (job_id) DO NOTHING;
    RETURN NULL;
END $$;

CREATE TRIGGER webhook_outbox AFTER UPDATE OF state ON jobs FOR EACH ROW
WHEN (NEW.webhook_url IS NOT NULL
      AND NEW.state IN ('SUCCEEDED', 'FAILED', 'CANCELLED')
      AND OLD.state NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED'))
EXECUTE FUNCTION webhook_outbox();
