package io.genqueue.worker;

import io.genqueue.blob.BlobStore;
import io.genqueue.blob.BlobStoreException;
import io.genqueue.catalog.Model;
import io.genqueue.catalog.OutputSize;
import io.genqueue.fetch.ImageFetchException;
import io.genqueue.fetch.ReferenceImageFetcher;
import io.genqueue.generation.ErrorType;
import io.genqueue.generation.GenerationInput;
import io.genqueue.image.AspectRatio;
import io.genqueue.image.ImageData;
import io.genqueue.image.ImageInfo;
import io.genqueue.image.ImageProbe;
import io.genqueue.image.ImageRejectedException;
import io.genqueue.metrics.JobMeters;
import io.genqueue.provider.Backoff;
import io.genqueue.provider.CallContext;
import io.genqueue.provider.GenerationRequest;
import io.genqueue.provider.GenerationResult;
import io.genqueue.provider.ProviderException;
import io.genqueue.queue.Claim;
import io.genqueue.queue.Failure;
import io.genqueue.queue.JobLines;
import io.genqueue.queue.JobResult;
import io.genqueue.queue.JobStore;
import io.genqueue.queue.LogEntry;
import io.genqueue.queue.Outcome;
import io.genqueue.queue.StoreException;
import io.genqueue.queue.StoredImage;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one claimed job to its end: fetch the reference images, call the provider, store the images,
 * record the outcome. Runs on its own (virtual) thread, which it registers in {@link RunningJobs}
 * so that a cancel, a lost lease or a shutdown interrupts exactly this work.
 *
 * <p>How a run ends: images stored, then {@code finish(Succeeded)}; an input fault (a reference image
 * that cannot be used) or a final provider failure, {@code finish(Failed)}; a retryable provider
 * failure, {@code retry} with backoff until the last attempt; a stop, whatever its reason asks for.
 * Every step leaves a line in the job's log.
 *
 * <p>A run can lose its job at any point (its lease ran out while its process was paused or cut off,
 * and another run took the job): the store then refuses its transitions (they are fenced by the
 * claim's attempt and this process's lease owner). The run learns it from a refused finish, or
 * from a refused lease renewal or a reap that stops it; either way it logs that its outcome is
 * discarded and deletes the images it stored ({@link RunImages}), so the images served are those
 * of the run whose outcome was recorded.
 *
 * <p>Storage failing (the disk full, the database refusing writes, the bucket down) is a fault of
 * this machine, never of the request: the job goes back to the queue with {@code release} (the
 * attempt not counted) and a backoff that grows with each such fault in a row, and the images the
 * provider made are kept in {@link HeldResults} for its next attempt in this process, so the
 * provider is not paid twice. Recording an outcome (or that release) is retried for as long as the
 * store fails: the run stays registered meanwhile, so its lease is renewed as soon as the store
 * answers, and the reaper leaves leases alone during an outage. Only a shutdown ends that wait; the
 * job is then run again after the next start.
 */
final class JobRunner {

    private static final Logger log = LoggerFactory.getLogger(JobRunner.class);
    /** The longest pause between two tries of recording while the store fails. */
    private static final long RECORD_PAUSE_MAX_MS = 2_000;
    /** How often a recording that keeps failing is logged again (the first failure always is). */
    private static final long RECORD_LOG_EVERY_MS = 30_000;

    /** Settings of a run. */
    record Limits(int maxAttempts, Backoff backoff) {
    }

    private final JobStore store;
    private final BlobStore blobs;
    private final Map<String, ModelWork> models;
    private final ReferenceImageFetcher fetcher;
    private final RunningJobs running;
    private final Clock clock;
    private final Limits limits;
    private final JobMeters meters;
    private final HeldResults held;

    /** @param models every model this process runs, by id: a job runs on its model's size table and providers */
    JobRunner(JobStore store, BlobStore blobs, Map<String, ModelWork> models, ReferenceImageFetcher fetcher,
            RunningJobs running, Clock clock, Limits limits, JobMeters meters) {
        this.meters = meters;
        this.store = store;
        this.blobs = blobs;
        this.models = Map.copyOf(models);
        this.fetcher = fetcher;
        this.running = running;
        this.clock = clock;
        this.limits = limits;
        this.held = new HeldResults(HeldResults.defaultMaxBytes(), Duration.ofHours(1), clock);
    }

