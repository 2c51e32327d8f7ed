package io.genqueue.fetch;

/**
 * A reference image that could not be used: refused address, too big, too slow, not an image.
 * The message is shown to clients in {@code error}; it names the problem, never internal details.
 */
public final class ImageFetchException extends RuntimeException {

    public ImageFetchException(String message) {
        super(message);
    }

    public ImageFetchException(String message, Throwable cause) {
        super(message, cause);
    }
}
