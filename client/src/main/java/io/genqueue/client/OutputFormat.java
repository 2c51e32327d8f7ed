package io.genqueue.client;

import java.util.Locale;
import java.util.Optional;

/** The image formats a request can ask for ({@code output_format}). */
public enum OutputFormat {
    PNG, JPEG, WEBP;

    /** As the API writes it: {@code png}. */
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<OutputFormat> fromWire(String value) {
        for (OutputFormat f : values()) {
            if (f.wire().equals(value)) {
                return Optional.of(f);
            }
        }
        return Optional.empty();
    }
}
