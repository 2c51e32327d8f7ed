package io.genqueue.emulator.gemini;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.image.AspectRatio;
import io.genqueue.image.ImageInfo;
import io.genqueue.image.ImageProbe;
import io.genqueue.image.ImageRejectedException;
import io.genqueue.json.Json;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The strict reading of a {@code generateContent} body that the real API does: unknown field
 * names, wrong JSON types, a part without data, a MIME type or aspect ratio it does not take, too
 * many or broken images are each a 400 {@code INVALID_ARGUMENT}, in Google's wording where it is
 * known. Field names are accepted in proto form ({@code inline_data}) and in lowerCamelCase
 * ({@code inlineData}), as the real JSON parser does.
 */
final class RequestCheck {

    static final int MAX_IMAGES = 3;
    static final long MAX_IMAGE_BYTES = 7L * 1024 * 1024;
    static final Set<String> IMAGE_TYPES = Set.of("image/png", "image/jpeg", "image/webp", "image/heic", "image/heif");

    private enum Kind { STRING, INT, NUMBER, BOOL, OBJECT, OBJECT_LIST, STRING_LIST }

    private record Field(Kind kind, String message, String protoType) {
    }

    private static Field of(Kind kind, String protoType) {
        return new Field(kind, null, protoType);
    }

    private static Field message(String name) {
        return new Field(Kind.OBJECT, name, null);
    }

    private static Field list(String name) {
        return new Field(Kind.OBJECT_LIST, name, null);
    }

    /** The messages of the request, by lowerCamelCase field name. */
    private static final Map<String, Map<String, Field>> SCHEMA = Map.of(
            "GenerateContentRequest", Map.of(
                    "contents", list("Content"),
                    "generationConfig", message("GenerationConfig"),
                    "safetySettings", list("SafetySetting"),
                    "systemInstruction", message("Content"),
                    "model", of(Kind.STRING, "TYPE_STRING")),
            "Content", Map.of(
                    "role", of(Kind.STRING, "TYPE_STRING"),
                    "parts", list("Part")),
            "Part", Map.of(
                    "text", of(Kind.STRING, "TYPE_STRING"),
                    "inlineData", message("Blob"),
                    "fileData", message("FileData"),
                    "thought", of(Kind.BOOL, "TYPE_BOOL"),
                    "thoughtSignature", of(Kind.STRING, "TYPE_BYTES")),
            "Blob", Map.of(
                    "mimeType", of(Kind.STRING, "TYPE_STRING"),
                    "data", of(Kind.STRING, "TYPE_BYTES")),
            "FileData", Map.of(
                    "mimeType", of(Kind.STRING, "TYPE_STRING"),
                    "fileUri", of(Kind.STRING, "TYPE_STRING")),
            "GenerationConfig", Map.ofEntries(
                    Map.entry("responseModalities", of(Kind.STRING_LIST, "TYPE_ENUM")),
                    Map.entry("imageConfig", message("ImageConfig")),
                    Map.entry("temperature", of(Kind.NUMBER, "TYPE_FLOAT")),
                    Map.entry("topP", of(Kind.NUMBER, "TYPE_FLOAT")),
                    Map.entry("topK", of(Kind.INT, "TYPE_INT32")),
                    Map.entry("seed", of(Kind.INT, "TYPE_INT32")),
                    Map.entry("candidateCount", of(Kind.INT, "TYPE_INT32")),
                    Map.entry("maxOutputTokens", of(Kind.INT, "TYPE_INT32")),
                    Map.entry("stopSequences", of(Kind.STRING_LIST, "TYPE_STRING")),
                    Map.entry("responseMimeType", of(Kind.STRING, "TYPE_STRING")),
                    Map.entry("presencePenalty", of(Kind.NUMBER, "TYPE_FLOAT")),
                    Map.entry("frequencyPenalty", of(Kind.NUMBER, "TYPE_FLOAT"))),
            "ImageConfig", Map.of(
                    "aspectRatio", of(Kind.STRING, "TYPE_STRING"),
                    "imageSize", of(Kind.STRING, "TYPE_STRING")),
            "SafetySetting", Map.of(
                    "category", of(Kind.STRING, "TYPE_ENUM"),
                    "threshold", of(Kind.STRING, "TYPE_ENUM")));

