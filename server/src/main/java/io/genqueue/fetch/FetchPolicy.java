package io.genqueue.fetch;

import java.time.Duration;
import java.util.Objects;
import java.util.Set;

/**
 * Limits for fetching reference images.
 *
 * @param timeout total time for one image, redirects included
 * @param maxBytes the most bytes one image may have (7 MiB by default)
 * @param maxRedirects the most redirects followed for one image
 * @param maxPixels the most pixels (width x height) one image may have
 * @param allow {@code host:port} entries (lower case) exempt from the address checks, for tests
 *     and private deployments; matched against the URL's host and port as written and against
 *     each resolved address and port
 */
public record FetchPolicy(Duration timeout, long maxBytes, int maxRedirects, long maxPixels, Set<String> allow) {

    /** Images are held in one byte array, so the byte limit must stay well below 2 GiB. */
    static final long MAX_BYTES_LIMIT = 1L << 30;

    /** @throws IllegalArgumentException when a limit is not positive (redirects: negative) */
    public FetchPolicy {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive: " + timeout);
        }
        if (maxBytes < 1 || maxBytes > MAX_BYTES_LIMIT) {
            throw new IllegalArgumentException("maxBytes must be between 1 and " + MAX_BYTES_LIMIT + ": " + maxBytes);
        }
        if (maxRedirects < 0) {
            throw new IllegalArgumentException("maxRedirects must not be negative: " + maxRedirects);
        }
        if (maxPixels < 1) {
            throw new IllegalArgumentException("maxPixels must be positive: " + maxPixels);
        }
        allow = Set.copyOf(allow);
    }
}
