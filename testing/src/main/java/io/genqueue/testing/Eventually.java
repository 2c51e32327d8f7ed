package io.genqueue.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * Waits for an asynchronous effect (a notification, a cache expiry) by checking it again and
 * again, failing the test if it has not happened within the bound. The bound is a deadline for a
 * hang, not a speed measurement.
 */
public final class Eventually {

    private Eventually() {
    }

    public static void until(Duration atMost, String what, Callable<Boolean> condition) throws Exception {
        long deadline = System.nanoTime() + atMost.toNanos();
        while (!condition.call()) {
            assertThat(System.nanoTime() - deadline).as("%s within %s", what, atMost).isNegative();
            Thread.sleep(5);
        }
    }
}
