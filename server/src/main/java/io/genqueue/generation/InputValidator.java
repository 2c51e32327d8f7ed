package io.genqueue.generation;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.image.AspectRatio;
import io.genqueue.image.DataUri;
import io.genqueue.image.ImageProbe;
import io.genqueue.image.ImageRejectedException;
import io.genqueue.image.OutputFormat;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Checks a submit body against every rule of the contract and reports all violations at once.
 * Unknown fields are ignored (clients send fields of other versions); unknown values of known
 * fields are refused. A JSON {@code null} counts as an absent field.
 *
 * <p>Reference images given as data URIs are decoded and their header probed here, since that is
 * cheap; http(s) images are fetched later by the worker.
 */
public final class InputValidator {

    public static final int MAX_PROMPT_CODE_POINTS = 2500;
    public static final int MAX_IMAGE_URLS = 3;
    public static final int MAX_NUM_IMAGES = 4;
    /** Longer than any sane URL; keeps stored jobs and log lines bounded. */
    static final int MAX_URL_LENGTH = 8192;

    private static final String ASPECT_RATIOS = quoted(Arrays.stream(AspectRatio.values()).map(AspectRatio::wire).toList());
    private static final String RESOLUTIONS = quoted(Arrays.stream(AspectRatio.values()).map(AspectRatio::resolution).toList());

    private final Set<OutputFormat> availableFormats;
    private final String providerName;
    private final long maxImageBytes;
    private final long maxPixels;

    /**
     * @param availableFormats the output formats the configured provider can deliver
     * @param providerName named in the message that refuses another format
     * @param maxImageBytes the most bytes one reference image may have
     * @param maxPixels the most pixels one reference image may have
     */
    public InputValidator(Set<OutputFormat> availableFormats, String providerName, long maxImageBytes, long maxPixels) {
        this.availableFormats = Set.copyOf(availableFormats);
        this.providerName = providerName;
        this.maxImageBytes = maxImageBytes;
        this.maxPixels = maxPixels;
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
        AspectRatio ratio = aspectRatio(body, violations);
        boolean includeText = responseModalities(field(body, "response_modalities"), violations);
        int numImages = numImages(field(body, "num_images"), violations);
        OutputFormat format = outputFormat(field(body, "output_format"), violations);
        Long seed = seed(field(body, "seed"), violations);
        boolean syncMode = syncMode(field(body, "sync_mode"), violations);
        if (!violations.isEmpty()) {
            throw new ValidationException(violations);
        }
        return GenerationInput.builder(prompt).imageUrls(imageUrls).aspectRatio(ratio).includeText(includeText)
                .numImages(numImages).outputFormat(format).seed(seed).syncMode(syncMode).build();
    }

    /** The field's value, or null when it is absent or JSON null. */
    private static JsonNode field(JsonNode body, String name) {
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
        if (node.size() > MAX_IMAGE_URLS) {
            out.add(Violation.body("image_urls", "List should have at most " + MAX_IMAGE_URLS
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

    private static AspectRatio aspectRatio(JsonNode body, List<Violation> out) {
        AspectRatio fromRatio = enumField(field(body, "aspect_ratio"), "aspect_ratio", ASPECT_RATIOS, AspectRatio::fromWire, out);
        AspectRatio fromResolution = enumField(field(body, "resolution"), "resolution", RESOLUTIONS, AspectRatio::fromResolution, out);
        JsonNode size = field(body, "image_size");
        if (size != null && !(size.isTextual() && size.textValue().equals("1K"))) {
            out.add(Violation.body("image_size", "Input should be '1K'", "enum"));
        }
        if (fromRatio != null && fromResolution != null && fromRatio != fromResolution) {
            out.add(Violation.body("resolution", "resolution " + fromResolution.resolution() + " does not match aspect_ratio "
                    + fromRatio.wire() + " (which is " + fromRatio.resolution() + ")", "value_error"));
        }
        return fromRatio != null ? fromRatio : fromResolution;
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

    private static int numImages(JsonNode node, List<Violation> out) {
        if (node == null) {
            return 1;
        }
        if (!node.isIntegralNumber()) {
            out.add(Violation.body("num_images", "Input should be a valid integer", "int_type"));
            return 1;
        }
        if (!node.canConvertToInt() || node.intValue() < 1 || node.intValue() > MAX_NUM_IMAGES) {
            out.add(Violation.body("num_images", "Input should be between 1 and " + MAX_NUM_IMAGES, "range"));
            return 1;
        }
        return node.intValue();
    }

    private OutputFormat outputFormat(JsonNode node, List<Violation> out) {
        if (node == null) {
            return OutputFormat.PNG;
        }
        OutputFormat format = node.isTextual() ? OutputFormat.fromWire(node.textValue()).orElse(null) : null;
        if (format == null) {
            out.add(Violation.body("output_format", "Input should be 'png', 'jpeg' or 'webp'", "enum"));
            return OutputFormat.PNG;
        }
        if (!availableFormats.contains(format)) {
            String available = quoted(availableFormats.stream().sorted().map(OutputFormat::wire).toList());
            out.add(Violation.body("output_format", format.wire() + " output is not available from this server's provider ("
                    + providerName + "); use " + available, "value_error"));
        }
        return format;
    }

    private static Long seed(JsonNode node, List<Violation> out) {
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
