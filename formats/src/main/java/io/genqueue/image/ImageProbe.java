package io.genqueue.image;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadWarningListener;

/**
 * Reads what image bytes really are. Never trusts a declared content type or file name: the
 * format comes from the magic bytes, the size from the header.
 *
 * <p>Every refusal is an {@link ImageRejectedException} whose message starts with "image " and
 * can be shown to a client as it is (callers may replace that first word with their own subject,
 * e.g. "reference image from example.com"). Decoder failures of any kind (I/O errors, runtime
 * exceptions thrown by buggy decoders on hostile input, running out of memory while decoding)
 * become that exception too; nothing else escapes. Decoders read through {@link ImageBytesInput},
 * which stops one that runs away on damaged data. Thread-safe: every call uses its own reader.
 */
public final class ImageProbe {

    static final String NOT_AN_IMAGE = "image is not a PNG, JPEG, WebP or GIF image";

    private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

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
        ImageFormat format = sniff(bytes);
        ImageReader reader = open(format, bytes);
        try {
            return header(reader, format, bytes, maxPixels);
        } finally {
            reader.dispose();
        }
    }

    /**
     * Probes, then decodes the whole image (the first frame of an animation), refusing before
     * decoding when the header announces more than {@code maxPixels} pixels (a decompression bomb
     * costs nothing).
     *
     * @throws ImageRejectedException when {@link #probe} refuses or the pixel data does not decode
     */
    public static BufferedImage decode(byte[] bytes, long maxPixels) {
        ImageFormat format = sniff(bytes);
        ImageReader reader = open(format, bytes);
        try {
            header(reader, format, bytes, maxPixels);
            return pixels(reader, format);
        } finally {
            reader.dispose();
        }
    }

    /** {@link #decode} for its checks only: bytes that pass are a usable image, returned with their info. */
    public static ImageData verify(byte[] bytes, long maxPixels) {
        ImageFormat format = sniff(bytes);
        ImageReader reader = open(format, bytes);
        try {
            ImageInfo info = header(reader, format, bytes, maxPixels);
            pixels(reader, format);
            return new ImageData(bytes, info);
        } finally {
            reader.dispose();
        }
    }

    /** The format named by the magic bytes at the start of {@code bytes}. */
    static ImageFormat sniff(byte[] bytes) {
        Objects.requireNonNull(bytes, "bytes");
        if (bytes.length == 0) {
            throw new ImageRejectedException("image is empty");
        }
        if (startsWith(bytes, 0, PNG_MAGIC)) {
            return ImageFormat.PNG;
        }
        if (bytes.length >= 3 && (bytes[0] & 0xff) == 0xff && (bytes[1] & 0xff) == 0xd8 && (bytes[2] & 0xff) == 0xff) {
            return ImageFormat.JPEG;
        }
        if (startsWith(bytes, 0, ascii("GIF87a")) || startsWith(bytes, 0, ascii("GIF89a"))) {
            return ImageFormat.GIF;
        }
        if (startsWith(bytes, 0, ascii("RIFF")) && startsWith(bytes, 8, ascii("WEBP"))) {
            return ImageFormat.WEBP;
        }
        throw new ImageRejectedException(looksLikeMarkup(bytes)
                ? NOT_AN_IMAGE + " (it looks like an HTML, XML or SVG page)"
                : NOT_AN_IMAGE);
    }

    private static ImageReader open(ImageFormat format, byte[] bytes) {
        ImageReader reader = readerFor(format);
        // ignoreMetadata: text and ICC chunks are not needed and can be compression bombs themselves.
        reader.setInput(new ImageBytesInput(bytes), true, true);
        return reader;
    }

    private static ImageInfo header(ImageReader reader, ImageFormat format, byte[] bytes, long maxPixels) {
        int width;
        int height;
        try {
            width = reader.getWidth(0);
            height = reader.getHeight(0);
        } catch (IOException | RuntimeException e) {
            throw corrupt(format, e);
        }
        if (width <= 0 || height <= 0) {
            throw new ImageRejectedException("image has an invalid size (" + width + "x" + height + ")");
        }
        if ((long) width * height > maxPixels) {
            throw new ImageRejectedException("image is " + width + "x" + height
                    + " pixels, more than the limit of " + maxPixels + " pixels");
        }
        return new ImageInfo(format, width, height, bytes.length);
    }

    private static BufferedImage pixels(ImageReader reader, ImageFormat format) {
        TruncationWarnings warnings = new TruncationWarnings();
        reader.addIIOReadWarningListener(warnings);
        BufferedImage image;
        try {
            image = reader.read(0);
        } catch (IOException | RuntimeException e) {
            throw corrupt(format, e);
        } catch (OutOfMemoryError e) {
            // Only the pixel buffer of this one image was being allocated; it is garbage now.
            throw new ImageRejectedException("image is too large to decode", e);
        }
        if (image == null || warnings.truncated) {
            throw corrupt(format, null);
        }
        return image;
    }

    static ImageReader readerFor(ImageFormat format) {
        String name = format.name().toLowerCase(Locale.ROOT);
        List<ImageReader> readers = readers(name);
        if (readers.isEmpty()) {
            // Plugins on the class path are registered when ImageIO loads; scan again in case
            // ImageIO was first used from a class loader that could not see them.
            ImageIO.scanForPlugins();
            readers = readers(name);
        }
        if (readers.isEmpty()) {
            throw new IllegalStateException("no ImageIO reader for " + name + " on the class path");
        }
        // Untrusted bytes go to a pure-Java decoder when there is one: a native decoder (the WebP
        // writer's plugin also registers a libwebp reader) that crashes on hostile input takes
        // the whole process down, where a Java one only throws.
        for (ImageReader reader : readers) {
            if (!reader.getClass().getName().startsWith(NATIVE_WEBP_PACKAGE)) {
                readers.stream().filter(r -> r != reader).forEach(ImageReader::dispose);
                return reader;
            }
        }
        readers.subList(1, readers.size()).forEach(ImageReader::dispose);
        return readers.get(0);
    }

    /** The package of the libwebp-based plugin that comes with the WebP writer. */
    static final String NATIVE_WEBP_PACKAGE = "com.luciad.";

    private static List<ImageReader> readers(String formatName) {
        List<ImageReader> readers = new ArrayList<>();
        ImageIO.getImageReadersByFormatName(formatName).forEachRemaining(readers::add);
        return readers;
    }


    private static ImageRejectedException corrupt(ImageFormat format, Throwable cause) {
        String message = "image is a truncated or corrupt " + displayName(format);
        return cause == null ? new ImageRejectedException(message) : new ImageRejectedException(message, cause);
    }

    private static String displayName(ImageFormat format) {
        return format == ImageFormat.WEBP ? "WebP" : format.name();
    }

    /**
     * The JDK's JPEG (and some other) decoders do not fail on a truncated file: they fill the
     * missing part with grey and report a warning. A reference image cut in half is not usable.
     */
    private static final class TruncationWarnings implements IIOReadWarningListener {
        boolean truncated;

        @Override
        public void warningOccurred(ImageReader source, String warning) {
            String text = warning == null ? "" : warning.toLowerCase(Locale.ROOT);
            if (text.contains("truncated") || text.contains("premature end")) {
                truncated = true;
            }
        }
    }

    private static boolean startsWith(byte[] bytes, int offset, byte[] prefix) {
        if (bytes.length < offset + prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (bytes[offset + i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    /** True when the bytes start (after whitespace or a UTF-8 byte order mark) with {@code <}. */
    private static boolean looksLikeMarkup(byte[] bytes) {
        int i = startsWith(bytes, 0, new byte[] {(byte) 0xef, (byte) 0xbb, (byte) 0xbf}) ? 3 : 0;
        while (i < bytes.length && i < 1024 && Character.isWhitespace(bytes[i])) {
            i++;
        }
        return i < bytes.length && bytes[i] == '<';
    }
}
