package io.genqueue.webhook;

import io.genqueue.provider.Backoff;
import java.time.Duration;
import java.util.Optional;

/**
 * When a failed delivery is tried again: the project's {@link Backoff} (exponential, full jitter),
 * starting at {@code first} and never capped below the last try's bound, so the n-th retry waits a
 * random time up to {@code first × 2^(n-1)} and receivers that failed together are not hit together
 * again. With the defaults (15 s, 10 tries) the last try comes at most 2 h 8 min after the first.
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
    public Duration delay(int failedWithThis) {
        Duration last = first.multipliedBy(1L << Math.min(Math.max(tries - 2, 0), 30));
        return new Backoff(first, last).delayAfter(failedWithThis, Optional.empty());
    }
}
