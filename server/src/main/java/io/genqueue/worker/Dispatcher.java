package io.genqueue.worker;

import io.genqueue.queue.Claim;
import io.genqueue.queue.JobListener;
import io.genqueue.queue.JobStore;
import io.genqueue.queue.WakeSignal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands queued jobs to worker slots. One thread claims jobs in batches (as many as there are free
 * slots) and starts a virtual thread per job; it sleeps on a {@link WakeSignal} that the store's
 * commits (a submit, a requeue) and finishing workers raise, so an idle queue starts a new job at
 * once, without polling. When a job waits out a retry delay, the sleep ends when it is due; a long
 * fallback timeout guards against a missed signal.
 *
 * <p>Slots are shared between models with a cap per model ({@link io.genqueue.catalog.Model#slotCap}):
 * each pass claims model by model, each up to the smaller of the free slots and its own free cap, and
 * starts from the next model each pass; so a model whose provider stalls holds at most its cap, and
 * the other models' jobs keep running in the rest.
 *
 * <p>Nor does it claim while the disk is nearly full ({@code GENQUEUE_MIN_FREE_DISK}): a job started
 * then could not store its images; claiming resumes when the watermark's sampler says space is back
 * (it wakes this thread).
 *
 * <p>While a model's providers can take no call at all (every circuit open), none of its jobs is
 * claimed: they wait in the queue, not in slots, and no attempt is spent on a provider known to be down.
 *
 * <p>Ownership: the dispatcher thread alone claims; {@code free} counts free slots and each model's
 * {@code Lane.free} its free cap (a worker takes a permit of both before it starts and returns them when
 * it ends), so at most {@code slots} jobs run at once, and at most its cap of each model.
 */
final class Dispatcher implements JobListener, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);
    private static final Duration FALLBACK_POLL = Duration.ofSeconds(5);
    private static final Duration STORE_ERROR_PAUSE = Duration.ofSeconds(1);

    private final JobStore store;
    private final JobRunner runner;
    private final RunningJobs running;
    private final Clock clock;
    private final int slots;
    private final Duration lease;
    private final Semaphore free;
    private final List<Lane> lanes;
    private int nextLane; // dispatcher thread only
    private final BooleanSupplier diskLow;
    private final WakeSignal signal = new WakeSignal();
    private final Thread thread;
    private volatile boolean stopping;

    /** One model's share: its id, its cap of slots, and how long until its providers can take a call (zero when now). */
    private record Lane(String model, int cap, Semaphore free, Supplier<Duration> downFor) {
    }

    /**
     * @param models the models to claim jobs of, each with its cap of the slots and its router
     * @param diskLow whether free disk space is below the watermark now (a volatile read)
     */
    Dispatcher(JobStore store, JobRunner runner, RunningJobs running, Clock clock, int slots, Duration lease,
            List<ModelWork> models, BooleanSupplier diskLow) {
        if (slots < 1) {
            throw new IllegalArgumentException("slots < 1: " + slots);
        }
        this.store = store;
        this.runner = runner;
        this.running = running;
        this.clock = clock;
        this.slots = slots;
        this.lease = lease;
        this.free = new Semaphore(slots);
        if (models.isEmpty()) {
            throw new IllegalArgumentException("no model to run");
        }
        this.lanes = models.stream().map(m -> {
            int cap = Math.min(m.model().slotCap(slots), m.providers().capacity());
            return new Lane(m.model().id(), cap, new Semaphore(cap), (Supplier<Duration>) m.providers()::downFor);
        }).toList();
        this.diskLow = diskLow;
        this.thread = Thread.ofPlatform().name("genqueue-dispatcher").daemon().unstarted(this::loop);
        store.addListener(this);
    }

    public int slots() {
        return slots;
    }

    /** Each model's cap of slots, by id. */
    java.util.Map<String, Integer> caps() {
        return lanes.stream().collect(java.util.stream.Collectors.toUnmodifiableMap(Lane::model, Lane::cap));
    }

    public void start() {
        thread.start();
    }

    @Override
    public void jobsAvailable() {
        signal.wake();
    }

    private void loop() {
        while (!stopping) {
            try {
                if (free.availablePermits() == 0) {
                    signal.await();
                    continue;
                }
                if (diskLow.getAsBoolean()) {
                    signal.await(FALLBACK_POLL); // the watermark's change wakes it
                    continue;
                }
                Duration down = null; // the soonest a model with room can take a call again, when none can now
                int claimed = 0;
                for (int i = 0; i < lanes.size(); i++) {
                    Lane lane = lanes.get((nextLane + i) % lanes.size());
                    int room = Math.min(free.availablePermits(), lane.free().availablePermits());
                    if (room == 0) {
                        continue;
                    }
                    Duration d = lane.downFor().get();
                    if (d.isPositive()) {
                        down = down == null || d.compareTo(down) < 0 ? d : down;
                        continue;
                    }
                    for (Claim claim : store.claim(room, lease, lane.model())) {
                        free.acquireUninterruptibly();
                        lane.free().acquireUninterruptibly();
                        claimed++;
                        Thread.ofVirtual().name("job-" + claim.jobId()).start(() -> work(claim, lane));
                    }
                }
                nextLane = (nextLane + 1) % lanes.size();
                if (claimed == 0) {
                    Duration due = untilNextDue();
                    signal.await(down != null && down.compareTo(due) < 0 ? down : due);
                }
            } catch (InterruptedException e) {
                // close() interrupts to end the loop; the flag is re-checked above
            } catch (RuntimeException e) {
                log.error("claiming jobs failed; retrying in {} s: {}", STORE_ERROR_PAUSE.toSeconds(), e.toString());
                pause();
            }
        }
    }

    private void work(Claim claim, Lane lane) {
        try {
            runner.run(claim);
        } finally {
            lane.free().release();
            free.release();
            signal.wake();
        }
    }

    private Duration untilNextDue() {
        Optional<Instant> next = store.nextDelayedRun();
        if (next.isEmpty()) {
            return FALLBACK_POLL;
        }
        Duration wait = Duration.between(clock.instant(), next.get());
        return wait.isNegative() ? Duration.ZERO : wait.compareTo(FALLBACK_POLL) > 0 ? FALLBACK_POLL : wait;
    }

    private void pause() {
        try {
            signal.await(STORE_ERROR_PAUSE);
        } catch (InterruptedException ignored) {
            // stopping
        }
    }

    /** Stops claiming. Running jobs go on; see {@link #awaitIdle}. */
    public void stopClaiming() {
        stopping = true;
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits until no job runs, or until {@code timeout}; true when none runs. */
    public boolean awaitIdle(Duration timeout) throws InterruptedException {
        if (free.tryAcquire(slots, timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            free.release(slots);
            return true;
        }
        return false;
    }

    /**
     * Graceful stop: no new claims; running jobs get {@code grace} to finish; the rest are
     * interrupted and put back in the queue (their attempt not counted).
     */
    public void shutdown(Duration grace) {
        stopClaiming();
        try {
            if (!awaitIdle(grace)) {
                log.info("{} job(s) still running after {} s; putting them back in the queue", running.size(), grace.toSeconds());
                running.stopAll(RunningJobs.StopReason.SHUTDOWN);
                if (!awaitIdle(Duration.ofSeconds(10))) {
                    log.warn("{} job(s) did not stop; the next start requeues them", running.size());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stopClaiming();
    }
}
