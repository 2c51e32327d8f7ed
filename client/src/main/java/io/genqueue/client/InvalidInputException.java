package io.genqueue.client;

import java.util.List;
import java.util.stream.Collectors;

/**
 * The request breaks the contract's input rules: found by {@link SubmitRequest.Builder#build()}
 * before anything was sent, or answered {@code 422} by the server. Every violation at once.
 */
public final class InvalidInputException extends GenQueueException {

    private final List<FieldError> fieldErrors;
    private final boolean fromServer;

    InvalidInputException(List<FieldError> fieldErrors, boolean fromServer) {
        super("invalid input: " + fieldErrors.stream().map(FieldError::toString).collect(Collectors.joining("; ")));
        this.fieldErrors = List.copyOf(fieldErrors);
        this.fromServer = fromServer;
    }

    /** Each violation, with the {@code loc} naming its field. */
    public List<FieldError> fieldErrors() {
        return fieldErrors;
    }

    /** True when the server answered 422; false when the client found it before sending. */
    public boolean fromServer() {
        return fromServer;
    }
}