    /** One inline image of the request. */
    record Image(String mimeType, byte[] bytes, ImageInfo info) {
    }

    /**
     * What the emulator needs of a valid request.
     *
     * @param prompt the user's text parts, joined
     * @param modalities upper-cased; empty when the request named none (text and image then)
     * @param aspectRatio null when the request named none
     * @param model the model the request was sent to
     * @param imageSize the tier asked for ({@code imageConfig.imageSize}), or null for the model's default
     */
    record Checked(String prompt, List<Image> images, Set<String> modalities, AspectRatio aspectRatio, ImageModel model,
            String imageSize) {

        boolean wantsText() {
            return modalities.isEmpty() || modalities.contains("TEXT");
        }
    }

    /** A request the real API would refuse with 400 INVALID_ARGUMENT. */
    static final class Rejected extends Exception {
        final String field;

        Rejected(String message, String field) {
            super(message, null, false, false);
            this.field = field;
        }
    }

    private RequestCheck() {
    }

    static Checked check(byte[] body, ImageModel served) throws Rejected {
        String model = served.id();
        JsonNode root;
        try {
            root = Json.parse(body);
        } catch (IOException e) {
            throw new Rejected("Invalid JSON payload received. " + firstLine(e.getMessage()), "");
        }
        if (!root.isObject()) {
            throw new Rejected("Invalid JSON payload received. Expected an object at the top level.", "");
        }
        structure(root, "GenerateContentRequest", "");
        JsonNode contents = field(root, "contents");
        if (contents == null || contents.isEmpty()) {
            throw new Rejected("* GenerateContentRequest.contents: contents is not specified", "contents");
        }
        StringBuilder prompt = new StringBuilder();
        List<Image> images = new ArrayList<>();
        for (int c = 0; c < contents.size(); c++) {
            JsonNode parts = field(contents.get(c), "parts");
            String at = "contents[" + c + "].parts";
            if (parts == null || parts.isEmpty()) {
                throw new Rejected("* GenerateContentRequest." + at + ": contents.parts must not be empty.", at);
            }
            for (int p = 0; p < parts.size(); p++) {
                part(parts.get(p), at + "[" + p + "]", prompt, images);
            }
        }
        if (images.size() > MAX_IMAGES) {
            throw new Rejected("Too many input images: " + images.size() + "; " + model + " accepts at most " + MAX_IMAGES
                    + " images per request.", "contents");
        }
        JsonNode config = field(root, "generationConfig");
        Set<String> modalities = new LinkedHashSet<>();
        AspectRatio ratio = null;
        String tier = null;
        if (config != null) {
            modalities = modalities(field(config, "responseModalities"));
            JsonNode count = field(config, "candidateCount");
            if (count != null && count.asInt() > 1) {
                throw new Rejected("Multiple candidates is not enabled for models/" + model, "generation_config.candidate_count");
            }
            JsonNode imageConfig = field(config, "imageConfig");
            if (imageConfig != null) {
                ratio = aspectRatio(field(imageConfig, "aspectRatio"));
                JsonNode size = field(imageConfig, "imageSize");
                if (size != null && !served.sizes().contains(size.asText())) {
                    throw new Rejected("Unsupported image size: " + size.asText() + ". " + model + " makes "
                            + String.join(", ", served.sizes()) + " images only.", "generation_config.image_config.image_size");
                }
                tier = size == null ? null : size.asText();
            }
        }
        return new Checked(prompt.toString(), images, modalities, ratio, served, tier);
    }

