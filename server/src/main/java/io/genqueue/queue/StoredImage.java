package io.genqueue.queue;

/**
 * One image of a finished job, as kept with the job: where its bytes are in the blob store and what
 * was read from those bytes.
 */
public record StoredImage(String blobKey, String contentType, String fileName, long fileSize, int width, int height) {
}