    /** Runs the job on the calling thread; never throws. */
    public void run(Claim claim) {
        RunningJobs.Run run = running.register(claim);
        long started = System.nanoTime();
        meters.pickedUp(Duration.between(claim.dueAt(), claim.claimedAt()));
        JobLines.started(claim);
        RunImages images = new RunImages(blobs, claim);
        HeldResults.Held kept = held.take(claim.jobId()); // what an attempt cut short by storage left, or null
        try {
            store.log(claim, LogEntry.info(clock.instant(), "Attempt " + claim.attempt() + " started."));
            Outcome outcome = attempt(run, kept, started, images);
            record(run, outcome, images);
        } catch (InterruptedException | RuntimeException e) {
            if (storageFault(e) && run.stopReason() == null) {
                // The disk, the database or the bucket failed: not the job's fault, so not its failure.
                // (After a stop, a storage call may have failed by the stop's interrupt: the stop decides, below.)
                try {
                    postpone(run, kept, e, started, images);
                } catch (RuntimeException shutdown) {
                    log.error("job {} attempt {}: could not put it back in the queue before the shutdown; the next start "
                            + "runs it again: {}", claim.jobId(), claim.attempt(), shutdown.toString());
                }
                return;
            }
            try {
                ended(run, e, started, images);
            } catch (RuntimeException storeDown) {
                // The outcome could not be recorded before a shutdown (until then recording is
                // retried): the next start requeues the job.
                log.error("job {} attempt {}: could not record how the run ended: {}", claim.jobId(), claim.attempt(),
                        storeDown.toString());
            }
        } finally {
            running.unregister(run);
            meters.ran(System.nanoTime() - started);
        }
    }

    private Outcome attempt(RunningJobs.Run run, HeldResults.Held kept, long started, RunImages images)
            throws InterruptedException {
        Claim claim = run.claim();
        GenerationInput input = claim.input();
        if (kept != null && kept.result() != null) {
            store.log(claim, LogEntry.info(clock.instant(), "Storing the " + kept.result().images().size()
                    + " image(s) made before storage failed (kept in memory; the provider is not called again)."));
            return stored(claim, kept.result(), started, images);
        }
        List<ImageData> references = new ArrayList<>();
        for (int i = 0; i < input.imageUrls().size(); i++) {
            try {
                references.add(fetcher.fetch(input.imageUrls().get(i)));
            } catch (ImageFetchException e) {
                return new Outcome.Failed(new Failure(ErrorType.IMAGE_FETCH_FAILED,
                        "image_urls[" + i + "]: " + e.getMessage(), List.of("body", "image_urls", i)), elapsed(started));
            }
        }
        if (!references.isEmpty()) {
            store.log(claim, LogEntry.info(clock.instant(), "Fetched " + references.size() + " reference image(s)."));
        }
        ModelWork work = work(claim);
        Model model = work.model();
        AspectRatio ratio = input.aspectRatio() != null ? input.aspectRatio()
                : references.isEmpty() ? (model.aspectRatios().contains(AspectRatio.R1_1) ? AspectRatio.R1_1 : model.aspectRatios().get(0))
                : AspectRatio.nearest(references.get(0).info().width(), references.get(0).info().height(), model.aspectRatios());
        String tier = input.imageSize() != null ? input.imageSize() : model.defaultImageSize();
        OutputSize size = model.size(ratio, tier).orElseThrow(() -> ProviderException.fatal(ErrorType.VALIDATION_ERROR,
                "model " + model.id() + " has no size for aspect ratio " + ratio.wire() + " at " + tier));
        GenerationRequest request = new GenerationRequest(claim.jobId(), input.prompt(), references, ratio, size.imageSize(),
                size.width(), size.height(), input.outputFormat(), input.numImages(), input.includeText(), input.seed(),
                new JobContext(run));
        GenerationResult result = work.providers().generate(request);
        if (result.images().isEmpty()) {
            throw ProviderException.fatal(ErrorType.PROVIDER_ERROR, by(result) + " returned no image.");
        }
        return stored(claim, result, started, images);
    }

