package io.genqueue.queue;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Where jobs live: the queue, their state machine, results and logs. Implementations: SQLite (one
 * process, the default) and PostgreSQL (many processes sharing one database); both pass the same
 * contract test ({@code JobStoreContract}).
 *
 * <p>Contract for every implementation:
 * <ul>
 *   <li>A method that changes state returns only after the change is durable (committed and
 *       flushed), except {@link #log}, which is ordered but asynchronous.
 *   <li>Each transition follows {@link JobState#canMoveTo} and happens exactly once: of two racing
 *       transitions of one job (a cancel and a claim, a finish and a reap), one wins and the other
 *       sees that it lost.
 *   <li>Worker-side transitions name a {@link Claim}; once the claim's lease is lost they do nothing
 *       and return false.
 *   <li>Readers see committed state only.
 *   <li>Listeners hear of a change after it is committed.
 * </ul>
 * Time comes from the clock the store was built with.
 */
public interface JobStore extends AutoCloseable {

    /**
     * Stores a new job (or finds the one its idempotency key names). Durable on return. A job with
     * a {@link Quota} is checked against it in the same transaction that stores it, exactly under
     * concurrent submits of any number of processes: over it, nothing is stored and the outcome is
     * {@link SubmitOutcome.OverQuota}. An idempotent repeat of a stored request is never refused.
     */
    SubmitOutcome submit(NewJob job);

    /**
     * Queued jobs of every model (waiting to start, not running). Cheap on SQLite (the queue index);
     * a count on PostgreSQL, so callers ask at most every so often.
     */
    long queuedJobs();

    /** The job with this id if it belongs to this tenant; another tenant's job is absent. */
    Optional<JobView> find(String tenant, String id);

    /**
     * The job as its status answers show it: as {@link #find}, served from memory for live and
     * recent jobs where the store can keep that exact (see {@link StatusCache}). Never older than a
     * commit anyone may have seen an answer from; {@link JobView#expired} may lag (a status does
     * not show it; the result routes use {@link #find}).
     */
    Optional<JobView> status(String tenant, String id);

    /** A succeeded job's result (absent for other states and after retention removed it). */
    Optional<JobResult> result(String id);

    /** A job's log, oldest first. */
    List<LogEntry> logs(String id);

    /** Cancels a queued job at once, or asks the worker of a running one to abort. */
    CancelOutcome cancel(String tenant, String id);

    /**
     * Claims up to {@code max} jobs that are due, in queue order (every normal job before any low
     * one, then oldest first), for this process, each with a lease of {@code lease}. A queued job
     * whose start deadline has passed is never claimed; {@link #failMissedStartDeadlines} fails it.
     */
    default List<Claim> claim(int max, Duration lease) {
        return claim(max, lease, null);
    }

    /**
     * As {@link #claim(int, Duration)}, but only jobs of {@code model} (every model when null): the
     * worker claims each model up to its own cap of slots, so one model's backlog never holds them all.
     */
    List<Claim> claim(int max, Duration lease, String model);

    /**
     * This store's lease owner: the {@code lease_owner} its claims write, with the attempt the fence
     * of every later transition of a run (so the log lines about a run that lost its lease can name it).
     */
    String leaseOwner();

    /** Appends to a job's log. Asynchronous, but ordered before any later transition of the job. */
    void log(Claim claim, LogEntry entry);

    /**
     * Extends the leases of running claims to {@code now + lease}.
     *
     * @return the job ids among {@code claims} whose lease was already lost
     */
    Set<String> renew(Collection<Claim> claims, Duration lease);

    /**
     * Keeps an upstream reference (such as fal's request id) with a running job, durably, so that a
     * later attempt after a crash or a reap resumes it ({@link Claim#upstream}). {@link #retry} clears
     * it (a failed upstream request is not resumed); {@link #release} and a reap keep it. False when
     * the claim's lease was lost.
     */
    boolean saveUpstream(Claim claim, String reference);

    /**
     * Ends a run, with the log line that says how, in one durable step: a crash leaves either both
     * or neither, so a job's outcome is never logged twice. False when the claim's lease was lost:
     * neither was recorded.
     */
    boolean finish(Claim claim, Outcome outcome, LogEntry line);

    /**
     * Puts a running job back in the queue after a retryable failure, to run again no earlier than
     * {@code runAfter}. If the client asked to cancel it meanwhile, it ends cancelled instead.
     * False when the claim's lease was lost.
     */
    boolean retry(Claim claim, Instant runAfter, LogEntry why);

    /**
     * Puts a running job back in the queue without counting the attempt, to run again no earlier
     * than {@code runAfter}, with the log line that says why: the run was cut short by something
     * that is not the job's fault (a graceful shutdown, this machine's storage failing). Its upstream
     * reference is kept. If the client asked to cancel it meanwhile, it ends cancelled instead.
     * False when the lease was lost.
     */
    boolean release(Claim claim, Instant runAfter, LogEntry why);

    /**
     * Requeues running jobs whose lease ran out before {@code expiredBefore} (their worker died or
     * hung), or fails those that used their last attempt. Returns the affected job ids. A call that
     * waited for the store (an outage) passes the time it started, leaving alone the leases that
     * ran out meanwhile, whose workers could not renew them either.
     */
    List<String> reapExpiredLeases(int maxAttempts, Instant expiredBefore);

    /** Fails queued jobs whose start deadline passed. Returns how many. */
    int failMissedStartDeadlines();

    /**
     * Marks up to {@code limit} jobs that finished before {@code finishedBefore} as expired: their
     * result answers 410 from now on. Returns their ids; their blobs are to be deleted, then
     * {@link #markPurged} called.
     */
    List<String> expireResults(Instant finishedBefore, int limit);

    /** Expired jobs whose blobs may not be deleted yet (a sweep was interrupted). */
    List<String> expiredNotPurged(int limit);

    /** Records that an expired job's blobs are gone. */
    void markPurged(Collection<String> jobIds);

    /**
     * The queued and running jobs of every model that has any, and the oldest queued one's submit
     * time, over the whole store (every process of a cluster). A read for metrics, asked every few
     * seconds: it counts the unfinished jobs, never the finished ones.
     */
    List<QueueDepth> queueDepth();

    /** When the earliest job waiting out a retry delay becomes due, if any. */
    Optional<Instant> nextDelayedRun();

    void addListener(JobListener listener);

    /** Whether the store answers (for {@code /readyz}). */
    boolean ping();

    @Override
    void close();
}
