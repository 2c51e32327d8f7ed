package io.genqueue.emulator.openrouter;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.image.AspectRatio;
import io.genqueue.image.DataUri;
import io.genqueue.image.ImageInfo;
import io.genqueue.image.ImageProbe;
import io.genqueue.image.ImageRejectedException;
import io.genqueue.json.Json;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A chat-completions request body checked the way the real API checks it before generating, or
 * the {@link Rejection} it earns.
 *
 * @param model the model id asked for
 * @param prompt the text parts of the messages, joined
 * @param images the reference images sent inline, in order
 * @param size the output size: {@code image_config.aspect_ratio}, else the first image's shape
 *     snapped to the nearest ratio, else 1:1
 */
record ChatCall(String model, String prompt, List<ImageInfo> images, AspectRatio size) {

    /** The model the emulator plays (the 2.5 size table is exact for it alone). */
    static final String MODEL = "google/gemini-2.5-flash-image";
    /** A retired id: OpenRouter answers "No endpoints found" for it. */
    static final String RETIRED_MODEL = "google/gemini-2.5-flash-image-preview";
    static final int MAX_IMAGES = 3;
    static final long MAX_IMAGE_BYTES = 7L * 1024 * 1024;
    private static final long MAX_PIXELS = 64L * 1024 * 1024;
    private static final Set<String> IMAGE_TYPES = Set.of("image/png", "image/jpeg", "image/webp");

    /** A request the API refuses: the HTTP status and its {@code error.message}. */
    static final class Rejection extends RuntimeException {
        final int status;

        Rejection(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    /**
     * Checks a body: one JSON object; a known {@code model}; {@code messages} with string or
     * part-array content (parts {@code text} and {@code image_url} with a {@code data:} URL of a PNG,
     * JPEG or WebP that decodes as what it claims); at most {@value #MAX_IMAGES} images;
     * {@code modalities} exactly image and text; a valid {@code image_config.aspect_ratio} (camelCase
     * accepted too); no streaming; an integer {@code seed} if any.
     *
     * @throws Rejection 400 (or 404 for a retired model) with a message like the API's
     */
    static ChatCall parse(byte[] body) {
        JsonNode root;
        try {
            root = Json.parse(body);
        } catch (JsonProcessingException e) {
            throw bad("Invalid JSON in request body");
        }
        if (!root.isObject()) {
            throw bad("Request body must be a JSON object");
        }
        String model = root.path("model").asText("");
        if (!root.path("model").isTextual() || model.isBlank()) {
            throw bad("model is required");
        }
        if (model.equals(RETIRED_MODEL)) {
            throw new Rejection(404, "No endpoints found for " + model + ".");
        }
        if (!model.equals(MODEL)) {
            throw bad(model + " is not a valid model ID");
        }
        JsonNode messages = root.path("messages");
        if (!messages.isArray() || messages.isEmpty()) {
            throw bad("messages must be a non-empty array");
        }
        StringBuilder prompt = new StringBuilder();
        List<ImageInfo> images = new ArrayList<>();
        for (JsonNode message : messages) {
            readMessage(message, prompt, images);
        }
        if (prompt.isEmpty() && images.isEmpty()) {
            throw bad("messages have no content");
        }
        checkModalities(root.get("modalities"));
        AspectRatio size = size(root, images);
        if (root.path("stream").asBoolean(false)) {
            throw bad("stream: the emulator answers non-streaming requests only");
        }
        JsonNode seed = root.get("seed");
        if (seed != null && !seed.isNull() && !seed.canConvertToLong()) {
            throw bad("seed must be an integer");
        }
        return new ChatCall(model, prompt.toString(), List.copyOf(images), size);
    }

    private static void readMessage(JsonNode message, StringBuilder prompt, List<ImageInfo> images) {
        String role = message.path("role").asText("");
        if (!Set.of("system", "user", "assistant").contains(role)) {
            throw bad("each message needs a role of system, user or assistant");
        }
        JsonNode content = message.get("content");
        if (content != null && content.isTextual()) {
            append(prompt, content.asText());
            return;
        }
        if (content == null || !content.isArray()) {
            throw bad("message content must be a string or an array of content parts");
        }
        for (JsonNode part : content) {
            switch (part.path("type").asText("")) {
                case "text" -> {
                    if (!part.path("text").isTextual()) {
                        throw bad("a text content part needs a text string");
                    }
                    append(prompt, part.path("text").asText());
                }
                case "image_url" -> {
                    JsonNode url = part.path("image_url");
                    String value = url.isTextual() ? url.asText() : url.path("url").asText("");
                    images.add(image(value, images.size()));
                    if (images.size() > MAX_IMAGES) {
                        throw bad("at most " + MAX_IMAGES + " images are supported per request for " + MODEL);
                    }
                }
                default -> throw bad("unsupported content part type: " + clip(part.path("type").asText("(none)")));
            }
        }
    }

    private static ImageInfo image(String url, int index) {
        if (url.isEmpty()) {
            throw bad("image_url needs a url");
        }
        if (!DataUri.looksLikeDataUri(url)) {
            throw bad("image " + index + ": the emulator only takes images as data: URLs");
        }
        DataUri data;
        try {
            data = DataUri.parse(url, MAX_IMAGE_BYTES);
        } catch (IllegalArgumentException e) {
            throw bad("image " + index + ": " + e.getMessage());
        }
        if (!IMAGE_TYPES.contains(data.mediaType())) {
            throw bad("image " + index + ": unsupported image type " + data.mediaType()
                    + " (supported: image/png, image/jpeg, image/webp)");
        }
        ImageInfo info;
        try {
            info = ImageProbe.probe(data.bytes(), MAX_PIXELS);
        } catch (ImageRejectedException e) {
            throw bad("image " + index + ": " + e.getMessage());
        }
        if (!info.contentType().equals(data.mediaType())) {
            throw bad("image " + index + ": declared " + data.mediaType() + " but the data is " + info.contentType());
        }
        return info;
    }

    private static void checkModalities(JsonNode modalities) {
        List<String> values = new ArrayList<>();
        if (modalities != null && modalities.isArray()) {
            modalities.forEach(m -> values.add(m.asText()));
        }
        if (values.size() != 2 || !values.containsAll(List.of("image", "text"))) {
            throw bad("modalities must be [\"image\",\"text\"] for " + MODEL);
        }
    }

    private static AspectRatio size(JsonNode root, List<ImageInfo> images) {
        JsonNode config = root.has("image_config") ? root.get("image_config") : root.get("imageConfig");
        if (config != null && !config.isNull()) {
            if (!config.isObject()) {
                throw bad("image_config must be an object");
            }
            JsonNode ratio = config.has("aspect_ratio") ? config.get("aspect_ratio") : config.get("aspectRatio");
            if (ratio != null && !ratio.isNull()) {
                return AspectRatio.fromWire(ratio.asText()).orElseThrow(() -> bad(
                        "image_config.aspect_ratio must be one of " + Arrays.stream(AspectRatio.values())
                                .map(AspectRatio::wire).collect(Collectors.joining(", "))));
            }
        }
        return images.isEmpty() ? AspectRatio.R1_1 : AspectRatio.nearest(images.get(0).width(), images.get(0).height());
    }

    private static void append(StringBuilder prompt, String text) {
        if (!prompt.isEmpty() && !text.isEmpty()) {
            prompt.append('\n');
        }
        prompt.append(text);
    }

    private static String clip(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }

    static Rejection bad(String message) {
        return new Rejection(400, message);
    }
}
