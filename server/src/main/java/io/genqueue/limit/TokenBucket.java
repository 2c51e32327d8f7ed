package io.genqueue.limit;

/**
 * One key's bucket: {@code tokens} as of {@code at} (epoch milliseconds). Not thread-safe: its
 * owner takes its monitor. The rate and size are passed at each take, so a changed limit applies
 * from the next request on.
 */
final class TokenBucket {

    private double tokens;
    private long at;

    /** A full bucket as of {@code now}. */
    TokenBucket(int burst, long now) {
        this.tokens = burst;
        this.at = now;
    }

    /**
     * Refills for the time since the last take (never beyond {@code burst}), then takes one token.
     * Returns 0 when taken, else the milliseconds until one will be there (nothing is taken).
     */
    long take(double rate, int burst, long now) {
        tokens = Math.min(burst, tokens + Math.max(0, now - at) * rate / 1000.0);
        at = Math.max(at, now);
        if (tokens >= 1) {
            tokens -= 1;
            return 0;
        }
        return Math.max(1, (long) Math.ceil((1 - tokens) * 1000.0 / rate));
    }
}
