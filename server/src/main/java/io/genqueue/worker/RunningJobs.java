package io.genqueue.worker;

import io.genqueue.queue.Claim;
import io.genqueue.queue.JobListener;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The jobs this process is running, and the way to stop one: the registry that turns a cancel, a
 * lost lease or a shutdown into an interrupt of the right worker thread.
 *
 * <p>Ownership: a worker thread {@link #register}s its claim before it does any work and
 * {@link #unregister}s in a finally block; any thread may {@link #stop} a job. A stop can arrive
 * before the worker registered (the cancel committed right behind the claim): it is remembered for
 * a minute and applied at registration, so no cancel is lost to that race.
 */
public final class RunningJobs implements JobListener {

    /** Why a worker was stopped; the worker decides what to record from this. */
    public enum StopReason { CANCELLED, LEASE_LOST, SHUTDOWN }

    private static final long EARLY_STOP_MEMORY_MS = 60_000;

    /**
     * A registered run. {@code reason} is set once, before the interrupt. Once the worker starts
     * recording how the run ended ({@link #recording}), stops are ignored: the store decides
     * between the outcome and whatever raced it, and an interrupt then could only break the
     * worker's database call halfway (a socket closed by the interrupt) and hide a committed outcome.
     */
    public static final class Run {
        private final Claim claim;
        private final Thread thread;
        private volatile StopReason reason;
        private boolean recording; // guarded by this

        private Run(Claim claim, Thread thread) {
            this.claim = claim;
            this.thread = thread;
        }

        public Claim claim() {
            return claim;
        }

        /** Why the run was stopped, or null while nobody stopped it. */
        public StopReason stopReason() {
            return reason;
        }

        /** The worker is recording the outcome: no interrupt may reach it from now on. */
        public synchronized void recording() {
            recording = true;
        }

        private synchronized void stop(StopReason why) {
            if (reason == null && !recording) {
                reason = why;
                thread.interrupt();
            }
        }
    }

    private record EarlyStop(StopReason reason, long at) {
    }

    private final Map<String, Run> runs = new ConcurrentHashMap<>();
    private final Map<String, EarlyStop> early = new ConcurrentHashMap<>();
    private final Clock clock;
    private volatile boolean shuttingDown;

    public RunningJobs(Clock clock) {
        this.clock = clock;
    }

    /** Registers the calling thread as the worker of {@code claim}. */
    public Run register(Claim claim) {
        Run run = new Run(claim, Thread.currentThread());
        runs.put(claim.jobId(), run);
        EarlyStop stop = early.remove(claim.jobId());
        if (stop != null) {
            run.stop(stop.reason());
        }
        return run;
    }

    public void unregister(Run run) {
        runs.remove(run.claim().jobId(), run);
    }

    /** Stops the job's worker if it runs here; otherwise remembers the stop for a short while. */
    public void stop(String jobId, StopReason why) {
        Run run = runs.get(jobId);
        if (run != null) {
            run.stop(why);
            return;
        }
        if (why == StopReason.CANCELLED) {
            long now = clock.millis();
            early.put(jobId, new EarlyStop(why, now));
            pruneEarly(now);
        }
    }

    /** The store's cancel event: stop the job's worker. */
    @Override
    public void cancelRequested(String jobId) {
        stop(jobId, StopReason.CANCELLED);
    }

    /** Stops every run; with {@link StopReason#SHUTDOWN}, also ends the waits of runs recording their outcome. */
    public void stopAll(StopReason why) {
        if (why == StopReason.SHUTDOWN) {
            shuttingDown = true;
        }
        runs.values().forEach(run -> run.stop(why));
    }

    /**
     * Whether the process is shutting down and its grace period is over: a run that waits for the
     * store to accept its outcome gives up then (the next start runs the job again).
     */
    public boolean shuttingDown() {
        return shuttingDown;
    }

    public List<Claim> claims() {
        List<Claim> claims = new ArrayList<>(runs.size());
        runs.values().forEach(run -> claims.add(run.claim()));
        return claims;
    }

    public int size() {
        return runs.size();
    }

    private void pruneEarly(long now) {
        for (Iterator<EarlyStop> it = early.values().iterator(); it.hasNext(); ) {
            if (now - it.next().at() > EARLY_STOP_MEMORY_MS) {
                it.remove();
            }
        }
    }
}
