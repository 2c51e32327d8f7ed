package io.genqueue.queue;

/** The store could not do what was asked (disk full, database unreachable, closed). */
public final class StoreException extends RuntimeException {

    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }

    public StoreException(String message) {
        super(message);
    }
}
