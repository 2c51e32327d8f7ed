package io.genqueue.provider.preview;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.util.Arrays;

/**
 * An opaque RGB image drawn by hand on its pixel array: only integer arithmetic and clipped
 * rectangles, so the result is the same on every machine (no Java2D, no fonts, no antialiasing).
 */
final class Canvas {

    final int width;
    final int height;
    final BufferedImage image;
    private final int[] px;

    Canvas(int width, int height) {
        this.width = width;
        this.height = height;
        this.image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        this.px = ((DataBufferInt) image.getRaster().getDataBuffer()).getData();
    }

    int get(int x, int y) {
        return px[y * width + x] & 0xFFFFFF;
    }

    void set(int x, int y, int rgb) {
        if (x >= 0 && y >= 0 && x < width && y < height) {
            px[y * width + x] = rgb;
        }
    }

    /** Fills the rectangle (clipped to the canvas). */
    void fill(int x, int y, int w, int h, int rgb) {
        int x0 = Math.max(0, x);
        int y0 = Math.max(0, y);
        int x1 = Math.min(width, x + w);
        int y1 = Math.min(height, y + h);
        if (x0 >= x1) {
            return;
        }
        for (int row = y0; row < y1; row++) {
            int base = row * width;
            Arrays.fill(px, base + x0, base + x1, rgb);
        }
    }

    /** Mixes {@code rgb} into the rectangle with opacity {@code alpha} (0..256). */
    void blend(int x, int y, int w, int h, int rgb, int alpha) {
        int x0 = Math.max(0, x);
        int y0 = Math.max(0, y);
        int x1 = Math.min(width, x + w);
        int y1 = Math.min(height, y + h);
        for (int row = y0; row < y1; row++) {
            int base = row * width;
            for (int i = base + x0; i < base + x1; i++) {
                px[i] = mix(px[i], rgb, alpha);
            }
        }
    }

    /** An outline {@code t} pixels thick just inside the rectangle. */
    void frame(int x, int y, int w, int h, int t, int rgb) {
        fill(x, y, w, t, rgb);
        fill(x, y + h - t, w, t, rgb);
        fill(x, y, t, h, rgb);
        fill(x + w - t, y, t, h, rgb);
    }

    /** A disc, or a ring when {@code inner > 0}. */
    void disc(int cx, int cy, int outer, int inner, int rgb) {
        long o2 = (long) outer * outer;
        long i2 = (long) inner * inner;
        int y0 = Math.max(0, cy - outer);
        int y1 = Math.min(height - 1, cy + outer);
        for (int y = y0; y <= y1; y++) {
            long dy = y - cy;
            int half = (int) Math.sqrt((double) (o2 - dy * dy));
            if (inner > 0 && dy * dy < i2) {
                int hole = (int) Math.sqrt((double) (i2 - dy * dy));
                fill(cx - half, y, half - hole, 1, rgb);
                fill(cx + hole + 1, y, half - hole, 1, rgb);
            } else {
                fill(cx - half, y, 2 * half + 1, 1, rgb);
            }
        }
    }

    /** Diagonal stripes of {@code rgb} at {@code alpha} over the rectangle, {@code period} pixels apart. */
    void stripes(int x, int y, int w, int h, int period, int rgb, int alpha) {
        int x0 = Math.max(0, x);
        int y0 = Math.max(0, y);
        int x1 = Math.min(width, x + w);
        int y1 = Math.min(height, y + h);
        int halfPeriod = Math.max(1, period / 2);
        for (int row = y0; row < y1; row++) {
            int base = row * width;
            for (int col = x0; col < x1; col++) {
                if (((col + row) / halfPeriod & 1) == 0) {
                    px[base + col] = mix(px[base + col], rgb, alpha);
                }
            }
        }
    }

    /** A straight line {@code t} pixels thick (used for the cross on a placeholder). */
    void line(int xa, int ya, int xb, int yb, int t, int rgb) {
        int steps = Math.max(Math.abs(xb - xa), Math.abs(yb - ya));
        for (int i = 0; i <= steps; i++) {
            int x = xa + (int) ((long) (xb - xa) * i / Math.max(1, steps));
            int y = ya + (int) ((long) (yb - ya) * i / Math.max(1, steps));
            fill(x - t / 2, y - t / 2, t, t, rgb);
        }
    }

    /** Copies an opaque RGB block (row-major, {@code w} x {@code h}) with its top-left at (x, y). */
    void blit(int[] src, int w, int h, int x, int y) {
        for (int row = 0; row < h; row++) {
            int ty = y + row;
            if (ty < 0 || ty >= height) {
                continue;
            }
            int sx0 = Math.max(0, -x);
            int sx1 = Math.min(w, width - x);
            if (sx0 < sx1) {
                System.arraycopy(src, row * w + sx0, px, ty * width + x + sx0, sx1 - sx0);
            }
        }
    }

    static int mix(int under, int over, int alpha) {
        int inv = 256 - alpha;
        int r = (((under >> 16) & 0xFF) * inv + ((over >> 16) & 0xFF) * alpha) >> 8;
        int g = (((under >> 8) & 0xFF) * inv + ((over >> 8) & 0xFF) * alpha) >> 8;
        int b = ((under & 0xFF) * inv + (over & 0xFF) * alpha) >> 8;
        return (r << 16) | (g << 8) | b;
    }
}
