package io.genqueue.provider;

import io.genqueue.image.Encoder;
import io.genqueue.image.ImageData;
import io.genqueue.image.ImageFormat;
import io.genqueue.image.ImageProbe;
import io.genqueue.image.ImageRejectedException;
import io.genqueue.image.OutputFormat;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.Set;

/**
 * Converts images between formats: an upstream's output to the format the client asked for, and a
 * reference image to one the upstream accepts.
 */
public final class Transcoder {

    /** Generous: upstream outputs and accepted references are far smaller. */
    private static final long MAX_PIXELS = 64L * 1024 * 1024;

    private static final Set<OutputFormat> FORMATS = Encoder.webpAvailable()
            ? Set.copyOf(java.util.EnumSet.allOf(OutputFormat.class))
            : Set.of(OutputFormat.PNG, OutputFormat.JPEG);

    private Transcoder() {
    }

    /** The formats {@link #to} can make in this process: PNG, JPEG, and WebP where its encoder runs. */
    public static Set<OutputFormat> outputFormats() {
        return FORMATS;
    }

    /**
     * The image in {@code format}: the same bytes when it already is, else re-encoded.
     *
     * @throws ProviderException (final) when the bytes are not an image we can decode
     */
    public static ImageData to(byte[] bytes, OutputFormat format, String provider) {
        ImageData image = verify(bytes, provider);
        if (image.info().format() == asImageFormat(format)) {
            return image;
        }
        return reencode(image, format, provider);
    }

    /** The image unchanged if its format is in {@code accepted}, else as PNG. */
    public static ImageData acceptable(ImageData image, Set<ImageFormat> accepted, String provider) {
        return accepted.contains(image.info().format()) ? image : reencode(image, OutputFormat.PNG, provider);
    }

    private static ImageData reencode(ImageData image, OutputFormat format, String provider) {
        try {
            BufferedImage pixels = ImageProbe.decode(image.bytes(), MAX_PIXELS);
            byte[] encoded = Encoder.encode(pixels, format);
            // Our own encoder's output: read its header, do not decode it again. A full decode is
            // wasted work, and TwelveMonkeys' WebP reader refuses a lossless WebP that expands more
            // than 2048:1 (a smooth gradient or a flat illustration does) as a decompression bomb.
            return new ImageData(encoded, ImageProbe.probe(encoded, MAX_PIXELS));
        } catch (IOException | ImageRejectedException e) {
            throw ProviderException.fatal(io.genqueue.generation.ErrorType.PROVIDER_ERROR,
                    provider + ": could not convert an image to " + format + ": " + e.getMessage());
        }
    }

    private static ImageData verify(byte[] bytes, String provider) {
        try {
            return ImageProbe.verify(bytes, MAX_PIXELS);
        } catch (ImageRejectedException e) {
            throw ProviderException.fatal(io.genqueue.generation.ErrorType.PROVIDER_ERROR,
                    provider + " returned an image that does not decode: " + e.getMessage());
        }
    }

    private static ImageFormat asImageFormat(OutputFormat format) {
        return switch (format) {
            case PNG -> ImageFormat.PNG;
            case JPEG -> ImageFormat.JPEG;
            case WEBP -> ImageFormat.WEBP;
        };
    }
}
