package io.genqueue.provider.preview;

import io.genqueue.image.ImageData;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Draws one preview image: a flat-coloured pattern seeded by the prompt, seed and image index; a
 * banner that says it is a preview; the prompt's words; the reference images as thumbnails; and a
 * footer. Pure integer drawing on a {@link Canvas}, so the same input gives the same pixels.
 *
 * <p>A {@link Scene} holds what all images of one request share (layout, wrapped text, decoded
 * thumbnails); it is immutable, and rendering allocates a fresh canvas, so everything here is safe
 * to use from many threads.
 */
final class PreviewRenderer {

    static final String BANNER = "PREVIEW - NOT A MODEL";
    static final int MAX_REFERENCES = 3;

    private static final int BANNER_BG = 0x16161A;
    private static final int BANNER_FG = 0xFFD21F;
    private static final int PANEL_BG = 0x000000;
    private static final int PANEL_ALPHA = 160;
    private static final int TEXT_FG = 0xF4F4F4;
    private static final int LABEL_FG = 0xC8C8CC;
    private static final int FRAME = 0xEEEEEE;
    private static final int THUMB_BG = 0x2A2A2E;
    private static final int PLACEHOLDER_BG = 0x55555A;
    private static final int PLACEHOLDER_FG = 0x8A8A90;

    private PreviewRenderer() {
    }

    /** A reference image scaled to its thumbnail, or {@code pixels == null} when it could not be decoded. */
    record Thumbnail(int[] pixels, int width, int height, int sourceWidth, int sourceHeight) {

        static final Thumbnail UNREADABLE = new Thumbnail(null, 0, 0, 0, 0);

        boolean readable() {
            return pixels != null;
        }
    }

    /** What every image of one request shares. */
    record Scene(
            int width,
            int height,
            String prompt,
            Long seed,
            int count,
            Layout layout,
            TextLayout.Block text,
            List<Thumbnail> thumbnails) {
    }

    /** Where things go, derived from the size alone (and whether there are references). */
    record Layout(
            int unit,
            int margin,
            int bannerH,
            int smallScale,
            int footerH,
            int rule,
            int box,
            int gap,
            int refsTop,
            int panelX,
            int panelY,
            int panelW,
            int panelH,
            int pad) {

        static Layout of(int width, int height, int references) {
            int unit = Math.min(width, height);
            int margin = Math.max(8, unit / 32);
            int bannerH = Math.max(24, unit / 10);
            int smallScale = Math.max(2, unit / 400);
            int footerH = smallScale * (BitmapFont.GLYPH_H + 8);
            int rule = Math.max(2, unit / 256);
            int gap = margin / 2;
            int labelH = smallScale * BitmapFont.LINE;
            int box = 0;
            int refsTop = height - footerH;
            if (references > 0) {
                box = Math.max(16, Math.min((width - 2 * margin - (MAX_REFERENCES - 1) * gap) / MAX_REFERENCES, height / 4));
                refsTop = height - footerH - margin - labelH - box;
            }
            int panelX = margin;
            int panelY = bannerH + margin;
            int panelW = width - 2 * margin;
            int panelH = Math.max(1, refsTop - margin - panelY);
            return new Layout(unit, margin, bannerH, smallScale, footerH, rule, box, gap, refsTop,
                    panelX, panelY, panelW, panelH, Math.max(4, margin / 2));
        }
    }

