package io.genqueue.metrics;

import java.time.Duration;

/**
 * The histogram buckets of the timers: a few fixed bounds each, so that every series costs a dozen
 * buckets instead of Micrometer's seventy-odd percentile buckets.
 */
final class Buckets {

    /** Queue waits and runs: a model call takes seconds, a queue can wait minutes. */
    static final Duration[] JOB = seconds(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900);

    /** HTTP requests: milliseconds, except status streams and long polls. */
    static final Duration[] HTTP = seconds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30);

    private Buckets() {
    }

    private static Duration[] seconds(double... bounds) {
        Duration[] out = new Duration[bounds.length];
        for (int i = 0; i < bounds.length; i++) {
            out[i] = Duration.ofNanos(Math.round(bounds[i] * 1e9));
        }
        return out;
    }
}
