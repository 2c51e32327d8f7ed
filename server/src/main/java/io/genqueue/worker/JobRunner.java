package io.genqueue.worker;

import io.genqueue.blob.BlobStore;
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
 */
final class JobRunner {

    private static final Logger log = LoggerFactory.getLogger(JobRunner.class);
    /** How long recording a finished run's outcome is retried while the store fails. */
    private static final Duration RECORD_RETRY_FOR = Duration.ofSeconds(15);

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
    }

    /** Runs the job on the calling thread; never throws. */
    public void run(Claim claim) {
        RunningJobs.Run run = running.register(claim);
        long started = System.nanoTime();
        meters.pickedUp(Duration.between(claim.dueAt(), claim.claimedAt()));
        JobLines.started(claim);
        try {
            store.log(claim, LogEntry.info(clock.instant(), "Attempt " + claim.attempt() + " started."));
            Outcome outcome = attempt(run, started);
            record(run, outcome);
        } catch (InterruptedException | RuntimeException e) {
            if (e instanceof StoreException && run.stopReason() == null) {
                // The store is unreachable (a database restart, a network cut): not the job's fault,
                // so not its failure. The job keeps its lease only while registered here, so once this
                // run ends the reaper requeues it, and the next run stores its images under the same
                // keys. (After a stop, a store call may have failed by the stop's interrupt: the stop
                // decides, below.)
                log.error("job {} attempt {}: the store failed; the job goes back to the queue when its lease runs out: {}",
                        claim.jobId(), claim.attempt(), e.toString());
                return;
            }
            try {
                ended(run, e, started);
            } catch (RuntimeException storeDown) {
                // The outcome could not be recorded (the store failed). The job keeps its lease
                // only while registered here, so once this run ends the reaper requeues it.
                log.error("job {} attempt {}: could not record how the run ended: {}", claim.jobId(), claim.attempt(),
                        storeDown.toString());
            }
        } finally {
            running.unregister(run);
            meters.ran(System.nanoTime() - started);
        }
    }

    private Outcome attempt(RunningJobs.Run run, long started) throws InterruptedException {
        Claim claim = run.claim();
        GenerationInput input = claim.input();
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
        List<StoredImage> stored = new ArrayList<>();
        for (int i = 0; i < result.images().size(); i++) {
            stored.add(store(claim.jobId(), i, result.images().get(i), by(result)));
        }
        return new Outcome.Succeeded(new JobResult(stored, input.includeText() ? result.description() : ""), by(result),
                elapsed(started));
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

    /** Stores one image under a key that a rerun of the job reuses, so a rerun never duplicates. */
    private StoredImage store(String jobId, int index, ImageData image, String by) {
        ImageInfo info;
        try {
            info = ImageProbe.probe(image.bytes(), Long.MAX_VALUE);
        } catch (ImageRejectedException e) {
            throw ProviderException.fatal(ErrorType.PROVIDER_ERROR, by + ": returned an image that does not decode: "
                    + e.getMessage());
        }
        String ext = info.format().extension();
        String key = jobId + "/" + index + "." + ext;
        blobs.put(key, image.bytes(), info.contentType());
        return new StoredImage(key, info.contentType(), jobId + "-" + index + "." + ext, image.bytes().length, info.width(), info.height());
    }

    private void record(RunningJobs.Run run, Outcome outcome) {
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
        if (finishRetrying(claim, outcome, line)) {
            switch (outcome) {
                case Outcome.Succeeded s -> meters.succeeded(claim.model(), claim.tenant());
                case Outcome.Failed f -> meters.failed(claim.model(), claim.tenant(), f.failure().type());
                case Outcome.Cancelled c -> meters.cancelled(claim.model(), claim.tenant());
            }
            JobLines.finished(claim, outcome);
        } else {
            log.info("job {} attempt {}: the lease was lost before the outcome was recorded; another run owns it", claim.jobId(),
                    claim.attempt());
        }
    }

    /**
     * {@link JobStore#finish}, tried again while the store fails, for up to {@link #RECORD_RETRY_FOR}:
     * the work is done, and a database that restarts is back within seconds. Retrying is safe: the
     * finish is conditional on this run still holding the job, so a retry after a commit whose answer
     * was lost, or after the lease went to another run, reports false and changes nothing. While
     * this run waits it stays registered, so its lease is renewed as soon as the store answers.
     *
     * @throws StoreException when the store still fails at the end
     */
    private boolean finishRetrying(Claim claim, Outcome outcome, LogEntry line) {
        long deadline = System.nanoTime() + RECORD_RETRY_FOR.toNanos();
        long pauseMs = 100;
        while (true) {
            try {
                return store.finish(claim, outcome, line);
            } catch (StoreException e) {
                if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(pauseMs) - deadline > 0) {
                    throw e;
                }
                log.warn("job {} attempt {}: recording its outcome failed; retrying in {} ms: {}", claim.jobId(), claim.attempt(),
                        pauseMs, e.toString());
                pauseUninterruptibly(pauseMs);
                pauseMs = Math.min(pauseMs * 2, 2_000);
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
    private void ended(RunningJobs.Run run, Exception e, long started) {
        Claim claim = run.claim();
        RunningJobs.StopReason stop = run.stopReason();
        Thread.interrupted(); // store calls below must not see the stop's interrupt
        if (stop != null) {
            switch (stop) {
                case CANCELLED -> record(run, new Outcome.Cancelled(elapsed(started)));
                case SHUTDOWN -> {
                    startRecording(run);
                    if (store.release(claim)) {
                        JobLines.requeued(claim, elapsed(started));
                    }
                }
                case LEASE_LOST -> log.warn("job {} attempt {}: lease lost, run abandoned", claim.jobId(), claim.attempt());
            }
            return;
        }
        if (e instanceof ProviderException pe) {
            failedUpstream(run, pe, started);
            return;
        }
        log.error("job {} attempt {} failed unexpectedly", claim.jobId(), claim.attempt(), e);
        record(run, new Outcome.Failed(Failure.of(ErrorType.INTERNAL_ERROR,
                "The server failed while running this request; its log has the details (request id " + claim.jobId() + ")."),
                elapsed(started)));
    }

    private void failedUpstream(RunningJobs.Run run, ProviderException e, long started) {
        Claim claim = run.claim();
        String what = e.getMessage(); // the router names the provider
        if (e.retryable() && claim.attempt() < limits.maxAttempts()) {
            Duration delay = limits.backoff().delayAfter(claim.attempt(), e.retryAfter());
            Instant runAfter = clock.instant().plus(delay);
            startRecording(run);
            if (store.retry(claim, runAfter, LogEntry.warn(clock.instant(), what + "; retrying in " + seconds(delay)
                    + " (attempt " + claim.attempt() + " of " + limits.maxAttempts() + ")."))) {
                JobLines.retried(claim, e.type(), elapsed(started), delay);
            }
            return;
        }
        String message = e.retryable() ? what + " (gave up after " + claim.attempt() + " attempts)" : what;
        record(run, new Outcome.Failed(Failure.of(e.type(), message), elapsed(started)));
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