    /** Prepares what all images of a request share; decodes the references (checking for interruption). */
    static Scene scene(int width, int height, String prompt, Long seed, int count, List<ImageData> references)
            throws InterruptedException {
        String text = prompt == null ? "" : prompt;
        List<ImageData> refs = references.subList(0, Math.min(MAX_REFERENCES, references.size()));
        Layout layout = Layout.of(width, height, refs.size());
        List<Thumbnail> thumbnails = new ArrayList<>(refs.size());
        int inner = layout.box() - 2 * layout.rule();
        for (ImageData ref : refs) {
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            thumbnails.add(thumbnail(ref, inner));
        }
        List<String> words = TextLayout.words(BitmapFont.normalize(text));
        if (words.isEmpty()) {
            words = List.of("(empty", "prompt)");
        }
        int textY = layout.pad() + layout.smallScale() * BitmapFont.LINE;
        TextLayout.Block block = TextLayout.fit(words,
                layout.panelW() - 2 * layout.pad(),
                layout.panelH() - layout.pad() - textY,
                Math.max(2, layout.unit() / 128), 2);
        return new Scene(width, height, text, seed, count, layout, block, List.copyOf(thumbnails));
    }

    /** Renders image {@code index} (0-based) of the scene. */
    static Canvas render(Scene scene, int index) {
        Canvas canvas = new Canvas(scene.width(), scene.height());
        Layout l = scene.layout();
        SplitMix rng = new SplitMix(seedOf(scene.prompt(), scene.seed(), index));
        drawBackground(canvas, l, rng);
        drawBanner(canvas, l);
        drawPrompt(canvas, scene);
        drawReferences(canvas, scene);
        drawFooter(canvas, scene, index);
        return canvas;
    }

    private static void drawBackground(Canvas c, Layout l, SplitMix rng) {
        int w = c.width;
        int h = c.height;
        int hue = rng.nextInt(360);
        int[] palette = new int[5];
        for (int i = 0; i < palette.length; i++) {
            int hh = (hue + i * (50 + rng.nextInt(60))) % 360;
            palette[i] = hsv(hh, 35 + rng.nextInt(36), 45 + rng.nextInt(46));
        }
        // bands between two colours
        int bands = 4 + rng.nextInt(9);
        boolean vertical = rng.nextInt(2) == 0;
        int span = vertical ? w : h;
        for (int i = 0; i < bands; i++) {
            int from = span * i / bands;
            int to = span * (i + 1) / bands;
            int color = lerp(palette[0], palette[1], i * 256 / Math.max(1, bands - 1));
            if (vertical) {
                c.fill(from, 0, to - from, h, color);
            } else {
                c.fill(0, from, w, to - from, color);
            }
        }
        if (rng.nextInt(2) == 0) {
            c.stripes(0, 0, w, h, l.unit() / (6 + rng.nextInt(10)), palette[2], 56);
        }
        int shapes = 5 + rng.nextInt(6);
        for (int i = 0; i < shapes; i++) {
            int kind = rng.nextInt(3);
            int color = palette[2 + rng.nextInt(3)];
            int size = l.unit() / 12 + rng.nextInt(Math.max(1, l.unit() / 4));
            int x = rng.nextInt(w);
            int y = rng.nextInt(h);
            switch (kind) {
                case 0 -> c.disc(x, y, size / 2, 0, color);
                case 1 -> c.disc(x, y, size / 2, size / 2 - Math.max(3, size / 8), color);
                default -> c.fill(x - size / 2, y - size / 3, size, size * 2 / 3, color);
            }
        }
    }

    private static void drawBanner(Canvas c, Layout l) {
        c.fill(0, 0, c.width, l.bannerH(), BANNER_BG);
        c.fill(0, l.bannerH() - l.rule(), c.width, l.rule(), BANNER_FG);
        int scale = Math.max(1, Math.min(
                (l.bannerH() - l.rule()) * 6 / 10 / BitmapFont.GLYPH_H,
                (c.width - 2 * l.margin()) / (BANNER.length() * BitmapFont.ADVANCE)));
        int textW = BitmapFont.width(BANNER.length(), scale);
        int x = (c.width - textW) / 2;
        int y = (l.bannerH() - l.rule() - BitmapFont.GLYPH_H * scale) / 2;
        BitmapFont.draw(c, BANNER, x, y, scale, BANNER_FG);
    }

