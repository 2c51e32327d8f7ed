package io.genqueue.webhook;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * When a failed delivery is tried again: exponential backoff with full jitter. The n-th retry
 * waits a random time up to {@code first × 2^(n-1)}, so receivers that failed together are not hit
 * together again; with the defaults (15 s, 10 tries) the last try comes at most 2 h 8 min after
 * the first.
 *
 * @param first the bound of the first retry's wait
 * @param tries attempts in all, the first included; after the last the delivery is given up
 */
public record Retries(Duration first, int tries) {

    public Retries {
        if (first.isNegative() || first.isZero()) {
            throw new IllegalArgumentException("the first retry must wait a positive time: " + first);
        }
        if (tries < 1) {
            throw new IllegalArgumentException("a webhook needs at least one try: " + tries);
        }
    }

    /** Whether another try follows a failure, given how many tries have failed with this one. */
    public boolean another(int failedWithThis) {
        return failedWithThis < tries;
    }

    /** The wait before the try after {@code failedWithThis} failures (1 for the first retry). */
    public Duration delay(int failedWithThis, RandomGenerator random) {
        long bound = first.toMillis() << Math.min(failedWithThis - 1, 30);
        return Duration.ofMillis(1 + random.nextLong(Math.max(1, bound)));
    }
}
