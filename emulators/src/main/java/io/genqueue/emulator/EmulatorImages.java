package io.genqueue.emulator;

import io.genqueue.image.Encoder;
import io.genqueue.image.OutputFormat;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The images emulators answer with: a gradient whose colours derive from the prompt, so a test can
 * tell two answers apart, at exactly the size asked for.
 */
public final class EmulatorImages {

    private EmulatorImages() {
    }

    public static byte[] render(int width, int height, String prompt, int index, OutputFormat format) {
        int hash = java.util.Arrays.hashCode((prompt + "#" + index).getBytes(StandardCharsets.UTF_8));
        int r0 = hash & 0xff;
        int g0 = (hash >>> 8) & 0xff;
        int b0 = (hash >>> 16) & 0xff;
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int[] row = new int[width];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int r = (r0 + x * 255 / Math.max(1, width)) & 0xff;
                int g = (g0 + y * 255 / Math.max(1, height)) & 0xff;
                row[x] = (r << 16) | (g << 8) | b0;
            }
            image.setRGB(0, y, width, 1, row, 0, width);
        }
        try {
            return Encoder.encode(image, format);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
