package io.genqueue.queue;

import java.util.EnumSet;
import java.util.Set;

/**
 * The five states of a job and the one table of legal moves between them.
 *
 * <pre>
 * QUEUED  -> RUNNING | CANCELLED | FAILED (start deadline passed)
 * RUNNING -> SUCCEEDED | FAILED | CANCELLED | QUEUED (lease lost, retryable failure, shutdown)
 * </pre>
 *
 * The API's three fal statuses are a view of these: {@link #apiStatus()}.
 */
public enum JobState {
    QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED;

    /** Whether a job in this state may move to {@code next}. */
    public boolean canMoveTo(JobState next) {
        return next(this).contains(next);
    }

    private static Set<JobState> next(JobState from) {
        return switch (from) {
            case QUEUED -> EnumSet.of(RUNNING, CANCELLED, FAILED);
            case RUNNING -> EnumSet.of(SUCCEEDED, FAILED, CANCELLED, QUEUED);
            case SUCCEEDED, FAILED, CANCELLED -> EnumSet.noneOf(JobState.class);
        };
    }

    public boolean isTerminal() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }

    /** {@code IN_QUEUE}, {@code IN_PROGRESS} or {@code COMPLETED}: the only statuses fal's clients accept. */
    public String apiStatus() {
        return switch (this) {
            case QUEUED -> "IN_QUEUE";
            case RUNNING -> "IN_PROGRESS";
            case SUCCEEDED, FAILED, CANCELLED -> "COMPLETED";
        };
    }
}
