package io.genqueue.image;

/**
 * Encoded image bytes together with what {@link ImageProbe} read from them. The array is never
 * modified after construction; callers must not modify it either.
 */
public record ImageData(byte[] bytes, ImageInfo info) {
}