    /** Stores the images; when storing fails, the result is held for the job's next attempt. */
    private Outcome stored(Claim claim, GenerationResult result, long started, RunImages images) {
        List<StoredImage> stored = new ArrayList<>();
        try {
            for (int i = 0; i < result.images().size(); i++) {
                stored.add(store(claim.jobId(), i, result.images().get(i), by(result), images));
            }
        } catch (BlobStoreException e) {
            throw new ImagesNotStored(result, e);
        }
        return new Outcome.Succeeded(new JobResult(stored, claim.input().includeText() ? result.description() : ""), by(result),
                elapsed(started));
    }

    /** Storing the provider's images failed: the result goes with the failure, to be held. */
    private static final class ImagesNotStored extends RuntimeException {
        private final transient GenerationResult result;

        ImagesNotStored(GenerationResult result, BlobStoreException cause) {
            super(cause.getMessage(), cause);
            this.result = result;
        }
    }

    private static boolean storageFault(Exception e) {
        return e instanceof StoreException || e instanceof BlobStoreException || e instanceof ImagesNotStored;
    }

    /**
     * Storage failed during the attempt: back in the queue without counting it, after a delay that
     * grows with the faults in a row, the provider's images held for the next attempt.
     */
    private void postpone(RunningJobs.Run run, HeldResults.Held kept, Exception e, long started, RunImages images) {
        Claim claim = run.claim();
        GenerationResult result = e instanceof ImagesNotStored n ? n.result : kept != null ? kept.result() : null;
        int faults = held.storageFailed(claim.jobId(), result, kept == null ? 0 : kept.storageFaults());
        Duration delay = limits.backoff().delayAfter(faults, java.util.Optional.empty());
        log.warn("job {} attempt {}: storage failed ({} in a row); back in the queue in {}{}, the attempt not counted: {}",
                claim.jobId(), claim.attempt(), faults, seconds(delay), result != null ? ", its images held in memory" : "",
                e instanceof ImagesNotStored ? e.getCause().toString() : e.toString());
        LogEntry line = LogEntry.warn(clock.instant(), "This server could not store the request's data (its storage failed)"
                + (result != null ? "; the generated images are kept for the next attempt" : "")
                + ". Running it again in " + seconds(delay) + "; this attempt is not counted.");
        startRecording(run);
        // Before the release, while this run still holds the job: a release does not count the
        // attempt, so the next run (in any process, once the delay passed) writes these same keys,
        // and a delete after the release (slow on a failing store) could remove its images. Best
        // effort: the storage may be what failed, and the next run replaces whatever is left.
        images.discard();
        if (recordRetrying(claim, "putting it back in the queue", () -> store.release(claim, clock.instant().plus(delay), line))) {
            JobLines.requeued(claim, elapsed(started));
        } else {
            held.take(claim.jobId()); // another run owns the job now
            lost(claim, images, "it could not be put back in the queue");
        }
    }

    private String by(GenerationResult result) {
        return result.provider() != null ? result.provider() : "the provider";
    }

    /** The claimed job's model; the dispatcher claims only the models it was given. */
    private ModelWork work(Claim claim) {
        ModelWork work = models.get(claim.model());
        if (work == null) {
            throw new IllegalStateException("claimed a job of model " + claim.model() + ", which this process does not run");
        }
        return work;
    }

    /** Stores one image under this run's key for it ({@link RunImages}). */
    private StoredImage store(String jobId, int index, ImageData image, String by, RunImages images) {
        ImageInfo info;
        try {
            info = ImageProbe.probe(image.bytes(), Long.MAX_VALUE);
        } catch (ImageRejectedException e) {
            throw ProviderException.fatal(ErrorType.PROVIDER_ERROR, by + ": returned an image that does not decode: "
                    + e.getMessage());
        }
        String ext = info.format().extension();
        String key = images.put(index, ext, image.bytes(), info.contentType());
        return new StoredImage(key, info.contentType(), jobId + "-" + index + "." + ext, image.bytes().length, info.width(), info.height());
    }

