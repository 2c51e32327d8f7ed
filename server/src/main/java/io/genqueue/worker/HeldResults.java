package io.genqueue.worker;

import io.genqueue.image.ImageData;
import io.genqueue.provider.GenerationResult;
import java.time.Clock;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What this process remembers of a job between its attempts while storage fails: the provider's
 * images that could not be stored (paid for: the next attempt stores them instead of calling the
 * provider again), and how many attempts in a row storage failed (the delay before the next).
 *
 * <p>Bounded: the held images of all jobs together stay under {@code maxBytes} (the oldest are let
 * go first; that job then calls its provider again), and an entry is dropped after {@code maxAge}
 * (another process may have run the job since). Lost when the process ends. Owned by the
 * {@link JobRunner}: the thread of a job whose storing failed puts, the thread of its next attempt
 * in this process takes; every access holds this object's monitor.
 */
final class HeldResults {

    /** What is kept of one job. {@code result} is null when storage failed before the provider answered. */
    record Held(GenerationResult result, int storageFaults, long bytes, long at) {
    }

    private final long maxBytes;
    private final long maxAgeMillis;
    private final Clock clock;
    private final Map<String, Held> byJob = new LinkedHashMap<>(); // oldest first
    private long bytes;

    HeldResults(long maxBytes, Duration maxAge, Clock clock) {
        this.maxBytes = maxBytes;
        this.maxAgeMillis = maxAge.toMillis();
        this.clock = clock;
    }

    /** The held images of all jobs together may take this much of the heap (a quarter, at most 512 MiB). */
    static long defaultMaxBytes() {
        return Math.min(512L << 20, Runtime.getRuntime().maxMemory() / 4);
    }

    /**
     * Remembers that storage failed for {@code jobId} after {@code faultsBefore} such faults in a
     * row, holding {@code result} (null when there is none) unless it does not fit. Returns the
     * number of storage faults in a row, this one included.
     */
    synchronized int storageFailed(String jobId, GenerationResult result, int faultsBefore) {
        long now = clock.millis();
        expire(now);
        Held before = byJob.remove(jobId);
        if (before != null) {
            bytes -= before.bytes();
        }
        GenerationResult kept = result;
        long size = kept == null ? 0 : size(kept);
        if (size > maxBytes) {
            kept = null;
            size = 0;
        }
        for (Iterator<Map.Entry<String, Held>> it = byJob.entrySet().iterator(); bytes + size > maxBytes && it.hasNext(); ) {
            Held oldest = it.next().getValue();
            bytes -= oldest.bytes();
            it.remove();
        }
        int faults = faultsBefore + 1;
        byJob.put(jobId, new Held(kept, faults, size, now));
        bytes += size;
        return faults;
    }

    /** Takes what is held for {@code jobId} (null when nothing): the caller owns it from now on. */
    synchronized Held take(String jobId) {
        expire(clock.millis());
        Held held = byJob.remove(jobId);
        if (held != null) {
            bytes -= held.bytes();
        }
        return held;
    }

    /** Bytes of images held now (for tests and the log). */
    synchronized long bytes() {
        return bytes;
    }

    private void expire(long now) {
        for (Iterator<Held> it = byJob.values().iterator(); it.hasNext(); ) {
            Held held = it.next();
            if (now - held.at() <= maxAgeMillis) {
                return; // insertion order is age order
            }
            bytes -= held.bytes();
            it.remove();
        }
    }

    private static long size(GenerationResult result) {
        long size = 0;
        for (ImageData image : result.images()) {
            size += image.bytes().length;
        }
        return size;
    }
}
