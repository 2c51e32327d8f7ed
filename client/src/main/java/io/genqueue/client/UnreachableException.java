package io.genqueue.client;

/** No answer from the server (refused, reset, timed out), after the client's retries. */
public final class UnreachableException extends GenQueueException {
    UnreachableException(String message, Throwable cause) {
        super(message, cause);
    }
}