    private void record(RunningJobs.Run run, Outcome outcome, RunImages images) {
        Claim claim = run.claim();
        LogEntry line = switch (outcome) {
            case Outcome.Succeeded s -> {
                StoredImage first = s.result().images().get(0);
                yield LogEntry.info(clock.instant(), "Generated " + s.result().images().size() + " image(s) at "
                        + first.width() + "x" + first.height() + " with " + s.provider() + ".");
            }
            case Outcome.Failed f -> LogEntry.error(clock.instant(), f.failure().message());
            case Outcome.Cancelled c -> LogEntry.info(clock.instant(), "Cancelled by the client while running.");
        };
        startRecording(run);
        if (recordRetrying(claim, "recording its outcome", () -> store.finish(claim, outcome, line))) {
            switch (outcome) {
                case Outcome.Succeeded s -> meters.succeeded(claim.model(), claim.tenant());
                case Outcome.Failed f -> meters.failed(claim.model(), claim.tenant(), f.failure().type());
                case Outcome.Cancelled c -> meters.cancelled(claim.model(), claim.tenant());
            }
            JobLines.finished(claim, outcome);
            images.recorded(outcome instanceof Outcome.Succeeded);
        } else {
            lost(claim, images, "its finish was refused");
        }
    }

    /**
     * The store refused this run (another run holds the job, or it ended): the outcome is not the
     * job's, and neither are the images this run stored. One case is not a loss: a finish tried
     * again after a commit whose answer was lost is refused too, yet recorded this run's images, so
     * the job's recorded result is read first and what it holds is kept.
     */
    private void lost(Claim claim, RunImages images, String how) {
        java.util.Set<String> served;
        try {
            served = store.result(claim.jobId()).map(r -> r.images().stream().map(StoredImage::blobKey)
                    .collect(java.util.stream.Collectors.toSet())).orElse(java.util.Set.of());
        } catch (RuntimeException e) {
            log.warn("job {} attempt {} (owner {}): fenced out ({}); its images are kept, since the store cannot say "
                    + "which are served: {}", claim.jobId(), claim.attempt(), store.leaseOwner(), how, e.toString());
            return;
        }
        if (images.storedAnyOf(served)) {
            log.info("job {} attempt {}: its outcome was recorded by an earlier try whose answer was lost", claim.jobId(),
                    claim.attempt());
            return;
        }
        int deleted = images.discard();
        log.warn("job {} attempt {} (owner {}): fenced out, another run holds the job ({}); its outcome is discarded "
                + "and the {} image(s) it stored are deleted", claim.jobId(), claim.attempt(), store.leaseOwner(), how, deleted);
    }

    /**
     * A worker transition ({@code finish}, {@code retry}, {@code release}), tried again for as long as
     * the store fails: the work is done, and a full disk or a database that refuses writes comes back
     * when an operator acts. Retrying is safe: each transition is conditional on this run still
     * holding the job, so a retry after a commit whose answer was lost, or after the lease went to
     * another run, reports false and changes nothing. While this run waits it stays registered, so
     * its lease is renewed as soon as the store answers. Only a shutdown ends the wait.
     *
     * @throws StoreException when the process shuts down while the store still fails
     */
    private boolean recordRetrying(Claim claim, String what, java.util.function.BooleanSupplier transition) {
        long pauseMs = 100;
        long loggedAt = 0;
        int failures = 0;
        while (true) {
            try {
                boolean done = transition.getAsBoolean();
                if (failures > 0) {
                    log.info("job {} attempt {}: {} succeeded after {} failed tries", claim.jobId(), claim.attempt(), what, failures);
                }
                return done;
            } catch (StoreException e) {
                if (running.shuttingDown()) {
                    throw e;
                }
                failures++;
                long now = System.nanoTime();
                if (failures == 1 || now - loggedAt >= TimeUnit.MILLISECONDS.toNanos(RECORD_LOG_EVERY_MS)) {
                    log.warn("job {} attempt {}: {} failed ({} tries so far); retrying until the store accepts it: {}",
                            claim.jobId(), claim.attempt(), what, failures, e.toString());
                    loggedAt = now;
                }
                pauseUninterruptibly(pauseMs);
                pauseMs = Math.min(pauseMs * 2, RECORD_PAUSE_MAX_MS);
            }
        }
    }

