package io.genqueue.client;

/** A wait for a request to complete ran out of time; the request itself goes on (cancel it if it should not). */
public final class WaitTimeoutException extends GenQueueException {

    private final String requestId;

    WaitTimeoutException(String requestId, String message) {
        super(message);
        this.requestId = requestId;
    }

    public String requestId() {
        return requestId;
    }
}
