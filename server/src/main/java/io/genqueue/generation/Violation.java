package io.genqueue.generation;

import java.util.List;

/**
 * One rule a request broke, in the contract's 422 detail shape: where ({@code loc}, e.g.
 * {@code ["body","image_urls",2]}), what a person should know ({@code msg}), and a machine-readable
 * {@code type}.
 */
public record Violation(List<Object> loc, String msg, String type) {

    public Violation {
        loc = List.copyOf(loc);
    }

    public static Violation body(String field, String msg, String type) {
        return new Violation(List.of("body", field), msg, type);
    }
}
