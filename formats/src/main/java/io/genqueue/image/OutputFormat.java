package io.genqueue.image;

import java.util.Optional;

/** The image formats a client may ask for ({@code output_format}). */
public enum OutputFormat {
    PNG("png", "image/png", "png"),
    JPEG("jpeg", "image/jpeg", "jpg"),
    WEBP("webp", "image/webp", "webp");

    private final String wire;
    private final String contentType;
    private final String extension;

    OutputFormat(String wire, String contentType, String extension) {
        this.wire = wire;
        this.contentType = contentType;
        this.extension = extension;
    }

    public String wire() {
        return wire;
    }

    public String contentType() {
        return contentType;
    }

    /** File name extension, without the dot. */
    public String extension() {
        return extension;
    }

    public static Optional<OutputFormat> fromWire(String value) {
        for (OutputFormat f : values()) {
            if (f.wire.equals(value)) {
                return Optional.of(f);
            }
        }
        return Optional.empty();
    }
}
