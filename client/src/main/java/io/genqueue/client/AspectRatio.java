package io.genqueue.client;

import java.util.Optional;

/** The model's aspect ratios, each with its fixed resolution (the contract's table). */
public enum AspectRatio {
    SQUARE("1:1", "1024x1024"),
    PORTRAIT_2_3("2:3", "832x1248"),
    LANDSCAPE_3_2("3:2", "1248x832"),
    PORTRAIT_3_4("3:4", "864x1184"),
    LANDSCAPE_4_3("4:3", "1184x864"),
    PORTRAIT_4_5("4:5", "896x1152"),
    LANDSCAPE_5_4("5:4", "1152x896"),
    PORTRAIT_9_16("9:16", "768x1344"),
    LANDSCAPE_16_9("16:9", "1344x768"),
    WIDE_21_9("21:9", "1536x672");

    private final String wire;
    private final String resolution;

    AspectRatio(String wire, String resolution) {
        this.wire = wire;
        this.resolution = resolution;
    }

    /** As the API writes it: {@code 16:9}. */
    public String wire() {
        return wire;
    }

    /** Width x height in pixels: {@code 1344x768}. */
    public String resolution() {
        return resolution;
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
            if (r.resolution.equals(value)) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }
}
