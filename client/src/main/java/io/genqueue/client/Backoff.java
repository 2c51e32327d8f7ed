package io.genqueue.client;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Delays between attempts: exponential with full jitter (a uniform draw between zero and
 * {@code base * 2^(attempt-1)}, capped at {@code max}), never shorter than a delay the server
 * asked for with {@code Retry-After}. Full jitter spreads the retries of many clients that failed
 * together. (The server has the same rule in {@code provider.Backoff}; this module may not use
 * the server's code.)
 */
record Backoff(Duration base, Duration max) {

    Backoff {
        if (base.isNegative() || max.compareTo(base) < 0) {
            throw new IllegalArgumentException("need 0 <= base <= max: " + base + ", " + max);
        }
    }

    /** The delay after the {@code attempt}-th attempt failed (attempt counts from 1); {@code asked} may be null. */
    Duration delayAfter(int attempt, Duration asked) {
        long ceiling = max.toMillis();
        long exponential = base.toMillis() << Math.min(Math.max(attempt - 1, 0), 30);
        long bound = Math.min(ceiling, exponential < 0 ? ceiling : exponential);
        long jittered = bound == 0 ? 0 : ThreadLocalRandom.current().nextLong(bound + 1);
        return Duration.ofMillis(Math.max(jittered, asked == null ? 0 : asked.toMillis()));
    }
}
