package io.genqueue.blob;

/**
 * The blob store could not do what was asked: the disk is full or failing, the bucket answers an
 * error or cannot be reached. A fault of this machine or of its storage service, never of the
 * request: a job whose images cannot be stored waits and runs again, it does not fail for it.
 */
public final class BlobStoreException extends RuntimeException {

    public BlobStoreException(String message, Throwable cause) {
        super(message, cause);
    }

    public BlobStoreException(String message) {
        super(message);
    }
}
