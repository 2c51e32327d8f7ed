package io.genqueue.queue;

/** What {@link JobStore#cancel} did. */
public enum CancelOutcome {
    /** It was queued: it left the queue and ended cancelled. */
    CANCELLED,
    /** It was running: its worker was asked to abort. */
    REQUESTED,
    ALREADY_COMPLETED,
    NOT_FOUND
}
