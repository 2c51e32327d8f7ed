package io.genqueue.queue;

import io.genqueue.generation.GenerationInput;
import java.time.Instant;

/**
 * A job handed to this process to run. {@code (jobId, attempt)} is the lease token: every later
 * transition of the job by this worker names it, and the store refuses it once the lease was lost
 * (reaped, or the job was claimed again), so a late worker can never overwrite a newer outcome.
 *
 * @param upstream the upstream reference an earlier attempt kept with the job (see
 *     {@link JobStore#saveUpstream}), or null
 * @param dueAt since when the job could be claimed: its submit, the end of its retry delay, or its
 *     return to the queue (how long it waited for a worker is {@code claimedAt - dueAt})
 */
public record Claim(String jobId, String tenant, String model, int attempt, GenerationInput input, Instant claimedAt,
        String upstream, Instant dueAt) {
}
