package io.genqueue.client;

/** What a cancel did. An unknown request id throws {@link HttpException.NotFound} instead. */
public enum CancelOutcome {
    /** It was queued or running; it ends cancelled (or succeeded, if its result won the race). */
    CANCELLATION_REQUESTED,
    /** It had completed already: nothing changed. */
    ALREADY_COMPLETED
}
