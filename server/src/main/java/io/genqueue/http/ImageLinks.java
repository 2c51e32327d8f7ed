package io.genqueue.http;

import io.genqueue.blob.BlobStore;
import java.net.URI;
import java.time.Duration;

/**
 * The {@code url} of a stored image in a result: the blob store's own link when it offers one (a
 * presigned object-store link, so clients fetch from the bucket, not through us), else a signed link
 * to this service's {@code /files} route. Both live at least the configured link lifetime.
 */
final class ImageLinks {

    private final BlobStore blobs;
    private final LinkSigner signer;
    private final Duration ttl;

    ImageLinks(BlobStore blobs, LinkSigner signer, Duration ttl) {
        this.blobs = blobs;
        this.signer = signer;
        this.ttl = ttl;
    }

    /** The absolute link to {@code blobKey}; {@code base} is this service's public base URL. */
    String url(String base, String blobKey) {
        return blobs.directUrl(blobKey, ttl).map(URI::toString).orElseGet(() -> base + signer.sign(blobKey));
    }
}
