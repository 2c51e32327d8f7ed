package io.genqueue.fetch;

import java.time.Duration;

/**
 * A point in time (monotonic, from {@link System#nanoTime()}) by which a whole fetch must end,
 * shared by every step of it: resolving, connecting, TLS, each read, each redirect.
 */
final class Deadline {

    private final long deadlineNanos;

    private Deadline(long deadlineNanos) {
        this.deadlineNanos = deadlineNanos;
    }

    static Deadline after(Duration timeout) {
        return new Deadline(System.nanoTime() + timeout.toNanos());
    }

    boolean expired() {
        return remainingNanos() <= 0;
    }

    long remainingNanos() {
        return deadlineNanos - System.nanoTime();
    }

    /**
     * The time left in milliseconds, at least 1 and at most {@code cap}, for use as a socket
     * timeout (where 0 would mean "forever"). Callers check {@link #expired()} first.
     */
    int remainingMillis(int cap) {
        long millis = Math.ceilDiv(remainingNanos(), 1_000_000L);
        return (int) Math.max(1, Math.min(cap, millis));
    }
}
