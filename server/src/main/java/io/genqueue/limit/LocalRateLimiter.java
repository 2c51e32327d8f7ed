package io.genqueue.limit;

import io.genqueue.auth.ApiKey;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The buckets in this process's memory, for a store that one process owns (SQLite): exact, and a
 * restart starts every key with a full bucket. One bucket per key that has a rate; taking a token
 * holds only that bucket's monitor.
 */
public final class LocalRateLimiter implements RateLimiter {

    private final Clock clock;
    private final ConcurrentHashMap<String, TokenBucket> buckets = new ConcurrentHashMap<>();

    public LocalRateLimiter(Clock clock) {
        this.clock = clock;
    }

    @Override
    public Optional<Duration> acquire(ApiKey key) {
        double rate = key.limits().rate();
        if (rate <= 0) {
            return Optional.empty();
        }
        int burst = key.limits().burst();
        long now = clock.millis();
        TokenBucket bucket = buckets.computeIfAbsent(key.keyId(), id -> new TokenBucket(burst, now));
        long wait;
        synchronized (bucket) {
            wait = bucket.take(rate, burst, now);
        }
        return wait == 0 ? Optional.empty() : Optional.of(Duration.ofMillis(wait));
    }
}
