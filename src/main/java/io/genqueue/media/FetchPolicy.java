package io.genqueue.media;

import java.time.Duration;
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

    public FetchPolicy {
        allow = Set.copyOf(allow);
    }
}
