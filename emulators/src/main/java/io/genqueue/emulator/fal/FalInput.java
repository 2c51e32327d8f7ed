package io.genqueue.emulator.fal;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.image.AspectRatio;
import io.genqueue.image.DataUri;
import io.genqueue.image.ImageInfo;
import io.genqueue.image.ImageProbe;
import io.genqueue.image.ImageRejectedException;
import io.genqueue.image.OutputFormat;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The input of {@code fal-ai/nano-banana} and {@code fal-ai/nano-banana/edit}, checked the way
 * fal's schema checks it (Pydantic with extra fields forbidden): every violation becomes one
 * entry of a 422 {@code detail[]}.
 *
 * @param ratio the output's aspect ratio ({@code auto}: the first reference image's, else 1:1)
 */
record FalInput(String prompt, int numImages, OutputFormat format, AspectRatio ratio, boolean syncMode) {

    /** fal's limit is larger; the gateway, and so the emulator, takes at most three references. */
    static final int MAX_IMAGE_URLS = 3;
    private static final long MAX_REFERENCE_BYTES = 20L * 1024 * 1024;
    private static final long MAX_REFERENCE_PIXELS = 64L * 1024 * 1024;
    private static final Set<String> TEXT_FIELDS =
            Set.of("prompt", "num_images", "output_format", "aspect_ratio", "sync_mode", "limit_generations");
    private static final Set<String> EDIT_FIELDS = Set.of("prompt", "num_images", "output_format", "aspect_ratio",
            "sync_mode", "limit_generations", "image_urls");

    /** One entry of fal's {@code detail[]}. */
    record Violation(List<Object> loc, String msg, String type) {
        Map<String, Object> toMap() {
            return Map.of("loc", loc, "msg", msg, "type", type);
        }
    }

    /** The input, or the violations that refuse it. */
    record Checked(FalInput input, List<Violation> violations) {
    }

    static Checked check(JsonNode body, boolean edit) {
        List<Violation> v = new ArrayList<>();
        if (body == null || !body.isObject()) {
            v.add(new Violation(List.of("body"), "Input should be a valid dictionary", "dict_type"));
            return new Checked(null, v);
        }
        Set<String> allowed = edit ? EDIT_FIELDS : TEXT_FIELDS;
        for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!allowed.contains(name)) {
                v.add(new Violation(List.of("body", name), "Extra inputs are not permitted", "extra_forbidden"));
            }
        }
        JsonNode prompt = body.get("prompt");
        if (prompt == null || prompt.isNull()) {
            v.add(new Violation(List.of("body", "prompt"), "Field required", "missing"));
        } else if (!prompt.isTextual()) {
            v.add(new Violation(List.of("body", "prompt"), "Input should be a valid string", "string_type"));
        } else if (prompt.asText().isBlank()) {
            v.add(new Violation(List.of("body", "prompt"), "String should have at least 1 character", "string_too_short"));
        }
        int numImages = 1;
        JsonNode n = body.get("num_images");
        if (n != null) {
            if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < 1 || n.asInt() > 4) {
                v.add(new Violation(List.of("body", "num_images"), "Input should be an integer from 1 to 4", "int_range"));
            } else {
                numImages = n.asInt();
            }
        }
        OutputFormat format = OutputFormat.PNG;
        JsonNode f = body.get("output_format");
        if (f != null) {
            format = f.isTextual() ? OutputFormat.fromWire(f.asText()).orElse(null) : null;
            if (format == null) {
                v.add(new Violation(List.of("body", "output_format"), "Input should be 'jpeg', 'png' or 'webp'", "enum"));
            }
        }
        AspectRatio ratio = null;
        boolean auto = true;
        JsonNode r = body.get("aspect_ratio");
        if (r != null && !(r.isTextual() && r.asText().equals("auto"))) {
            auto = false;
            ratio = r.isTextual() ? AspectRatio.fromWire(r.asText()).orElse(null) : null;
            if (ratio == null) {
                v.add(new Violation(List.of("body", "aspect_ratio"),
                        "Input should be 'auto', '21:9', '16:9', '3:2', '4:3', '5:4', '1:1', '4:5', '3:4', '2:3' or '9:16'",
                        "enum"));
            }
        }
        boolean syncMode = false;
        for (String flag : List.of("sync_mode", "limit_generations")) {
            JsonNode b = body.get(flag);
            if (b != null && !b.isBoolean()) {
                v.add(new Violation(List.of("body", flag), "Input should be a valid boolean", "bool_type"));
            } else if (b != null && flag.equals("sync_mode")) {
                syncMode = b.asBoolean();
            }
        }
        AspectRatio firstReference = null;
        if (edit) {
            firstReference = checkImageUrls(body.get("image_urls"), v);
        }
        if (!v.isEmpty()) {
            return new Checked(null, v);
        }
        if (auto) {
            ratio = firstReference != null ? firstReference : AspectRatio.R1_1;
        }
        return new Checked(new FalInput(prompt.asText(), numImages, format, ratio, syncMode), v);
    }

    /** Checks {@code image_urls}; the first image's nearest ratio when it is a data URI, else null. */
    private static AspectRatio checkImageUrls(JsonNode urls, List<Violation> v) {
        if (urls == null || urls.isNull()) {
            v.add(new Violation(List.of("body", "image_urls"), "Field required", "missing"));
            return null;
        }
        if (!urls.isArray()) {
            v.add(new Violation(List.of("body", "image_urls"), "Input should be a valid list", "list_type"));
            return null;
        }
        if (urls.isEmpty()) {
            v.add(new Violation(List.of("body", "image_urls"), "List should have at least 1 item", "too_short"));
            return null;
        }
        if (urls.size() > MAX_IMAGE_URLS) {
            v.add(new Violation(List.of("body", "image_urls"),
                    "List should have at most " + MAX_IMAGE_URLS + " items, not " + urls.size(), "too_long"));
            return null;
        }
        AspectRatio first = null;
        for (int i = 0; i < urls.size(); i++) {
            JsonNode url = urls.get(i);
            List<Object> loc = List.of("body", "image_urls", i);
            if (!url.isTextual()) {
                v.add(new Violation(loc, "Input should be a valid string", "string_type"));
                continue;
            }
            String s = url.asText();
            if (DataUri.looksLikeDataUri(s)) {
                try {
                    ImageInfo info = ImageProbe.probe(DataUri.parse(s, MAX_REFERENCE_BYTES).bytes(), MAX_REFERENCE_PIXELS);
                    if (i == 0) {
                        first = AspectRatio.nearest(info.width(), info.height());
                    }
                } catch (IllegalArgumentException | ImageRejectedException e) {
                    v.add(new Violation(loc, "Failed to load the image: " + e.getMessage(), "image_load_error"));
                }
            } else if (!(s.startsWith("https://") || s.startsWith("http://"))) {
                v.add(new Violation(loc, "URL must be http(s) or a data URI", "url_parsing"));
            }
        }
        return first;
    }
}
