package io.genqueue.image;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Iterator;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Encodes a rendered canvas as PNG, JPEG or (when a WebP writer can run here) WebP. A new
 * {@link ImageWriter} per call, since writers are not thread-safe; streams are in memory, never
 * ImageIO's temporary files.
 */
public final class Encoder {

    private static final Logger LOG = LoggerFactory.getLogger(Encoder.class);

    static final float JPEG_QUALITY = 0.9f;
    static final float PNG_QUALITY = 0.75f;

    private Encoder() {
    }

    /** Whether WebP can be written in this process (probed once, on first use). */
    public static boolean webpAvailable() {
        return WebpProbe.AVAILABLE;
    }

    public static byte[] encode(BufferedImage image, OutputFormat format) throws IOException {
        return switch (format) {
            case PNG -> write(image, "image/png", param -> {
                // the JDK maps quality q to deflate level (int) (9 * (1 - q)): 0.75 is level 2, a bit
                // faster than the default level 4 and barely larger for these flat images
                param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
                param.setCompressionQuality(PNG_QUALITY);
            });
            case JPEG -> write(image, "image/jpeg", param -> {
                param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
                param.setCompressionQuality(JPEG_QUALITY);
            });
            case WEBP -> {
                if (!webpAvailable()) {
                    throw new IllegalArgumentException("no WebP writer is available in this process");
                }
                yield writeWebp(image);
            }
        };
    }

    private static byte[] writeWebp(BufferedImage image) throws IOException {
        // Lossless: the preview is flat colour and pixel text, which lossless keeps crisp and small.
        return write(image, "image/webp", param -> {
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionType(losslessType(param));
            param.setCompressionQuality(0.0f); // for lossless, the least effort: fastest
        });
    }

    private static String losslessType(ImageWriteParam param) {
        for (String type : param.getCompressionTypes()) {
            if (type.equalsIgnoreCase("Lossless")) {
                return type;
            }
        }
        return param.getCompressionTypes()[0];
    }

    private interface ParamSetup {
        void apply(ImageWriteParam param);
    }

    private static byte[] write(BufferedImage image, String mimeType, ParamSetup setup) throws IOException {
        Iterator<ImageWriter> writers = ImageIO.getImageWritersByMIMEType(mimeType);
        if (!writers.hasNext()) {
            throw new IOException("no ImageIO writer for " + mimeType);
        }
        ImageWriter writer = writers.next();
        try {
            ImageWriteParam param = writer.getDefaultWriteParam();
            if (setup != null) {
                setup.apply(param);
            }
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 * 1024);
            try (ImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
                writer.setOutput(out);
                writer.write(null, new IIOImage(image, null, null), param);
            }
            return bytes.toByteArray();
        } finally {
            writer.dispose();
        }
    }

    /** Encodes a tiny image once and checks that it decodes back; any failure means no WebP here. */
    private static final class WebpProbe {
        static final boolean AVAILABLE = probe();

        private static boolean probe() {
            try {
                BufferedImage tiny = new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB);
                tiny.setRGB(1, 1, 0x336699);
                byte[] webp = writeWebp(tiny);
                boolean riff = webp.length > 12
                        && webp[0] == 'R' && webp[1] == 'I' && webp[2] == 'F' && webp[3] == 'F'
                        && webp[8] == 'W' && webp[9] == 'E' && webp[10] == 'B' && webp[11] == 'P';
                BufferedImage back = riff
                        ? ImageIO.read(new MemoryCacheImageInputStream(new ByteArrayInputStream(webp)))
                        : null;
                boolean ok = back != null && back.getWidth() == 4 && back.getHeight() == 4;
                if (!ok) {
                    LOG.warn("WebP output disabled: the WebP writer's output did not decode back");
                }
                return ok;
            } catch (Exception | LinkageError e) {
                LOG.warn("WebP output disabled: no usable WebP writer ({})", e.toString());
                return false;
            }
        }
    }
}
