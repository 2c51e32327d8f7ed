package io.genqueue.http;

import io.genqueue.image.AspectRatio;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * OpenAI's {@code size} in terms of one model's output sizes: the one place that maps it. Each
 * allowed size stands for the submit fields that ask the model for it ({@code aspect_ratio}, and
 * whatever else a model's table needs). Allowed are {@code auto} (no fields: the model decides, 1:1 or
 * the first reference image's shape), OpenAI's own {@code 1024x1024}, {@code 1536x1024} and
 * {@code 1024x1536} (the model's nearest ratio), and every size of the model's table itself
 * ({@code 1344x768} for 16:9). Fed from the model's table, so another model's table changes only
 * what is built here.
 */
final class OpenAiSizes {

    /** OpenAI's sizes for its image models, besides {@code auto}. */
    static final List<String> OPENAI = List.of("1024x1024", "1536x1024", "1024x1536");

    private final Map<String, Map<String, Object>> fields;

    private OpenAiSizes(Map<String, Map<String, Object>> fields) {
        this.fields = fields;
    }

    /** The sizes of a model whose output size is fixed by its aspect ratio ({@code nano_banana}'s table). */
    static OpenAiSizes of(List<AspectRatio> table) {
        Map<String, Map<String, Object>> fields = new LinkedHashMap<>();
        fields.put("auto", Map.of());
        for (String size : OPENAI) {
            String[] wh = size.split("x");
            fields.put(size, Map.of("aspect_ratio", AspectRatio.nearest(Integer.parseInt(wh[0]), Integer.parseInt(wh[1])).wire()));
        }
        for (AspectRatio ratio : table) {
            fields.putIfAbsent(ratio.resolution(), Map.of("aspect_ratio", ratio.wire()));
        }
        return new OpenAiSizes(fields);
    }

    /** The submit fields that ask for {@code size}; empty when the model has no such size. */
    Optional<Map<String, Object>> fields(String size) {
        return Optional.ofNullable(fields.get(size));
    }

    /** Every size allowed, in the order the error message lists them. */
    List<String> allowed() {
        return new ArrayList<>(fields.keySet());
    }
}
