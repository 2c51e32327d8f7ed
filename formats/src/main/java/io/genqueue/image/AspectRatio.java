package io.genqueue.image;

import java.util.Optional;

/**
 * The ten aspect ratios of gemini-2.5-flash-image and the one output size each has (the model's
 * fixed table; successor models use other sizes, so this table belongs to the model, not to us).
 */
public enum AspectRatio {
    R1_1("1:1", 1024, 1024),
    R2_3("2:3", 832, 1248),
    R3_2("3:2", 1248, 832),
    R3_4("3:4", 864, 1184),
    R4_3("4:3", 1184, 864),
    R4_5("4:5", 896, 1152),
    R5_4("5:4", 1152, 896),
    R9_16("9:16", 768, 1344),
    R16_9("16:9", 1344, 768),
    R21_9("21:9", 1536, 672);

    private final String wire;
    private final int width;
    private final int height;

    AspectRatio(String wire, int width, int height) {
        this.wire = wire;
        this.width = width;
        this.height = height;
    }

    /** The value as the API spells it, e.g. {@code "16:9"}. */
    public String wire() {
        return wire;
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    /** The resolution as the API spells it, e.g. {@code "1344x768"}. */
    public String resolution() {
        return width + "x" + height;
    }

    public static Optional<AspectRatio> fromWire(String value) {
        for (AspectRatio r : values()) {
            if (r.wire.equals(value)) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }

    public static Optional<AspectRatio> fromResolution(String value) {
        for (AspectRatio r : values()) {
            if (r.resolution().equals(value)) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }

    /** The ratio closest to {@code width:height} (compared on a log scale, so 2:1 and 1:2 are symmetric). */
    public static AspectRatio nearest(int width, int height) {
        return nearest(width, height, java.util.List.of(values()));
    }

    /** The ratio of {@code among} closest to {@code width:height}, as {@link #nearest(int, int)}. */
    public static AspectRatio nearest(int width, int height, java.util.Collection<AspectRatio> among) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("size must be positive: " + width + "x" + height);
        }
        double target = Math.log((double) width / height);
        AspectRatio best = among.contains(R1_1) || among.isEmpty() ? R1_1 : among.iterator().next();
        double bestDistance = Double.MAX_VALUE;
        for (AspectRatio r : among) {
            double distance = Math.abs(Math.log((double) r.width / r.height) - target);
            if (distance < bestDistance) {
                best = r;
                bestDistance = distance;
            }
        }
        return best;
    }
}
