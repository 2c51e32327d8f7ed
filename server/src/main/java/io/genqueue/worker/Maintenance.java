package io.genqueue.worker;

import io.genqueue.blob.BlobStore;
import io.genqueue.queue.JobStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The periodic work that keeps the queue honest, each task a plain method so tests can run one pass
 * on a stepped clock instead of waiting:
 * <ul>
 *   <li>{@link #renewLeases}: extends the leases of the jobs this process runs, and stops any whose
 *       lease was lost;
 *   <li>{@link #reap}: requeues (or fails) jobs whose lease ran out, and fails queued jobs whose
 *       start deadline passed;
 *   <li>{@link #sweepRetention}: expires results older than the retention period and deletes their
 *       images.
 * </ul>
 */
final class Maintenance implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Maintenance.class);
    private static final int SWEEP_BATCH = 500;

    /** Settings. */
    record Settings(Duration lease, int maxAttempts, Duration retention, Duration reapInterval, Duration sweepInterval) {
    }

    private final JobStore store;
    private final BlobStore blobs;
    private final RunningJobs running;
    private final Clock clock;
    private final Settings settings;
    /** Clock millis before which {@link #reap} does not reap (after an outage of the store); guarded by this. */
    private long reapFrom = Long.MIN_VALUE;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("genqueue-maintenance").daemon().factory());

    Maintenance(JobStore store, BlobStore blobs, RunningJobs running, Clock clock, Settings settings) {
        this.store = store;
        this.blobs = blobs;
        this.running = running;
        this.clock = clock;
        this.settings = settings;
    }

    public void start() {
        long renewEvery = renewEveryMillis();
        scheduler.scheduleWithFixedDelay(guard("lease renewal", this::renewLeases), renewEvery, renewEvery, TimeUnit.MILLISECONDS);
        long reapEvery = settings.reapInterval().toMillis();
        scheduler.scheduleWithFixedDelay(guard("reaper", this::reap), 0, reapEvery, TimeUnit.MILLISECONDS);
        long sweepEvery = settings.sweepInterval().toMillis();
        scheduler.scheduleWithFixedDelay(guard("retention sweep", this::sweepRetention), sweepEvery, sweepEvery, TimeUnit.MILLISECONDS);
    }

    public void renewLeases() {
        long start = clock.millis();
        boolean answered = false;
        try {
            for (String jobId : store.renew(running.claims(), settings.lease())) {
                running.stop(jobId, RunningJobs.StopReason.LEASE_LOST);
            }
            answered = true;
        } finally {
            observed(start, answered);
        }
    }

    /**
     * A lease that ran out while the store was unreachable says nothing about its worker, which could
     * not renew it either: reaping it would rerun a job that is still running (and count an attempt).
     * So a pass reaps only leases that ran out before it started (a pass that waited out an outage
     * leaves the rest alone), and after any store call of these tasks that failed or was slow (the
     * store unreachable or struggling), reaping pauses until the store has answered for one whole
     * lease: time enough for every live worker to renew (it renews every third of a lease). While
     * paused, a pass only pings the store.
     */
    public synchronized void reap() {
        long start = clock.millis();
        boolean reaping = start >= reapFrom;
        boolean answered = false;
        try {
            if (reaping) {
                List<String> reaped = store.reapExpiredLeases(settings.maxAttempts(), Instant.ofEpochMilli(start));
                if (!reaped.isEmpty()) {
                    log.warn("requeued or failed {} job(s) whose worker stopped renewing its lease", reaped.size());
                    reaped.forEach(id -> running.stop(id, RunningJobs.StopReason.LEASE_LOST));
                }
            } else if (!store.ping()) {
                return;
            }
            int late = store.failMissedStartDeadlines();
            if (late > 0) {
                log.info("{} job(s) did not start before their start timeout and failed", late);
            }
            answered = true;
        } finally {
            observed(start, answered);
            if (!reaping && clock.millis() >= reapFrom) {
                log.info("the store has answered for {} ms; reaping expired leases again", settings.lease().toMillis());
            }
        }
    }

    /** After a store call that began at {@code start}: if it failed or was slow, reaping pauses (see {@link #reap}). */
    private synchronized void observed(long start, boolean answered) {
        long end = clock.millis();
        if (answered && end - start <= renewEveryMillis()) {
            return;
        }
        if (end >= reapFrom) {
            log.warn("the store {} ({} ms); expired leases are reaped again once it has answered for {} ms",
                    answered ? "was slow" : "failed", end - start, settings.lease().toMillis());
        }
        reapFrom = end + settings.lease().toMillis();
    }

    private long renewEveryMillis() {
        return Math.max(100, settings.lease().toMillis() / 3);
    }

    /** Expires old results and deletes their images. Returns how many jobs it purged. */
    public int sweepRetention() {
        int purged = 0;
        List<String> expired;
        do {
            expired = store.expireResults(clock.instant().minus(settings.retention()), SWEEP_BATCH);
            purged += purge(expired);
        } while (expired.size() == SWEEP_BATCH);
        purged += purge(store.expiredNotPurged(SWEEP_BATCH)); // left over by an interrupted sweep
        if (purged > 0) {
            log.info("retention: removed the results and images of {} job(s)", purged);
        }
        return purged;
    }

    private int purge(List<String> jobIds) {
        if (jobIds.isEmpty()) {
            return 0;
        }
        for (String id : jobIds) {
            blobs.deleteJob(id);
        }
        store.markPurged(jobIds);
        return jobIds.size();
    }

    private static Runnable guard(String name, Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                log.error("{} failed: {}", name, e.toString());
            }
        };
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        try {
            scheduler.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
