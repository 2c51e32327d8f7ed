package io.genqueue.generation;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.catalog.Model;
import io.genqueue.catalog.OutputSize;
import io.genqueue.image.AspectRatio;
import io.genqueue.image.DataUri;
import io.genqueue.image.ImageProbe;
import io.genqueue.image.ImageRejectedException;
import io.genqueue.image.OutputFormat;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Checks a submit body against every rule of the contract and of one model's record, and reports all
 * violations at once. One instance per served model: the aspect ratios, size tiers, sizes, reference
 * image limit, {@code num_images} range and formats are the {@link Model}'s, so every model goes
 * through this one path. Unknown fields are ignored (clients send fields of other versions), and so
 * are fields the model does not take ({@link Model#fields}); unknown values of known fields are
 * refused. A JSON {@code null} counts as an absent field.
 *
 * <p>Reference images given as data URIs are decoded and their header probed here, since that is
 * cheap; http(s) images are fetched later by the worker.
 */
public final class InputValidator {

    public static final int MAX_PROMPT_CODE_POINTS = 2500;
    /** Longer than any sane URL; keeps stored jobs and log lines bounded. */
    static final int MAX_URL_LENGTH = 8192;

    private final Model model;
    private final String aspectRatios;
    private final String resolutions;
    private final String imageSizes;
    private final Set<OutputFormat> availableFormats;
    private final String providerName;
    private final long maxImageBytes;
    private final long maxPixels;

    /**
     * @param model the rules
     * @param availableFormats the output formats the model's configured providers can deliver
     * @param providerName named in the message that refuses another format
     * @param maxImageBytes the most bytes one reference image may have
     * @param maxPixels the most pixels one reference image may have
     */
    public InputValidator(Model model, Set<OutputFormat> availableFormats, String providerName, long maxImageBytes, long maxPixels) {
        this.model = model;
        this.aspectRatios = quoted(model.aspectRatios().stream().map(AspectRatio::wire).toList());
        this.resolutions = quoted(model.outputSizes().stream().map(OutputSize::resolution).toList());
        this.imageSizes = quoted(model.imageSizes());
        EnumSet<OutputFormat> formats = EnumSet.noneOf(OutputFormat.class);
        formats.addAll(availableFormats);
        formats.retainAll(model.outputFormats());
        this.availableFormats = Set.copyOf(formats);
        this.providerName = providerName;
        this.maxImageBytes = maxImageBytes;
        this.maxPixels = maxPixels;
    }

    /** The model whose rules these are. */
    public Model model() {
        return model;
    }

    /** The output formats a request may ask for: the model's, as far as its providers make them. */
    public Set<OutputFormat> outputFormats() {
        return availableFormats;
    }

    /**
     * The submit body this validator takes, as a JSON Schema (2020-12) object: the fields the model
     * takes with their types, enumerations and bounds. What {@code GET /v1/models} shows; the rules
     * a schema cannot say (a resolution that must agree with the aspect ratio, prompt not only white
     * space) are in the fields' descriptions.
     */
    public Map<String, Object> schema() {
        Map<String, Object> props = new LinkedHashMap<>();
        props.put("prompt", Map.of("type", "string", "minLength", 1, "maxLength", MAX_PROMPT_CODE_POINTS,
                "description", "What to make; not only white space (length in Unicode code points)."));
        props.put("image_urls", Map.of("type", "array", "maxItems", model.maxReferenceImages(),
                "items", Map.of("type", "string", "description", "an http(s) URL or a data:image/...;base64, URI"),
                "description", "Reference images, at most " + model.maxReferenceImages() + "."));
        props.put("aspect_ratio", Map.of("type", "string", "enum", model.aspectRatios().stream().map(AspectRatio::wire).toList()));
        props.put("image_size", Map.of("type", "string", "enum", model.imageSizes(), "default", model.defaultImageSize(),
                "description", "The size tier; with aspect_ratio it decides the output size (see the model's output_sizes)."));
        props.put("resolution", Map.of("type", "string", "enum", model.outputSizes().stream().map(OutputSize::resolution).distinct().toList(),
                "description", "An output size; implies its aspect ratio and tier, and must agree with them when they are given."));
        props.put("response_modalities", Map.of("type", "array", "minItems", 1, "uniqueItems", true,
                "items", Map.of("type", "string", "enum", List.of("Text", "Image")), "default", List.of("Text", "Image"),
                "description", "Must contain Image."));
        props.put("num_images", Map.of("type", "integer", "minimum", model.minNumImages(), "maximum", model.maxNumImages(),
                "default", model.minNumImages()));
        props.put("output_format", Map.of("type", "string", "enum", model.outputFormats().stream()
                .filter(availableFormats::contains).map(OutputFormat::wire).toList(), "default", "png"));
        props.put("seed", Map.of("type", "integer", "minimum", 0, "maximum", Integer.MAX_VALUE));
        props.put("sync_mode", Map.of("type", "boolean", "default", false));
        props.keySet().retainAll(model.fields());
        Map<String, Object> schema = new LinkedHashMap<>();
        schema.put("$schema", "https://json-schema.org/draft/2020-12/schema");
        schema.put("type", "object");
        schema.put("required", List.of("prompt"));
        schema.put("properties", props);
        return schema;
    }

    /**
     * @throws ValidationException listing every violation
     */
    public GenerationInput validate(JsonNode body) {
        List<Violation> violations = new ArrayList<>();
        if (!body.isObject()) {
            throw new ValidationException(List.of(new Violation(List.of("body"),
                    "Input should be a JSON object", "model_attributes_type")));
        }
        String prompt = prompt(field(body, "prompt"), violations);
        List<String> imageUrls = imageUrls(field(body, "image_urls"), violations);
        OutputSize size = size(body, violations);
        boolean includeText = responseModalities(field(body, "response_modalities"), violations);
        int numImages = numImages(field(body, "num_images"), violations);
        OutputFormat format = outputFormat(field(body, "output_format"), violations);
        Long seed = seed(field(body, "seed"), violations);
        boolean syncMode = syncMode(field(body, "sync_mode"), violations);
        if (!violations.isEmpty()) {
            throw new ValidationException(violations);
        }
        String tier = size.imageSize() == null || size.imageSize().equals(model.defaultImageSize()) ? null : size.imageSize();
        return GenerationInput.builder(prompt).imageUrls(imageUrls).aspectRatio(size.aspectRatio()).imageSize(tier)
                .includeText(includeText).numImages(numImages).outputFormat(format).seed(seed).syncMode(syncMode).build();
    }

    /** The field's value, or null when it is absent, JSON null, or a field the model does not take. */
    private JsonNode field(JsonNode body, String name) {
        if (!model.takes(name)) {
            return null;
        }
        JsonNode value = body.get(name);
        return value == null || value.isNull() ? null : value;
    }

    private static String prompt(JsonNode node, List<Violation> out) {
        if (node == null) {
            out.add(Violation.body("prompt", "Field required", "missing"));
            return null;
        }
        if (!node.isTextual()) {
            out.add(Violation.body("prompt", "Input should be a valid string", "string_type"));
            return null;
        }
        String prompt = node.textValue();
        if (hasLoneSurrogate(prompt)) {
            out.add(Violation.body("prompt", "prompt contains invalid Unicode (an unpaired surrogate)", "string_unicode"));
            return null;
        }
        int length = prompt.codePointCount(0, prompt.length());
        if (length < 1) {
            out.add(Violation.body("prompt", "String should have at least 1 character", "string_too_short"));
        } else if (length > MAX_PROMPT_CODE_POINTS) {
            out.add(Violation.body("prompt", "String should have at most " + MAX_PROMPT_CODE_POINTS
                    + " characters (it has " + length + ")", "string_too_long"));
        } else if (prompt.isBlank()) {
            out.add(Violation.body("prompt", "prompt must not be only white space", "value_error"));
        }
        return prompt;
    }

    private List<String> imageUrls(JsonNode node, List<Violation> out) {
        if (node == null) {
            return List.of();
        }
        if (!node.isArray()) {
            out.add(Violation.body("image_urls", "Input should be a valid list", "list_type"));
            return List.of();
        }
        if (node.size() > model.maxReferenceImages()) {
            out.add(Violation.body("image_urls", "List should have at most " + model.maxReferenceImages()
                    + " items (it has " + node.size() + ")", "too_long"));
            return List.of();
        }
        List<String> urls = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode item = node.get(i);
            List<Object> loc = List.of("body", "image_urls", i);
            if (!item.isTextual()) {
                out.add(new Violation(loc, "Input should be a valid string", "string_type"));
                continue;
            }
            String url = item.textValue();
            String problem = DataUri.looksLikeDataUri(url) ? dataUriProblem(url) : httpUrlProblem(url);
            if (problem != null) {
                out.add(new Violation(loc, problem, DataUri.looksLikeDataUri(url) ? "image_invalid" : "url_parsing"));
            }
            urls.add(url);
        }
        return urls;
    }

    private String dataUriProblem(String url) {
        try {
            DataUri uri = DataUri.parse(url, maxImageBytes);
            ImageProbe.probe(uri.bytes(), maxPixels);
            return null;
        } catch (IllegalArgumentException | ImageRejectedException e) {
            return e.getMessage();
        }
    }

    private static String httpUrlProblem(String url) {
        if (url.length() > MAX_URL_LENGTH) {
            return "URL is longer than " + MAX_URL_LENGTH + " characters";
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            return "Input should be a valid URL: " + e.getReason();
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            return "URL scheme should be 'http', 'https' or 'data'";
        }
        if (uri.getRawUserInfo() != null) {
            return "URL must not contain a user name or password";
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            return "URL should have a host";
        }
        return null;
    }

    /** The requested ratio and tier: a null ratio when neither {@code aspect_ratio} nor {@code resolution} is given. */
    private OutputSize size(JsonNode body, List<Violation> out) {
        AspectRatio fromRatio = enumField(field(body, "aspect_ratio"), "aspect_ratio", aspectRatios,
                v -> AspectRatio.fromWire(v).filter(model.aspectRatios()::contains), out);
        OutputSize fromResolution = enumField(field(body, "resolution"), "resolution", resolutions, model::sizeOf, out);
        String tier = enumField(field(body, "image_size"), "image_size", imageSizes,
                v -> model.imageSizes().contains(v) ? java.util.Optional.of(v) : java.util.Optional.empty(), out);
        if (fromResolution != null) {
            if (fromRatio != null && fromRatio != fromResolution.aspectRatio()) {
                String which = model.size(fromRatio, tier != null ? tier : fromResolution.imageSize()).map(OutputSize::resolution).orElse("?");
                out.add(Violation.body("resolution", "resolution " + fromResolution.resolution() + " does not match aspect_ratio "
                        + fromRatio.wire() + " (which is " + which + ")", "value_error"));
            } else if (tier != null && !tier.equals(fromResolution.imageSize())) {
                out.add(Violation.body("resolution", "resolution " + fromResolution.resolution() + " does not match image_size "
                        + tier + " (it is " + fromResolution.imageSize() + ")", "value_error"));
            }
            return new OutputSize(fromResolution.aspectRatio(), fromResolution.imageSize(), 0, 0);
        }
        return new OutputSize(fromRatio, tier, 0, 0);
    }

    private static <T> T enumField(JsonNode node, String name, String allowed,
            java.util.function.Function<String, java.util.Optional<T>> parse, List<Violation> out) {
        if (node == null) {
            return null;
        }
        if (node.isTextual()) {
            var value = parse.apply(node.textValue());
            if (value.isPresent()) {
                return value.get();
            }
        }
        out.add(Violation.body(name, "Input should be " + allowed, "enum"));
        return null;
    }

    /** True when the modalities include Text; the default is Text and Image. */
    private static boolean responseModalities(JsonNode node, List<Violation> out) {
        if (node == null) {
            return true;
        }
        String msg = "Input should be a non-empty list of 'Text' and 'Image' that contains 'Image'";
        if (!node.isArray() || node.isEmpty()) {
            out.add(Violation.body("response_modalities", msg, node.isArray() ? "too_short" : "list_type"));
            return true;
        }
        Set<String> seen = new LinkedHashSet<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode item = node.get(i);
            String value = item.isTextual() ? item.textValue().toLowerCase(Locale.ROOT) : "";
            if (!value.equals("text") && !value.equals("image")) {
                out.add(new Violation(List.of("body", "response_modalities", i), "Input should be 'Text' or 'Image'", "enum"));
                return true;
            }
            seen.add(value);
        }
        if (!seen.contains("image")) {
            out.add(Violation.body("response_modalities", msg, "value_error"));
        }
        return seen.contains("text");
    }

    private int numImages(JsonNode node, List<Violation> out) {
        int min = model.minNumImages();
        if (node == null) {
            return min;
        }
        if (!node.isIntegralNumber()) {
            out.add(Violation.body("num_images", "Input should be a valid integer", "int_type"));
            return min;
        }
        if (!node.canConvertToInt() || node.intValue() < min || node.intValue() > model.maxNumImages()) {
            out.add(Violation.body("num_images", "Input should be between " + min + " and " + model.maxNumImages(), "range"));
            return min;
        }
        return node.intValue();
    }

    private OutputFormat outputFormat(JsonNode node, List<Violation> out) {
        if (node == null) {
            return OutputFormat.PNG;
        }
        OutputFormat format = node.isTextual() ? OutputFormat.fromWire(node.textValue()).orElse(null) : null;
        if (format == null || !model.outputFormats().contains(format)) {
            out.add(Violation.body("output_format", "Input should be " + quoted(model.outputFormats().stream().map(OutputFormat::wire).toList()),
                    "enum"));
            return OutputFormat.PNG;
        }
        if (!availableFormats.contains(format)) {
            String available = quoted(availableFormats.stream().sorted().map(OutputFormat::wire).toList());
            out.add(Violation.body("output_format", format.wire() + " output is not available from this server's provider ("
                    + providerName + "); use " + available, "value_error"));
        }
        return format;
    }

    private Long seed(JsonNode node, List<Violation> out) {
        if (node == null) {
            return null;
        }
        if (!node.isIntegralNumber()) {
            out.add(Violation.body("seed", "Input should be a valid integer", "int_type"));
            return null;
        }
        if (!node.canConvertToLong() || node.longValue() < 0 || node.longValue() > Integer.MAX_VALUE) {
            out.add(Violation.body("seed", "Input should be between 0 and " + Integer.MAX_VALUE, "range"));
            return null;
        }
        return node.longValue();
    }

    private static boolean syncMode(JsonNode node, List<Violation> out) {
        if (node == null) {
            return false;
        }
        if (!node.isBoolean()) {
            out.add(Violation.body("sync_mode", "Input should be a valid boolean", "bool_type"));
            return false;
        }
        return node.booleanValue();
    }

    private static boolean hasLoneSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
                    return true;
                }
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return true;
            }
        }
        return false;
    }

    private static String quoted(List<String> values) {
        if (values.size() == 1) {
            return "'" + values.get(0) + "'";
        }
        String head = values.subList(0, values.size() - 1).stream().map(v -> "'" + v + "'").collect(Collectors.joining(", "));
        return head + " or '" + values.get(values.size() - 1) + "'";
    }
}