    /**
     * Sleeps through interrupts and leaves none set: a stop meanwhile (its reason is kept in the run)
     * does not change an outcome already decided, and a pending interrupt would fail the next store call.
     */
    private static void pauseUninterruptibly(long millis) {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        for (long left = millis; left > 0; left = TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime())) {
            try {
                Thread.sleep(left);
            } catch (InterruptedException e) {
                // see above
            }
        }
    }

    /**
     * From here on no stop interrupts the worker (the store decides between the outcome and what
     * raced it); a stop that came just before is answered by the outcome about to be recorded.
     */
    private static void startRecording(RunningJobs.Run run) {
        run.recording();
        Thread.interrupted();
    }

    /** A run that ended by an exception: a stop, a provider failure, or a bug. */
    private void ended(RunningJobs.Run run, Exception e, long started, RunImages images) {
        Claim claim = run.claim();
        RunningJobs.StopReason stop = run.stopReason();
        Thread.interrupted(); // store calls below must not see the stop's interrupt
        if (stop != null) {
            switch (stop) {
                case CANCELLED -> record(run, new Outcome.Cancelled(elapsed(started)), images);
                case SHUTDOWN -> {
                    startRecording(run);
                    images.discard();
                    if (store.release(claim, clock.instant(), LogEntry.info(clock.instant(),
                            "Interrupted by a server shutdown; back in the queue."))) {
                        JobLines.requeued(claim, elapsed(started));
                    }
                }
                case LEASE_LOST -> {
                    startRecording(run);
                    lost(claim, images, "its lease was lost");
                }
            }
            return;
        }
        if (e instanceof ProviderException pe) {
            failedUpstream(run, pe, started, images);
            return;
        }
        log.error("job {} attempt {} failed unexpectedly", claim.jobId(), claim.attempt(), e);
        record(run, new Outcome.Failed(Failure.of(ErrorType.INTERNAL_ERROR,
                "The server failed while running this request; its log has the details (request id " + claim.jobId() + ")."),
                elapsed(started)), images);
    }

    private void failedUpstream(RunningJobs.Run run, ProviderException e, long started, RunImages images) {
        Claim claim = run.claim();
        String what = e.getMessage(); // the router names the provider
        if (e.retryable() && claim.attempt() < limits.maxAttempts()) {
            Duration delay = limits.backoff().delayAfter(claim.attempt(), e.retryAfter());
            Instant runAfter = clock.instant().plus(delay);
            startRecording(run);
            images.discard();
            LogEntry line = LogEntry.warn(clock.instant(), what + "; retrying in " + seconds(delay)
                    + " (attempt " + claim.attempt() + " of " + limits.maxAttempts() + ").");
            if (recordRetrying(claim, "recording its retry", () -> store.retry(claim, runAfter, line))) {
                JobLines.retried(claim, e.type(), elapsed(started), delay);
            }
            return;
        }
        String message = e.retryable() ? what + " (gave up after " + claim.attempt() + " attempts)" : what;
        record(run, new Outcome.Failed(Failure.of(e.type(), message), elapsed(started)), images);
    }

    /** A provider's view of its job: log lines, the upstream reference (through the store), why it was stopped. */
    private final class JobContext implements CallContext {
        private final RunningJobs.Run run;
        private final Claim claim;
        private String upstream;

        JobContext(RunningJobs.Run run) {
            this.run = run;
            this.claim = run.claim();
            this.upstream = claim.upstream();
        }

        /** Only a client's cancel ends the upstream request; a shutdown or a lost lease leaves it to be resumed. */
        @Override
        public boolean cancelled() {
            return run.stopReason() == RunningJobs.StopReason.CANCELLED;
        }

        @Override
        public void info(String message) {
            store.log(claim, LogEntry.info(clock.instant(), message));
        }

        @Override
        public void warn(String message) {
            store.log(claim, LogEntry.warn(clock.instant(), message));
        }

        @Override
        public java.util.Optional<String> upstream() {
            return java.util.Optional.ofNullable(upstream);
        }

        @Override
        public void saveUpstream(String reference) {
            if (!store.saveUpstream(claim, reference)) {
                throw ProviderException.retryable(ErrorType.INTERNAL_ERROR, "the job's lease was lost", null, null);
            }
            upstream = reference;
        }
    }

    private static long elapsed(long startedNanos) {
        return Duration.ofNanos(System.nanoTime() - startedNanos).toMillis();
    }

    private static String seconds(Duration d) {
        return String.format(java.util.Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }
}
