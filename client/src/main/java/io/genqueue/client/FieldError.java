package io.genqueue.client;

import java.util.List;
import java.util.stream.Collectors;

/**
 * One entry of a 422 detail: where ({@code loc}, such as {@code ["body","image_urls",2]}), what is
 * wrong ({@code msg}), and its kind ({@code type}, such as {@code string_too_long}).
 */
public record FieldError(List<Object> loc, String msg, String type) {

    public FieldError {
        loc = List.copyOf(loc);
    }

    static FieldError body(String field, String msg, String type) {
        return new FieldError(List.of("body", field), msg, type);
    }

    /** The location without its leading {@code body}: {@code image_urls.2}. */
    public String field() {
        List<Object> rest = !loc.isEmpty() && "body".equals(loc.get(0)) ? loc.subList(1, loc.size()) : loc;
        return rest.stream().map(String::valueOf).collect(Collectors.joining("."));
    }

    @Override
    public String toString() {
        return field() + ": " + msg;
    }
}
