package io.genqueue.webhook;

import io.genqueue.queue.LogEntry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The deliveries webhooks owe, kept in the job store's database. A delivery is written by the
 * database in the same statement (so the same transaction) that moves a job with a webhook URL to
 * a final state, whichever path ends it; it stays until it is delivered or given up, and
 * retention keeps its job until then.
 *
 * <p>Each attempt is claimed with a lease: of processes claiming at once, each delivery goes to
 * one. The claim moves the delivery's due time to the end of the lease, so the attempt of a
 * process that dies is due again when the lease runs out (at least once: a receiver may see a
 * delivery twice). Recording an attempt's end names the claim; once the lease has passed to
 * another claim, the record does nothing and returns false. Every record writes the job's log
 * line in the same transaction.
 */
public interface WebhookOutbox {

    /**
     * A claimed attempt: which job, for whom, where to (and the base URL of the payload's links),
     * how many attempts failed before it, and the lease (the claiming process and the end of the
     * lease, which together name this claim alone).
     */
    record Claim(String jobId, String tenant, String model, String url, String linkBase, int failedTries, String owner,
            Instant leaseUntil) {
    }

    /** Claims up to {@code max} due deliveries, oldest due first, each for {@code lease}. */
    List<Claim> claim(int max, Duration lease);

    /** The receiver answered 2xx: the delivery is done. */
    boolean delivered(Claim claim, LogEntry line);

    /** The attempt failed: the next one is due at {@code next}, and the failure counts as a try. */
    boolean retry(Claim claim, Instant next, LogEntry line);

    /** The attempt failed and was the last: the delivery is done without success. */
    boolean giveUp(Claim claim, LogEntry line);

    /** When the earliest delivery not yet done is due (for a worker deciding how long to sleep). */
    Optional<Instant> nextDue();
}
