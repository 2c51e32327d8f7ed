package io.genqueue.provider;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Delays between attempts: exponential with full jitter (a uniform draw between zero and
 * {@code base * 2^(attempt-1)}, capped at {@code max}), never shorter than a delay the provider
 * asked for. Full jitter spreads the retries of many jobs that failed together.
 */
public record Backoff(Duration base, Duration max) {

    public Backoff {
        if (base.isNegative() || max.compareTo(base) < 0) {
            throw new IllegalArgumentException("need 0 <= base <= max: " + base + ", " + max);
        }
    }

    /** The delay after the {@code attempt}-th attempt failed (attempt counts from 1). */
    public Duration delayAfter(int attempt, Optional<Duration> requested) {
        long ceiling = max.toMillis();
        long exponential = base.toMillis() << Math.min(Math.max(attempt - 1, 0), 30);
        long bound = Math.min(ceiling, exponential < 0 ? ceiling : exponential);
        long jittered = bound == 0 ? 0 : ThreadLocalRandom.current().nextLong(bound + 1);
        long asked = requested.map(Duration::toMillis).orElse(0L);
        return Duration.ofMillis(Math.max(jittered, Math.min(asked, ceiling)));
    }
}
