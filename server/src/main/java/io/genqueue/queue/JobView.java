package io.genqueue.queue;

import java.time.Instant;

/**
 * A job as readers see it: the committed state, never a transition still in flight.
 *
 * @param queuePosition for a queued job, how many jobs of the same model start before it; -1 otherwise
 * @param inferenceMillis how long the finishing attempt ran, or null when it never ran
 * @param failure why it ended without images, or null
 * @param expired whether retention removed its result
 */
public record JobView(
        String id,
        String tenant,
        String model,
        JobState state,
        long queuePosition,
        int attempt,
        boolean syncMode,
        Instant createdAt,
        Instant startedAt,
        Instant finishedAt,
        Long inferenceMillis,
        Failure failure,
        boolean cancelRequested,
        boolean expired) {
}
