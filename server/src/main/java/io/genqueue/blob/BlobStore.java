package io.genqueue.blob;

import java.io.InputStream;
import java.net.URI;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * Where generated images are kept. Implementations: a directory on local disk (one process), and
 * later an S3-compatible bucket (many processes).
 *
 * <p>Keys look like {@code <job id>/a<attempt>-<index>.<ext>} ({@link #imageKey}; results stored
 * before the attempt was part of the key are {@code <job id>/<index>.<ext>}): each run of a job writes
 * keys of its own, so a run that lost its lease and writes late (a paused process) never replaces
 * the images of the run that recorded the job's outcome, and can delete exactly what it wrote.
 * {@link #deleteJob} removes every key of a job. Writing the same key twice replaces it.
 */
public interface BlobStore {

    /** The key of image {@code index} of attempt {@code attempt} of a job, in format {@code ext}. */
    static String imageKey(String jobId, int attempt, int index, String ext) {
        return jobId + "/a" + attempt + "-" + index + "." + ext;
    }

    /** Stores the bytes under {@code key}; durable on return. */
    void put(String key, byte[] bytes, String contentType);

    /** Opens a stored blob for reading, if it exists. */
    Optional<Blob> open(String key);

    /** Removes every blob of a job; removing what is not there is not an error. */
    void deleteJob(String jobId);

    /** The keys of every blob of a job (of all its runs), in no particular order. */
    List<String> keys(String jobId);

    /** Removes these blobs; removing what is not there is not an error. */
    void delete(Collection<String> keys);

    /** Whether the store can be written (for {@code /readyz}). */
    boolean ping();

    /**
     * A link clients can fetch {@code key} from directly, living at least {@code ttl}, when the
     * store offers one (an object store's presigned link); empty when images must be served
     * through this service's own signed {@code /files} links.
     */
    default Optional<URI> directUrl(String key, Duration ttl) {
        return Optional.empty();
    }

    /** A stored blob being read; the caller closes the stream. */
    record Blob(InputStream stream, long size) {
    }
}
