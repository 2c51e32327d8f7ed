package io.genqueue.worker;

import io.genqueue.blob.BlobStore;
import io.genqueue.queue.Claim;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The images one run of a job stored, and what becomes of them when the run ends.
 *
 * <p>Every run writes keys of its own ({@link BlobStore#imageKey}: the attempt is in the key), so a
 * run that lost its lease (its process paused past it, say) and stores its images late never
 * replaces the images of the run that recorded the job's outcome. Who deletes what:
 * <ul>
 *   <li>a run that lost the job deletes what it stored, once the store told it so (its finish
 *       refused, its lease renewal refused, a reap);
 *   <li>a run whose outcome was recorded deletes every other key of the job when it is not the
 *       job's first attempt: what a run killed between storing and recording left (no process is
 *       left to delete it), and what a late run stored before this one finished (that run deletes
 *       its own again when it learns it lost). A first attempt has no other run's keys to find;
 *   <li>a run that gives the job back (a retry; a release at shutdown or after a storage fault)
 *       deletes what it stored first, while it still holds the job: a released run and the next
 *       run have the same attempt number, so the same keys.
 * </ul>
 * What a late run stores after the winner's cleanup and never deletes (its process killed in
 * between) is left to the retention sweep, which deletes every key of the job.
 *
 * <p>Cleanup is best effort: a blob store that fails is logged, never thrown, since the job's
 * outcome does not depend on it. Used by the run's own thread only.
 */
final class RunImages {

    private static final Logger log = LoggerFactory.getLogger(RunImages.class);

    private final BlobStore blobs;
    private final Claim claim;
    private final List<String> stored = new ArrayList<>();

    RunImages(BlobStore blobs, Claim claim) {
        this.blobs = blobs;
        this.claim = claim;
    }

    /** Stores one image of this run under {@link BlobStore#imageKey}; returns its key. */
    String put(int index, String ext, byte[] bytes, String contentType) {
        String key = BlobStore.imageKey(claim.jobId(), claim.attempt(), index, ext);
        stored.add(key); // first: a put that fails may still have written it
        blobs.put(key, bytes, contentType);
        return key;
    }

    /** Whether this run stored any of {@code keys}. */
    boolean storedAnyOf(Collection<String> keys) {
        return keys.stream().anyMatch(stored::contains);
    }

    /** The run's outcome was recorded: keeps its images if {@code succeeded}, deletes every other key of the job. */
    void recorded(boolean succeeded) {
        Set<String> keep = succeeded ? Set.copyOf(stored) : Set.of();
        try {
            Set<String> delete = new LinkedHashSet<>(stored);
            if (claim.attempt() > 1) {
                delete.addAll(blobs.keys(claim.jobId()));
            }
            delete.removeAll(keep);
            if (!delete.isEmpty()) {
                blobs.delete(delete);
                log.info("job {} attempt {}: deleted {} image(s) no outcome holds", claim.jobId(), claim.attempt(),
                        delete.size());
            }
        } catch (RuntimeException e) {
            log.warn("job {} attempt {}: could not delete images no outcome holds (the retention sweep will): {}",
                    claim.jobId(), claim.attempt(), e.toString());
        }
    }

    /** The run ends without an outcome of its own (lost, retried, released): deletes what it stored; returns how many. */
    int discard() {
        if (stored.isEmpty()) {
            return 0;
        }
        try {
            blobs.delete(stored);
            return stored.size();
        } catch (RuntimeException e) {
            log.warn("job {} attempt {}: could not delete the {} image(s) this run stored (the retention sweep will): {}",
                    claim.jobId(), claim.attempt(), stored.size(), e.toString());
            return 0;
        }
    }
}
