package io.genqueue.media;

import java.awt.image.BufferedImage;

/**
 * Reads what image bytes really are. Never trusts a declared content type or file name.
 *
 * <p>Stub: the implementation lands with the fetcher (see issue 2, "Images").
 */
public final class ImageProbe {

    private ImageProbe() {
    }

    /**
     * Identifies the format (PNG, JPEG, WebP or GIF) from the bytes and reads the pixel size from
     * the header only, without decoding pixels.
     *
     * @throws ImageRejectedException when the bytes are not one of the four formats, the header is
     *     truncated or corrupt, or width x height exceeds {@code maxPixels}
     */
    public static ImageInfo probe(byte[] bytes, long maxPixels) {
        throw new UnsupportedOperationException("not yet implemented");
    }

    /**
     * Probes, then decodes the whole image, refusing before decoding when the header announces more
     * than {@code maxPixels} pixels (a decompression bomb costs nothing).
     *
     * @throws ImageRejectedException when {@link #probe} refuses or the pixel data does not decode
     */
    public static BufferedImage decode(byte[] bytes, long maxPixels) {
        throw new UnsupportedOperationException("not yet implemented");
    }

    /** {@link #decode} for its checks only: bytes that pass are a usable image, returned with their info. */
    public static ImageData verify(byte[] bytes, long maxPixels) {
        throw new UnsupportedOperationException("not yet implemented");
    }
}
