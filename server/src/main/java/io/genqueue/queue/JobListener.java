package io.genqueue.queue;

/**
 * Events a {@link JobStore} emits after a change is committed. Called on the store's own thread:
 * implementations must return quickly and never block or call back into the store synchronously.
 */
public interface JobListener {

    /** New work may be claimable (a submit, a requeue that is due). */
    default void jobsAvailable() {
    }

    /** A job's visible state changed (for status streams). */
    default void jobChanged(String jobId) {
    }

    /** A running job was asked to cancel: its worker should abort. */
    default void cancelRequested(String jobId) {
    }
}
