package io.genqueue.media;

/**
 * Fetches reference images for the worker, safely. Stub: the implementation lands with issue 2's
 * "Images" part.
 */
public final class ReferenceImageFetcher {

    private final FetchPolicy policy;

    public ReferenceImageFetcher(FetchPolicy policy) {
        this.policy = policy;
    }

    /**
     * Fetches an {@code http}/{@code https} URL, or decodes a {@code data:} URI, and checks that
     * the bytes are a usable image within the policy's limits.
     *
     * @throws ImageFetchException with a client-facing message when the image cannot be used
     * @throws InterruptedException when the calling thread is interrupted (the job was cancelled)
     */
    public ImageData fetch(String url) throws InterruptedException {
        throw new UnsupportedOperationException("not yet implemented: " + policy);
    }
}
