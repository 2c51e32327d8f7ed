package io.genqueue.queue;

import io.genqueue.generation.GenerationInput;
import java.time.Instant;

/**
 * A validated request about to be stored.
 *
 * @param startDeadline when the job fails with {@code request_timeout} if it has not started, or null
 * @param idempotencyKey the client's {@code Idempotency-Key}, or null
 * @param requestHash a digest of everything that defines the request, compared when an
 *     idempotency key is reused
 */
public record NewJob(
        String id,
        String tenant,
        String model,
        Priority priority,
        GenerationInput input,
        Instant createdAt,
        Instant startDeadline,
        String idempotencyKey,
        String requestHash) {
}
