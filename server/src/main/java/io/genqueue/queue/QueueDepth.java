package io.genqueue.queue;

import java.time.Instant;

/**
 * The unfinished jobs of one model, as {@link JobStore#queueDepth} counts them.
 *
 * @param queued jobs waiting in the queue (a retry delay included)
 * @param running jobs claimed by a worker
 * @param oldestQueued when the oldest queued job was submitted, or null when none is queued
 */
public record QueueDepth(String model, long queued, long running, Instant oldestQueued) {
}
