package io.genqueue.fetch;

import java.io.IOException;
import java.time.Duration;

/**
 * A point in time (monotonic, from {@link System#nanoTime()}) by which a whole exchange must end,
 * shared by every step of it: resolving, connecting, TLS, each write and read, each redirect.
 */
final class Deadline {

    /** A step found its deadline passed; callers translate it into "took longer than ...". */
    static final class ExceededException extends IOException {
        ExceededException() {
            super("deadline exceeded");
        }
    }

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

    void throwIfExpired() throws ExceededException {
        if (expired()) {
            throw new ExceededException();
        }
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
