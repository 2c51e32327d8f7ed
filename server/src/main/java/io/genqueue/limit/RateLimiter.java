package io.genqueue.limit;

import io.genqueue.auth.ApiKey;
import java.time.Duration;
import java.util.Optional;

/**
 * The token bucket of each key with a rate ({@code KeyLimits.rate}, {@code burst}): a request takes
 * a token; tokens come back at the rate, up to the burst. Two implementations: {@link LocalRateLimiter}
 * (in memory: one process owns a SQLite store) and the PostgreSQL store's bucket rows, which every
 * process of a deployment shares.
 */
public interface RateLimiter {

    /**
     * Takes a token from the key's bucket. Empty when one was taken; else how long until the next
     * token is there (the request is refused, and takes nothing). A key without a rate is never
     * limited, and costs nothing.
     */
    Optional<Duration> acquire(ApiKey key);

    /** Whole seconds for {@code Retry-After}: the wait rounded up, at least 1. */
    static long retryAfterSeconds(Duration wait) {
        long millis = Math.max(0, wait.toMillis());
        return Math.max(1, (millis + 999) / 1000);
    }
}