    private static void drawPrompt(Canvas c, Scene scene) {
        Layout l = scene.layout();
        c.blend(l.panelX(), l.panelY(), l.panelW(), l.panelH(), PANEL_BG, PANEL_ALPHA);
        int x = l.panelX() + l.pad();
        int y = l.panelY() + l.pad();
        String label = scene.text().truncated() ? "prompt (shortened):" : "prompt:";
        BitmapFont.draw(c, label, x, y, l.smallScale(), BANNER_FG);
        y += l.smallScale() * BitmapFont.LINE;
        TextLayout.Block block = scene.text();
        int lineH = block.scale() * BitmapFont.LINE;
        for (String line : block.lines()) {
            BitmapFont.draw(c, line, x, y, block.scale(), TEXT_FG);
            y += lineH;
        }
    }

    private static void drawReferences(Canvas c, Scene scene) {
        List<Thumbnail> thumbs = scene.thumbnails();
        if (thumbs.isEmpty()) {
            return;
        }
        Layout l = scene.layout();
        int box = l.box();
        int rowW = thumbs.size() * box + (thumbs.size() - 1) * l.gap();
        int x0 = (c.width - rowW) / 2;
        int y = l.refsTop();
        int s = l.smallScale();
        int labelCols = TextLayout.columns(box, s);
        for (int i = 0; i < thumbs.size(); i++) {
            Thumbnail t = thumbs.get(i);
            int x = x0 + i * (box + l.gap());
            int inner = box - 2 * l.rule();
            String label;
            if (t.readable()) {
                c.fill(x + l.rule(), y + l.rule(), inner, inner, THUMB_BG);
                c.blit(t.pixels(), t.width(), t.height(),
                        x + l.rule() + (inner - t.width()) / 2, y + l.rule() + (inner - t.height()) / 2);
                label = "ref " + (i + 1) + " " + t.sourceWidth() + "x" + t.sourceHeight();
            } else {
                c.fill(x + l.rule(), y + l.rule(), inner, inner, PLACEHOLDER_BG);
                c.line(x, y, x + box - 1, y + box - 1, l.rule(), PLACEHOLDER_FG);
                c.line(x + box - 1, y, x, y + box - 1, l.rule(), PLACEHOLDER_FG);
                String word = TextLayout.clip("unreadable", TextLayout.columns(inner, s));
                int ww = BitmapFont.width(word.length(), s);
                c.fill(x + (box - ww) / 2 - s * 2, y + (box - BitmapFont.GLYPH_H * s) / 2 - s * 2,
                        ww + s * 4, (BitmapFont.GLYPH_H + 4) * s, PLACEHOLDER_BG);
                BitmapFont.draw(c, word, x + (box - ww) / 2, y + (box - BitmapFont.GLYPH_H * s) / 2, s, TEXT_FG);
                label = "ref " + (i + 1) + " (error)";
            }
            c.frame(x, y, box, box, l.rule(), FRAME);
            c.blend(x, y + box, box, (BitmapFont.LINE + 1) * s, PANEL_BG, PANEL_ALPHA);
            BitmapFont.draw(c, TextLayout.clip(label, labelCols), x, y + box + 2 * s, s, LABEL_FG);
        }
    }

    private static void drawFooter(Canvas c, Scene scene, int index) {
        Layout l = scene.layout();
        int top = c.height - l.footerH();
        c.fill(0, top, c.width, l.footerH(), BANNER_BG);
        String footer = "genqueue preview renderer | " + c.width + "x" + c.height
                + " | image " + (index + 1) + "/" + scene.count()
                + (scene.seed() == null ? "" : " | seed " + scene.seed());
        int s = l.smallScale();
        String clipped = TextLayout.clip(footer, TextLayout.columns(c.width - 2 * l.margin(), s));
        BitmapFont.draw(c, clipped, l.margin(), top + (l.footerH() - BitmapFont.GLYPH_H * s) / 2, s, LABEL_FG);
    }

