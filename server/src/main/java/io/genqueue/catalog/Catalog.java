package io.genqueue.catalog;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.image.AspectRatio;
import io.genqueue.image.OutputFormat;
import io.genqueue.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The models this process serves: the built-in ones (the resource {@value #BUILT_IN}), those of a
 * catalog file ({@code GENQUEUE_CATALOG}, the same format) added or replacing a built-in one of the
 * same id as a whole, narrowed to the ids {@code GENQUEUE_MODELS} names (all when it names none).
 *
 * <p>The format: {@code {"models": [ {model}, ... ]}} with, per model, {@code id}, {@code description},
 * {@code source} (a string or a list of them), {@code fields}, {@code aspect_ratios}, {@code image_sizes},
 * {@code sizes} ({@code {tier: {ratio: "WxH"}}}, every ratio in every tier), {@code max_reference_images},
 * {@code num_images} ({@code {"min", "max"}}), {@code output_formats}, {@code providers}
 * ({@code [{"provider", "model", "sends_image_size"}]}), {@code slot_share} and {@code price_per_image}.
 * Every key is required except {@code sends_image_size} (false); an unknown key is an error, so a
 * misspelt one is not silently a default. Any key starting with {@code "//"} is a comment. The file is
 * read once, at the start; a fault stops the start with a message naming the model and the field.
 */
public final class Catalog {

    static final String BUILT_IN = "/catalog/models.json";
    private static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,63}");
    private static final Pattern RESOLUTION = Pattern.compile("([1-9][0-9]{1,4})x([1-9][0-9]{1,4})");
    private static final Set<String> KEYS = Set.of("id", "description", "source", "fields", "aspect_ratios", "image_sizes", "sizes",
            "max_reference_images", "num_images", "output_formats", "providers", "slot_share", "price_per_image");

    private final Map<String, Model> models;

    private Catalog(Map<String, Model> models) {
        this.models = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(models)); // the catalog's order
    }

    /**
     * The built-in models, then those of {@code file} (when given), narrowed to {@code served} (all
     * when empty).
     *
     * @throws CatalogException naming the file, the model and the field at fault, or an id of
     *     {@code served} that no catalog has
     */
    public static Catalog load(Optional<Path> file, Set<String> served) {
        Map<String, Model> all = new LinkedHashMap<>(builtIn());
        if (file.isPresent()) {
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(file.get());
            } catch (IOException e) {
                throw new CatalogException("GENQUEUE_CATALOG: cannot read " + file.get() + ": " + e.getMessage());
            }
            all.putAll(parse(file.get().toString(), bytes));
        }
        if (served.isEmpty()) {
            return new Catalog(all);
        }
        Map<String, Model> chosen = new LinkedHashMap<>();
        for (String id : served) {
            Model m = all.get(id);
            if (m == null) {
                throw new CatalogException("GENQUEUE_MODELS: names " + id + ", which no catalog has (it has "
                        + String.join(", ", all.keySet().stream().sorted().toList()) + ")");
            }
            chosen.put(id, m);
        }
        return new Catalog(chosen);
    }

    /** The built-in models only. */
    public static Catalog builtInOnly() {
        return new Catalog(builtIn());
    }

    private static Map<String, Model> builtIn() {
        try (InputStream in = Catalog.class.getResourceAsStream(BUILT_IN)) {
            if (in == null) {
                throw new IllegalStateException("the jar lacks " + BUILT_IN);
            }
            return parse("built-in " + BUILT_IN, in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The models of one catalog document, by id, in the document's order. */
    static Map<String, Model> parse(String origin, byte[] bytes) {
        JsonNode root;
        try {
            root = Json.parse(bytes);
        } catch (JsonProcessingException e) {
            throw new CatalogException("catalog " + origin + ": not valid JSON: " + e.getOriginalMessage());
        }
        JsonNode list = root.get("models");
        if (!root.isObject() || list == null || !list.isArray()) {
            throw new CatalogException("catalog " + origin + ": should be an object with a list \"models\"");
        }
        Map<String, Model> out = new LinkedHashMap<>();
        for (int i = 0; i < list.size(); i++) {
            JsonNode node = list.get(i);
            String where = "catalog " + origin + ": model " + (node.path("id").isTextual() ? "'" + node.get("id").textValue() + "'"
                    : "#" + (i + 1));
            Model m = new Reader(where, node).model();
            if (out.put(m.id(), m) != null) {
                throw new CatalogException(where + ": field 'id': listed twice");
            }
        }
        return out;
    }

    /** Every served model, sorted by id. */
    public List<Model> models() {
        return models.values().stream().sorted(java.util.Comparator.comparing(Model::id)).toList();
    }

    public Optional<Model> find(String id) {
        return Optional.ofNullable(id == null ? null : models.get(id));
    }

    /** The served ids, in the catalog's order (the built-in models first, as the file lists them). */
    public Set<String> ids() {
        return models.keySet();
    }

    /** Reads one model entry; each fault names the entry and its field. */
    private record Reader(String where, JsonNode node) {

        Model model() {
            if (!node.isObject()) {
                throw fault("models", "should be an object");
            }
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                String key = it.next();
                if (!KEYS.contains(key) && !key.startsWith("//")) {
                    throw fault(key, "unknown field (known: " + String.join(", ", KEYS.stream().sorted().toList()) + ")");
                }
            }
            String id = text("id");
            if (!ID.matcher(id).matches()) {
                throw fault("id", "'" + id + "' is not a model id (lowercase letters, digits, '_', '.', '-')");
            }
            String description = text("description");
            List<String> source = node.path("source").isArray() ? texts("source") : List.of(text("source"));
            Set<String> fields = new LinkedHashSet<>(texts("fields"));
            for (String f : fields) {
                if (!Model.FIELDS.contains(f)) {
                    throw fault("fields", "'" + f + "' is not a submit field (" + String.join(", ", Model.FIELDS) + ")");
                }
            }
            if (!fields.contains("prompt")) {
                throw fault("fields", "must contain 'prompt'");
            }
            List<AspectRatio> ratios = new ArrayList<>();
            for (String r : nonEmpty("aspect_ratios")) {
                ratios.add(AspectRatio.fromWire(r).orElseThrow(() -> fault("aspect_ratios", "'" + r + "' is not an aspect ratio")));
            }
            List<String> tiers = nonEmpty("image_sizes");
            for (String t : tiers) {
                if (!t.matches("[0-9]{1,2}K")) {
                    throw fault("image_sizes", "'" + t + "' is not a size tier such as '1K'");
                }
            }
            List<OutputSize> sizes = sizes(ratios, tiers);
            int maxRefs = integer("max_reference_images", 0, 64);
            JsonNode n = required("num_images");
            if (!n.isObject()) {
                throw fault("num_images", "should be an object {\"min\", \"max\"}");
            }
            int min = new Reader(where, n).integerAs("num_images.min", "min", 1, 16);
            int max = new Reader(where, n).integerAs("num_images.max", "max", 1, 16);
            if (max < min) {
                throw fault("num_images", "max " + max + " is below min " + min);
            }
            List<OutputFormat> formats = new ArrayList<>();
            for (String f : nonEmpty("output_formats")) {
                formats.add(OutputFormat.fromWire(f).orElseThrow(() -> fault("output_formats", "'" + f + "' is not png, jpeg or webp")));
            }
            List<ProviderRoute> providers = providers();
            JsonNode share = required("slot_share");
            if (!share.isNumber() || share.doubleValue() <= 0 || share.doubleValue() > 1) {
                throw fault("slot_share", "should be a number above 0 and at most 1 (a fraction of the worker slots)");
            }
            JsonNode price = required("price_per_image");
            if (!price.isNumber() || price.decimalValue().signum() < 0) {
                throw fault("price_per_image", "should be a number of US dollars, 0 or more");
            }
            return new Model(id, description, fields, ratios, tiers, sizes, maxRefs, min, max, formats, providers,
                    share.doubleValue(), new BigDecimal(price.asText()), source);
        }

        private List<OutputSize> sizes(List<AspectRatio> ratios, List<String> tiers) {
            JsonNode table = required("sizes");
            if (!table.isObject()) {
                throw fault("sizes", "should be an object {tier: {aspect ratio: \"WxH\"}}");
            }
            List<OutputSize> out = new ArrayList<>();
            Set<String> seen = new LinkedHashSet<>();
            for (String tier : tiers) {
                JsonNode row = table.get(tier);
                if (row == null || !row.isObject()) {
                    throw fault("sizes", "lacks the tier " + tier + " of image_sizes");
                }
                for (AspectRatio r : ratios) {
                    JsonNode v = row.get(r.wire());
                    var m = v != null && v.isTextual() ? RESOLUTION.matcher(v.textValue()) : null;
                    if (m == null || !m.matches()) {
                        throw fault("sizes." + tier + "." + r.wire(), v == null ? "missing" : "should be \"WIDTHxHEIGHT\"");
                    }
                    if (!seen.add(v.textValue())) {
                        throw fault("sizes." + tier + "." + r.wire(), v.textValue() + " is listed twice; a resolution must name one entry");
                    }
                    out.add(new OutputSize(r, tier, Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))));
                }
                if (row.size() != ratios.size()) {
                    throw fault("sizes." + tier, "has an aspect ratio that aspect_ratios does not list");
                }
            }
            if (table.size() != tiers.size()) {
                throw fault("sizes", "has a tier that image_sizes does not list");
            }
            return out;
        }

        private List<ProviderRoute> providers() {
            JsonNode list = required("providers");
            if (!list.isArray()) {
                throw fault("providers", "should be a list");
            }
            List<ProviderRoute> out = new ArrayList<>();
            for (int i = 0; i < list.size(); i++) {
                JsonNode p = list.get(i);
                String f = "providers[" + i + "]";
                if (!p.isObject() || !p.path("provider").isTextual() || !p.path("model").isTextual() || p.get("model").textValue().isBlank()) {
                    throw fault(f, "should be {\"provider\": \"gemini|openrouter|fal\", \"model\": \"upstream id\"}");
                }
                for (Iterator<String> it = p.fieldNames(); it.hasNext(); ) {
                    String key = it.next();
                    if (!Set.of("provider", "model", "sends_image_size").contains(key) && !key.startsWith("//")) {
                        throw fault(f + "." + key, "unknown field (known: provider, model, sends_image_size)");
                    }
                }
                String name = p.get("provider").textValue();
                if (!ProviderRoute.PROVIDERS.contains(name)) {
                    throw fault(f + ".provider", "'" + name + "' is not one of " + String.join(", ", ProviderRoute.PROVIDERS));
                }
                JsonNode sends = p.get("sends_image_size");
                if (sends != null && !sends.isBoolean()) {
                    throw fault(f + ".sends_image_size", "should be true or false");
                }
                if (out.stream().anyMatch(r -> r.provider().equals(name))) {
                    throw fault(f + ".provider", name + " is listed twice");
                }
                out.add(new ProviderRoute(name, p.get("model").textValue().strip(), sends != null && sends.booleanValue()));
            }
            return out;
        }

        private JsonNode required(String field) {
            JsonNode v = node.get(field);
            if (v == null || v.isNull()) {
                throw fault(field, "missing");
            }
            return v;
        }

        private String text(String field) {
            JsonNode v = required(field);
            if (!v.isTextual() || v.textValue().isBlank()) {
                throw fault(field, "should be a non-empty string");
            }
            return v.textValue();
        }

        private List<String> texts(String field) {
            JsonNode v = required(field);
            if (!v.isArray()) {
                throw fault(field, "should be a list of strings");
            }
            List<String> out = new ArrayList<>();
            for (JsonNode item : v) {
                if (!item.isTextual()) {
                    throw fault(field, "should be a list of strings");
                }
                if (out.contains(item.textValue())) {
                    throw fault(field, "'" + item.textValue() + "' is listed twice");
                }
                out.add(item.textValue());
            }
            return out;
        }

        private List<String> nonEmpty(String field) {
            List<String> values = texts(field);
            if (values.isEmpty()) {
                throw fault(field, "should list at least one value");
            }
            return values;
        }

        private int integer(String field, int min, int max) {
            return integerAs(field, field, min, max);
        }

        private int integerAs(String name, String field, int min, int max) {
            JsonNode v = node.get(field);
            if (v == null || !v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < min || v.intValue() > max) {
                throw fault(name, v == null ? "missing" : "should be a whole number from " + min + " to " + max);
            }
            return v.intValue();
        }

        private CatalogException fault(String field, String problem) {
            return new CatalogException(where + ": field '" + field + "': " + problem);
        }
    }
}
