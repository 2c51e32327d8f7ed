package io.genqueue.client;

import java.util.List;
import java.util.Optional;

/**
 * A request's status. Only three states exist: a failed or cancelled request is
 * {@link State#COMPLETED} with an {@link #error()} and an {@link #errorType()}.
 *
 * @param queuePosition while {@link State#IN_QUEUE}: requests that start before this one; else null
 * @param logs the log lines when they were asked for; empty otherwise
 * @param inferenceTimeSeconds once completed, how long it ran; null when it never ran
 * @param errorTypeWire the {@code error_type} as sent, kept even when this client does not know it
 */
public record Status(State state, String requestId, Integer queuePosition, List<LogLine> logs,
        Double inferenceTimeSeconds, String error, String errorTypeWire) {

    public enum State {
        IN_QUEUE, IN_PROGRESS, COMPLETED
    }

    public Status {
        logs = List.copyOf(logs);
    }

    public boolean isCompleted() {
        return state == State.COMPLETED;
    }

    /** Completed with images (no error). */
    public boolean succeeded() {
        return state == State.COMPLETED && errorTypeWire == null;
    }

    public Optional<ErrorType> errorType() {
        return errorTypeWire == null ? Optional.empty() : ErrorType.fromWire(errorTypeWire);
    }
}
