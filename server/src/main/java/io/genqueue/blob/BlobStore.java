package io.genqueue.blob;

import java.io.InputStream;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;

/**
 * Where generated images are kept. Implementations: a directory on local disk (one process), and
 * later an S3-compatible bucket (many processes).
 *
 * <p>Keys look like {@code <job id>/<index>.<ext>}; {@link #deleteJob} removes every key of a job.
 * Writing the same key twice replaces it: a job that is run again after a crash overwrites its own
 * images instead of leaving duplicates.
 */
public interface BlobStore {

    /** Stores the bytes under {@code key}; durable on return. */
    void put(String key, byte[] bytes, String contentType);

    /** Opens a stored blob for reading, if it exists. */
    Optional<Blob> open(String key);

    /** Removes every blob of a job; removing what is not there is not an error. */
    void deleteJob(String jobId);

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
