package io.genqueue.worker;

import io.genqueue.blob.BlobStore;
import io.genqueue.fetch.ReferenceImageFetcher;
import io.genqueue.metrics.JobMeters;
import io.genqueue.provider.Backoff;
import io.genqueue.queue.JobStore;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

/**
 * The part of a process that runs jobs and keeps the queue healthy: {@link Maintenance} (lease
 * renewal, reaping, retention) runs in every process; a {@link Dispatcher} claims jobs and hands
 * each to a {@link JobRunner} only when there are slots. The phases follow the process's life:
 * {@link #Worker construction} starts maintenance, {@link #startClaiming} begins taking jobs once
 * the rest of the process is up, {@link #stopClaiming} and {@link #shutdown} are the graceful stop,
 * and {@link #close} ends maintenance (before the store closes).
 */
public final class Worker implements AutoCloseable {

    private static final Duration REAP_INTERVAL = Duration.ofMillis(250);
    private static final Duration SWEEP_INTERVAL = Duration.ofMinutes(1);

    /**
     * @param slots jobs run at once; 0 for a process that runs none (maintenance only)
     * @param lease how long a claim is held between renewals
     * @param maxAttempts attempts of one job before it fails
     * @param backoff delays between a job's attempts
     * @param retention how long results are kept
     */
    public record Settings(int slots, Duration lease, int maxAttempts, Backoff backoff, Duration retention) {
    }

    private final Maintenance maintenance;
    private final Dispatcher dispatcher; // null without slots

    /**
     * @param models the models whose jobs this process runs, each with its router
     * @param meters hears each claim's wait and each run's duration and outcome
     * @param diskLow whether free disk space is below the watermark: no job is claimed while it is
     *     (call {@link #wake} when it changes)
     */
    public Worker(JobStore store, BlobStore blobs, List<ModelWork> models, ReferenceImageFetcher fetcher, Clock clock,
            Settings settings, JobMeters meters, BooleanSupplier diskLow) {
        RunningJobs running = new RunningJobs(clock);
        store.addListener(running);
        maintenance = new Maintenance(store, blobs, running, clock, new Maintenance.Settings(settings.lease(),
                settings.maxAttempts(), settings.retention(), REAP_INTERVAL, SWEEP_INTERVAL));
        if (settings.slots() > 0) {
            JobRunner runner = new JobRunner(store, blobs, models.stream().collect(Collectors.toMap(m -> m.model().id(), m -> m)),
                    fetcher, running, clock, new JobRunner.Limits(settings.maxAttempts(), settings.backoff()), meters);
            dispatcher = new Dispatcher(store, runner, running, clock, settings.slots(), settings.lease(), models, diskLow);
        } else {
            dispatcher = null;
        }
        maintenance.start();
    }

    /** Jobs this process runs at once (0 when it runs none). */
    public int slots() {
        return dispatcher == null ? 0 : dispatcher.slots();
    }

    /** Each model's cap of slots, by id (empty when this process runs no jobs). */
    public Map<String, Integer> slotCaps() {
        return dispatcher == null ? Map.of() : dispatcher.caps();
    }

    /** Makes an idle dispatcher look for work now (the disk's watermark changed side). */
    public void wake() {
        if (dispatcher != null) {
            dispatcher.jobsAvailable();
        }
    }

    /** Begins claiming jobs (nothing without slots). */
    public void startClaiming() {
        if (dispatcher != null) {
            dispatcher.start();
        }
    }

    /** Stops claiming; running jobs go on. */
    public void stopClaiming() {
        if (dispatcher != null) {
            dispatcher.stopClaiming();
        }
    }

    /** Running jobs get {@code grace} to finish; the rest are put back in the queue. */
    public void shutdown(Duration grace) {
        if (dispatcher != null) {
            dispatcher.shutdown(grace);
        }
    }

    /** One retention pass now (tests on a stepped clock); the number of results expired. */
    public int sweepRetention() {
        return maintenance.sweepRetention();
    }

    @Override
    public void close() {
        maintenance.close();
    }
}
