package io.genqueue.queue;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Fans a store's change events out to whoever watches a job (status streams). A watcher learns
 * that something changed, then reads the job itself: events carry no state, so a coalesced or
 * missed-while-reading event can never leave a watcher with a stale view.
 */
public final class JobEvents implements JobListener {

    private final Map<String, Set<Watch>> watches = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /** Starts watching a job; close the watch when done. */
    public Watch watch(String jobId) {
        Watch watch = new Watch(jobId);
        watches.computeIfAbsent(jobId, id -> ConcurrentHashMap.newKeySet()).add(watch);
        return watch;
    }

    @Override
    public void jobChanged(String jobId) {
        wake(jobId);
    }

    @Override
    public void cancelRequested(String jobId) {
        wake(jobId);
    }

    private void wake(String jobId) {
        Set<Watch> set = watches.get(jobId);
        if (set != null) {
            set.forEach(w -> w.signal.wake());
        }
    }

    /** Ends every watch: the server is shutting down. */
    public void closeAll() {
        closed = true;
        watches.values().forEach(set -> set.forEach(w -> w.signal.wake()));
    }

    /** Whether {@link #closeAll} was called: watchers should end. */
    public boolean closed() {
        return closed;
    }

    /** Number of open watches (for tests and metrics). */
    public int open() {
        return watches.values().stream().mapToInt(Set::size).sum();
    }

    /** One watcher of one job. */
    public final class Watch implements AutoCloseable {
        private final String jobId;
        private final WakeSignal signal = new WakeSignal();

        private Watch(String jobId) {
            this.jobId = jobId;
        }

        /** Waits for a change of the job, at most {@code timeout}. True when something changed. */
        public boolean await(Duration timeout) throws InterruptedException {
            return signal.await(timeout);
        }

        @Override
        public void close() {
            watches.computeIfPresent(jobId, (id, set) -> {
                set.remove(this);
                return set.isEmpty() ? null : set;
            });
        }
    }
}
