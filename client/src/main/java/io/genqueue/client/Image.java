package io.genqueue.client;

/**
 * One image of a result. {@code url} is a signed, expiring link (or a {@code data:} URI with
 * {@code sync_mode}); {@link GenQueueClient#download} fetches either. {@code width} and
 * {@code height} are the stored image's real pixel size.
 */
public record Image(String url, String contentType, String fileName, long fileSize, int width, int height) {
}
