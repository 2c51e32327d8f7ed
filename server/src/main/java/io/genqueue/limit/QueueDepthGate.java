package io.genqueue.limit;

import java.time.Clock;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * {@code GENQUEUE_MAX_QUEUED}: backpressure for the whole service. A submit is turned away while
 * the queue (jobs waiting to start, of every tenant and model) holds {@code max} or more. The
 * depth is read at most once per {@code refresh} (free on SQLite, a count on PostgreSQL), so the
 * bound is soft by what arrives within one refresh: it keeps the disk from filling, it is not a
 * quota.
 */
public final class QueueDepthGate {

    private final LongSupplier depth;
    private final long max;
    private final long refreshMillis;
    private final Clock clock;
    private volatile boolean read;
    private volatile long readAt;
    private volatile long lastDepth;

    /** @param max 0 for no limit: then nothing is read and every submit passes */
    public QueueDepthGate(LongSupplier depth, long max, Duration refresh, Clock clock) {
        this.depth = depth;
        this.max = max;
        this.refreshMillis = refresh.toMillis();
        this.clock = clock;
    }

    /** Whether a submit may be stored now. */
    public boolean admits() {
        if (max <= 0) {
            return true;
        }
        long now = clock.millis();
        if (!read || refreshMillis <= 0 || now - readAt >= refreshMillis || now < readAt) {
            lastDepth = depth.getAsLong(); // racing readers may both read: harmless
            readAt = now;
            read = true;
        }
        return lastDepth < max;
    }

    public long max() {
        return max;
    }
}