    private static void part(JsonNode part, String at, StringBuilder prompt, List<Image> images) throws Rejected {
        JsonNode text = field(part, "text");
        JsonNode inline = field(part, "inlineData");
        JsonNode file = field(part, "fileData");
        int data = (text == null ? 0 : 1) + (inline == null ? 0 : 1) + (file == null ? 0 : 1);
        if (data != 1) {
            throw new Rejected("* GenerateContentRequest." + at + ".data: required oneof field 'data' must have one "
                    + "initialized field", at);
        }
        if (text != null) {
            prompt.append(prompt.isEmpty() ? "" : "\n").append(text.asText());
        } else if (file != null) {
            throw new Rejected("The emulator does not fetch file_data URIs; send the image as inline_data.", at + ".file_data");
        } else {
            images.add(image(inline, at + ".inline_data"));
        }
    }

    private static Image image(JsonNode inline, String at) throws Rejected {
        JsonNode mime = field(inline, "mimeType");
        JsonNode data = field(inline, "data");
        if (mime == null || mime.asText().isEmpty()) {
            throw new Rejected("* GenerateContentRequest." + at + ".mime_type: mime_type is not specified", at + ".mime_type");
        }
        if (data == null || data.asText().isEmpty()) {
            throw new Rejected("* GenerateContentRequest." + at + ".data: data is not specified", at + ".data");
        }
        String type = mime.asText().toLowerCase(Locale.ROOT);
        if (!IMAGE_TYPES.contains(type)) {
            throw new Rejected("Unsupported MIME type: " + mime.asText(), at + ".mime_type");
        }
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(data.asText());
        } catch (IllegalArgumentException e) {
            throw new Rejected("Invalid value at '" + at + ".data' (TYPE_BYTES), Base64 decoding failed for \""
                    + shorten(data.asText()) + "\"", at + ".data");
        }
        if (bytes.length > MAX_IMAGE_BYTES) {
            throw new Rejected("Inline image of " + bytes.length + " bytes is larger than the limit of " + MAX_IMAGE_BYTES
                    + " bytes.", at + ".data");
        }
        if (type.equals("image/heic") || type.equals("image/heif")) {
            return new Image(type, bytes, null); // taken on trust: nothing here reads HEIF
        }
        try {
            return new Image(type, bytes, ImageProbe.probe(bytes, 100_000_000L));
        } catch (ImageRejectedException e) {
            throw new Rejected("Provided image is not valid.", at + ".data");
        }
    }

    private static Set<String> modalities(JsonNode values) throws Rejected {
        Set<String> out = new LinkedHashSet<>();
        if (values == null) {
            return out;
        }
        for (int i = 0; i < values.size(); i++) {
            String v = values.get(i).asText().toUpperCase(Locale.ROOT);
            if (!v.equals("TEXT") && !v.equals("IMAGE")) {
                throw new Rejected("Invalid value at 'generation_config.response_modalities[" + i + "]' "
                        + "(type.googleapis.com/google.ai.generativelanguage.v1beta.GenerationConfig.Modality), \""
                        + values.get(i).asText() + "\"", "generation_config.response_modalities[" + i + "]");
            }
            out.add(v);
        }
        if (!out.isEmpty() && !out.contains("IMAGE")) {
            throw new Rejected("Model does not support the requested response modalities: " + String.join(",", out),
                    "generation_config.response_modalities");
        }
        return out;
    }

    private static AspectRatio aspectRatio(JsonNode value) throws Rejected {
        if (value == null) {
            return null;
        }
        return AspectRatio.fromWire(value.asText()).orElseThrow(() -> new Rejected("Unsupported aspect ratio: "
                + value.asText() + ". Supported values: " + java.util.Arrays.stream(AspectRatio.values())
                        .map(AspectRatio::wire).collect(Collectors.joining(", ")) + ".",
                "generation_config.image_config.aspect_ratio"));
    }

    /**
     * Checks names and JSON types against {@link #SCHEMA}, recursively, and rewrites every name
     * to lowerCamelCase in place, so later reads need one spelling.
     */
    private static void structure(JsonNode node, String messageName, String at) throws Rejected {
        Map<String, Field> fields = SCHEMA.get(messageName);
        com.fasterxml.jackson.databind.node.ObjectNode object = (com.fasterxml.jackson.databind.node.ObjectNode) node;
        Map<String, JsonNode> renamed = new java.util.LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = object.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = camel(e.getKey());
            Field field = fields.get(name);
            if (field == null) {
                throw new Rejected("Invalid JSON payload received. Unknown name \"" + e.getKey() + "\""
                        + (at.isEmpty() ? "" : " at '" + at + "'") + ": Cannot find field.", at);
            }
            if (renamed.containsKey(name)) {
                throw new Rejected("Invalid JSON payload received. Multiple values for field \"" + snake(name) + "\""
                        + (at.isEmpty() ? "" : " at '" + at + "'") + ".", at);
            }
            String path = (at.isEmpty() ? "" : at + ".") + snake(name);
            value(e.getValue(), field, path);
            renamed.put(name, e.getValue());
        }
        object.removeAll();
        renamed.forEach(object::set);
    }

    private static void value(JsonNode v, Field field, String path) throws Rejected {
        if (v.isNull()) {
            return; // proto JSON: null is the default value
        }
        switch (field.kind()) {
            case STRING -> expect(v.isTextual(), v, field, path);
            case INT -> expect(v.isIntegralNumber() && v.canConvertToInt()
                    || v.isTextual() && v.asText().matches("-?[0-9]{1,9}"), v, field, path);
            case NUMBER -> expect(v.isNumber(), v, field, path);
            case BOOL -> expect(v.isBoolean(), v, field, path);
            case OBJECT -> {
                if (!v.isObject()) {
                    throw new Rejected("Invalid JSON payload received. Expected an object at '" + path + "', found "
                            + shorten(v.toString()) + ".", path);
                }
                structure(v, field.message(), path);
            }
            case OBJECT_LIST -> {
                if (!v.isArray()) {
                    throw new Rejected("Invalid value at '" + path + "', expected a list", path);
                }
                for (int i = 0; i < v.size(); i++) {
                    if (!v.get(i).isObject()) {
                        throw new Rejected("Invalid value at '" + path + "[" + i + "]', expected an object", path);
                    }
                    structure(v.get(i), field.message(), path + "[" + i + "]");
                }
            }
            case STRING_LIST -> {
                if (!v.isArray()) {
                    throw new Rejected("Invalid value at '" + path + "', expected a list", path);
                }
                for (int i = 0; i < v.size(); i++) {
                    expect(v.get(i).isTextual(), v.get(i), field, path + "[" + i + "]");
                }
            }
        }
    }

    private static void expect(boolean ok, JsonNode v, Field field, String path) throws Rejected {
        if (!ok) {
            throw new Rejected("Invalid value at '" + path + "' (" + field.protoType() + "), " + shorten(v.toString()), path);
        }
    }

    /** The field by its lowerCamelCase name, after {@link #structure} normalised the names; null if absent or null. */
    private static JsonNode field(JsonNode object, String camelName) {
        JsonNode v = object.get(camelName);
        return v == null || v.isNull() ? null : v;
    }

    static String camel(String name) {
        StringBuilder out = new StringBuilder(name.length());
        boolean upper = false;
        for (char ch : name.toCharArray()) {
            if (ch == '_') {
                upper = true;
            } else {
                out.append(upper ? Character.toUpperCase(ch) : ch);
                upper = false;
            }
        }
        return out.toString();
    }

    static String snake(String name) {
        return name.replaceAll("([A-Z])", "_$1").toLowerCase(Locale.ROOT);
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "";
        }
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }

    private static String shorten(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }
}
