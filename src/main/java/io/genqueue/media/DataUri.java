package io.genqueue.media;

/**
 * A {@code data:image/...;base64,...} URI, decoded.
 *
 * <p>Stub: the implementation lands with the fetcher.
 */
public record DataUri(String mediaType, byte[] bytes) {

    /** True when the string starts with {@code data:} (any case); such strings must then {@link #parse}. */
    public static boolean looksLikeDataUri(String value) {
        return value.regionMatches(true, 0, "data:", 0, 5);
    }

    /**
     * Parses {@code data:image/<type>;base64,<payload>}.
     *
     * @throws IllegalArgumentException with a client-facing message when the URI is malformed, not
     *     base64, not an {@code image/} type, or decodes to more than {@code maxBytes}
     */
    public static DataUri parse(String uri, long maxBytes) {
        throw new UnsupportedOperationException("not yet implemented");
    }
}