    /** Decodes a reference and scales it (nearest neighbour) to fit a {@code size} square. */
    static Thumbnail thumbnail(ImageData ref, int size) {
        BufferedImage image;
        try {
            if (ref == null || ref.bytes() == null) {
                return Thumbnail.UNREADABLE;
            }
            ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(ref.bytes()));
            image = ImageIO.read(in); // closes the stream
        } catch (Exception | LinkageError e) {
            return Thumbnail.UNREADABLE;
        }
        if (image == null || image.getWidth() < 1 || image.getHeight() < 1 || size < 1) {
            return Thumbnail.UNREADABLE;
        }
        int sw = image.getWidth();
        int sh = image.getHeight();
        int tw;
        int th;
        if (sw >= sh) {
            tw = size;
            th = (int) Math.max(1, Math.round((double) sh * size / sw));
        } else {
            th = size;
            tw = (int) Math.max(1, Math.round((double) sw * size / sh));
        }
        int[] out = new int[tw * th];
        int[] srcX = new int[tw];
        for (int x = 0; x < tw; x++) {
            srcX[x] = (int) (((2L * x + 1) * sw) / (2L * tw));
        }
        try {
            for (int y = 0; y < th; y++) {
                int sy = (int) (((2L * y + 1) * sh) / (2L * th));
                for (int x = 0; x < tw; x++) {
                    int argb = image.getRGB(srcX[x], sy);
                    int alpha = argb >>> 24;
                    out[y * tw + x] = alpha == 255
                            ? argb & 0xFFFFFF
                            : Canvas.mix(THUMB_BG, argb & 0xFFFFFF, alpha + (alpha >> 7));
                }
            }
        } catch (RuntimeException e) {
            return Thumbnail.UNREADABLE; // exotic colour models can fail on conversion
        }
        return new Thumbnail(out, tw, th, sw, sh);
    }

    /** Seed for one image: a hash of the prompt, the client's seed and the image index. */
    static long seedOf(String prompt, Long seed, int index) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update("genqueue-preview-v1\u0000".getBytes(StandardCharsets.UTF_8));
            sha.update(prompt.getBytes(StandardCharsets.UTF_8));
            sha.update(("\u0000" + (seed == null ? "-" : seed.toString()) + "\u0000" + index)
                    .getBytes(StandardCharsets.UTF_8));
            byte[] d = sha.digest();
            long v = 0;
            for (int i = 0; i < 8; i++) {
                v = (v << 8) | (d[i] & 0xFF);
            }
            return v;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }

    /** HSV (hue in degrees, saturation and value in percent) to RGB. */
    static int hsv(int hue, int sat, int val) {
        int v = val * 255 / 100;
        int m = v * (100 - sat) / 100;
        int sector = hue / 60;
        int f = (hue % 60) * 256 / 60;
        int rising = m + (v - m) * f / 256;
        int falling = v - (v - m) * f / 256;
        int r;
        int g;
        int b;
        switch (sector) {
            case 0 -> { r = v; g = rising; b = m; }
            case 1 -> { r = falling; g = v; b = m; }
            case 2 -> { r = m; g = v; b = rising; }
            case 3 -> { r = m; g = falling; b = v; }
            case 4 -> { r = rising; g = m; b = v; }
            default -> { r = v; g = m; b = falling; }
        }
        return (r << 16) | (g << 8) | b;
    }

    private static int lerp(int a, int b, int t) {
        return Canvas.mix(a, b, Math.min(256, Math.max(0, t)));
    }

    /** SplitMix64: a tiny generator whose output is fixed by its definition, not by the JDK. */
    static final class SplitMix {
        private long state;

        SplitMix(long seed) {
            this.state = seed;
        }

        long nextLong() {
            long z = (state += 0x9E3779B97F4A7C15L);
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            return z ^ (z >>> 31);
        }

        int nextInt(int bound) {
            return (int) Math.floorMod(nextLong(), (long) bound);
        }
    }
}
