package io.genqueue.testing;

import java.time.Duration;
import java.util.function.Predicate;

/**
 * Waits for an asynchronous effect (a notification, a cache expiry, a job finishing, a process
 * listening) by looking at it again and again, failing the test if it has not happened within the
 * bound. The bound is a deadline for a hang, not a speed measurement: it is set far above how
 * long the effect takes, and a test never asserts on how long a wait took.
 *
 * <p>The first look is at once; the pauses between looks grow from 1 ms to 20 ms, so that a short
 * wait stays short and a long one does not load what it polls (a real server, a database). A look
 * that throws ends the wait with that exception: a look that expects failures while something
 * starts (connection refused) catches them itself. An interrupt ends the wait with an
 * {@link IllegalStateException}, the interrupt flag set again.
 */
public final class Eventually {

    private static final long FIRST_PAUSE_NANOS = Duration.ofMillis(1).toNanos();
    private static final long LONGEST_PAUSE_NANOS = Duration.ofMillis(20).toNanos();

    private Eventually() {
    }

    /** One look at the state being waited for. */
    @FunctionalInterface
    public interface Look<T, E extends Exception> {
        T look() throws E;
    }

    /**
     * Looks until {@code condition} holds; fails with {@code what} (what was awaited, e.g. "the
     * server listens") if it does not hold within {@code atMost}.
     */
    public static <E extends Exception> void until(Duration atMost, String what, Look<Boolean, E> condition) throws E {
        value(atMost, what, condition, Boolean.TRUE::equals);
    }

    /**
     * Looks until a look's answer is {@code accepted} and returns that answer; fails with
     * {@code what} and the last answer seen if none is accepted within {@code atMost}.
     */
    public static <T, E extends Exception> T value(Duration atMost, String what, Look<? extends T, E> look,
            Predicate<? super T> accepted) throws E {
        long deadline = System.nanoTime() + atMost.toNanos();
        long pause = FIRST_PAUSE_NANOS;
        while (true) {
            T seen = look.look();
            if (accepted.test(seen)) {
                return seen;
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new AssertionError("expected " + what + " within " + atMost
                        + (seen instanceof Boolean ? "" : "; last seen: " + seen));
            }
            try {
                Thread.sleep(Duration.ofNanos(pause));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for " + what, e);
            }
            pause = Math.min(LONGEST_PAUSE_NANOS, pause * 2);
        }
    }
}
