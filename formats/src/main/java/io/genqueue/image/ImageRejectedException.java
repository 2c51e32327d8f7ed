package io.genqueue.image;

/** Bytes that are not a usable image. The message is shown to clients, so it names no internals. */
public final class ImageRejectedException extends RuntimeException {

    public ImageRejectedException(String message) {
        super(message);
    }

    public ImageRejectedException(String message, Throwable cause) {
        super(message, cause);
    }
}
