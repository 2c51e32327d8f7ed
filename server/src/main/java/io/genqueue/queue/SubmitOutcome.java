package io.genqueue.queue;

/** What {@link JobStore#submit} did. */
public sealed interface SubmitOutcome {

    /** Stored durably as a new job. */
    record Created(JobView job) implements SubmitOutcome {
    }

    /** The idempotency key named an earlier request with the same body: that one is returned. */
    record Existing(JobView job) implements SubmitOutcome {
    }

    /** The idempotency key named an earlier request with a different body. */
    record Conflict(String existingId) implements SubmitOutcome {
    }

    /** Not stored: the job's {@link Quota} of this kind, of {@code limit}, is used up. */
    record OverQuota(Quota.Kind kind, int limit) implements SubmitOutcome {
    }
}
