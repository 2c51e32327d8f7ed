package io.genqueue.client;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One generation to submit, checked against the contract's input rules when built
 * ({@link #builder(String)}), so that a request this client sends is one the server accepts as
 * far as its shape goes. Null fields are left out of the body and take the server's defaults.
 *
 * @param imageUrls reference images: {@code http(s)} URLs or {@code data:image/...;base64,} URIs
 * @param resolution one of the model's ten ({@code 1344x768}); agrees with {@code aspectRatio} when both are given
 * @param includeText whether the model's text is asked for besides the image ({@code response_modalities})
 * @param webhookUrl where the server POSTs the outcome ({@code fal_webhook}), or null
 */
public record SubmitRequest(String prompt, List<String> imageUrls, AspectRatio aspectRatio, String resolution,
        Boolean includeText, Integer numImages, OutputFormat outputFormat, Long seed, Boolean syncMode,
        Priority priority, String webhookUrl) {

    public static final int MAX_PROMPT_CODE_POINTS = 2500;
    public static final int MAX_IMAGE_URLS = 3;
    public static final int MAX_NUM_IMAGES = 4;
    /** Reference images read from files: the server's default limit per image. */
    public static final long MAX_REFERENCE_FILE_BYTES = 7L << 20;

    private static final Pattern DATA_IMAGE = Pattern.compile("(?i)data:image/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=\\s]+");

    public SubmitRequest {
        imageUrls = List.copyOf(imageUrls);
    }

    public static Builder builder(String prompt) {
        return new Builder(prompt);
    }

    /** The JSON body of the submit. */
    Map<String, Object> body() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("prompt", prompt);
        if (!imageUrls.isEmpty()) {
            body.put("image_urls", imageUrls);
        }
        if (aspectRatio != null) {
            body.put("aspect_ratio", aspectRatio.wire());
        }
        if (resolution != null) {
            body.put("resolution", resolution);
        }
        if (includeText != null) {
            body.put("response_modalities", includeText ? List.of("Text", "Image") : List.of("Image"));
        }
        if (numImages != null) {
            body.put("num_images", numImages);
        }
        if (outputFormat != null) {
            body.put("output_format", outputFormat.wire());
        }
        if (seed != null) {
            body.put("seed", seed);
        }
        if (syncMode != null) {
            body.put("sync_mode", syncMode);
        }
        return body;
    }

    /**
     * Collects the fields; {@link #build()} checks them all at once. The string setters take the
     * API's spellings (for command lines and forms) and report an unknown value at {@code build()}.
     */
    public static final class Builder {
        private final String prompt;
        private final List<String> imageUrls = new ArrayList<>();
        private final List<FieldError> problems = new ArrayList<>();
        private AspectRatio aspectRatio;
        private String resolution;
        private Boolean includeText;
        private Integer numImages;
        private OutputFormat outputFormat;
        private Long seed;
        private Boolean syncMode;
        private Priority priority;
        private String webhookUrl;

        private Builder(String prompt) {
            this.prompt = prompt;
        }

        /** A reference image by URL ({@code http}, {@code https}) or {@code data:} URI. */
        public Builder imageUrl(String url) {
            imageUrls.add(url);
            return this;
        }

        /**
         * A reference image from a file, sent as a {@code data:} URI; its type is read from its
         * first bytes (PNG, JPEG, WebP or GIF).
         *
         * @throws UncheckedIOException when the file cannot be read
         */
        public Builder referenceImage(Path file) {
            int index = imageUrls.size();
            try {
                long size = Files.size(file);
                if (size > MAX_REFERENCE_FILE_BYTES) {
                    problems.add(new FieldError(List.of("body", "image_urls", index), "file " + file + " has " + size
                            + " bytes, more than the " + MAX_REFERENCE_FILE_BYTES + " a reference image may have", "too_large"));
                    imageUrls.add("data:image/png;base64,");
                    return this;
                }
                byte[] bytes = Files.readAllBytes(file);
                String type = imageType(bytes);
                if (type == null) {
                    problems.add(new FieldError(List.of("body", "image_urls", index),
                            "file " + file + " is not a PNG, JPEG, WebP or GIF image", "image_invalid"));
                    type = "png";
                }
                imageUrls.add("data:image/" + type + ";base64," + Base64.getEncoder().encodeToString(bytes));
                return this;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the reference image " + file + ": " + e.getMessage(), e);
            }
        }

        public Builder aspectRatio(AspectRatio ratio) {
            this.aspectRatio = ratio;
            return this;
        }

        /** {@code 16:9} and the like; null leaves it out. */
        public Builder aspectRatio(String ratio) {
            if (ratio != null) {
                AspectRatio.fromWire(ratio).ifPresentOrElse(r -> aspectRatio = r, () -> problems.add(FieldError.body(
                        "aspect_ratio", "Input should be one of " + join(AspectRatio.values(), true), "enum")));
            }
            return this;
        }

        /** {@code 1344x768} and the like; null leaves it out. */
        public Builder resolution(String resolution) {
            this.resolution = resolution;
            return this;
        }

        /** Whether the model's text comes back besides the images (default: yes). */
        public Builder includeText(boolean includeText) {
            this.includeText = includeText;
            return this;
        }

        public Builder numImages(int numImages) {
            this.numImages = numImages;
            return this;
        }

        public Builder outputFormat(OutputFormat format) {
            this.outputFormat = format;
            return this;
        }

        /** {@code png}, {@code jpeg} or {@code webp}; null leaves it out. */
        public Builder outputFormat(String format) {
            if (format != null) {
                OutputFormat.fromWire(format.toLowerCase(Locale.ROOT)).ifPresentOrElse(f -> outputFormat = f,
                        () -> problems.add(FieldError.body("output_format", "Input should be 'png', 'jpeg' or 'webp'", "enum")));
            }
            return this;
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Images come back inline as {@code data:} URIs instead of links. */
        public Builder syncMode(boolean syncMode) {
            this.syncMode = syncMode;
            return this;
        }

        public Builder priority(Priority priority) {
            this.priority = priority;
            return this;
        }

        public Builder webhookUrl(String url) {
            this.webhookUrl = url;
            return this;
        }

        /** @throws InvalidInputException listing every rule the fields break */
        public SubmitRequest build() {
            List<FieldError> errors = new ArrayList<>(problems);
            checkPrompt(errors);
            if (imageUrls.size() > MAX_IMAGE_URLS) {
                errors.add(FieldError.body("image_urls", "List should have at most " + MAX_IMAGE_URLS
                        + " items (it has " + imageUrls.size() + ")", "too_long"));
            }
            for (int i = 0; i < imageUrls.size(); i++) {
                String problem = urlProblem(imageUrls.get(i));
                int index = i;
                if (problem != null && errors.stream().noneMatch(e -> e.loc().equals(List.of("body", "image_urls", index)))) {
                    errors.add(new FieldError(List.of("body", "image_urls", i), problem, "url_parsing"));
                }
            }
            if (resolution != null) {
                AspectRatio implied = AspectRatio.fromResolution(resolution).orElse(null);
                if (implied == null) {
                    errors.add(FieldError.body("resolution", "Input should be one of " + join(AspectRatio.values(), false), "enum"));
                } else if (aspectRatio != null && aspectRatio != implied) {
                    errors.add(FieldError.body("resolution", "resolution " + resolution + " does not match aspect_ratio "
                            + aspectRatio.wire() + " (which is " + aspectRatio.resolution() + ")", "value_error"));
                }
            }
            if (numImages != null && (numImages < 1 || numImages > MAX_NUM_IMAGES)) {
                errors.add(FieldError.body("num_images", "Input should be from 1 to " + MAX_NUM_IMAGES, "range"));
            }
            if (webhookUrl != null && urlProblem(webhookUrl) != null) {
                errors.add(new FieldError(List.of("query", "fal_webhook"), urlProblem(webhookUrl), "url_parsing"));
            }
            if (!errors.isEmpty()) {
                throw new InvalidInputException(errors, false);
            }
            return new SubmitRequest(prompt, imageUrls, aspectRatio, resolution, includeText, numImages, outputFormat,
                    seed, syncMode, priority, webhookUrl);
        }

        private void checkPrompt(List<FieldError> errors) {
            if (prompt == null) {
                errors.add(FieldError.body("prompt", "Field required", "missing"));
                return;
            }
            int length = prompt.codePointCount(0, prompt.length());
            if (length < 1) {
                errors.add(FieldError.body("prompt", "String should have at least 1 character", "string_too_short"));
            } else if (length > MAX_PROMPT_CODE_POINTS) {
                errors.add(FieldError.body("prompt", "String should have at most " + MAX_PROMPT_CODE_POINTS
                        + " characters (it has " + length + ")", "string_too_long"));
            } else if (prompt.isBlank()) {
                errors.add(FieldError.body("prompt", "prompt must not be only white space", "value_error"));
            }
        }
    }

    /** Why {@code url} cannot be a reference image or webhook, or null when it can be. */
    private static String urlProblem(String url) {
        if (url == null) {
            return "Input should be a valid string";
        }
        if (url.regionMatches(true, 0, "data:", 0, 5)) {
            return DATA_IMAGE.matcher(url).matches() ? null : "a data: URI should be data:image/<type>;base64,<data>";
        }
        try {
            URI uri = new URI(url);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https")) {
                return "URL scheme should be 'http', 'https' or 'data'";
            }
            if (uri.getHost() == null || uri.getHost().isEmpty()) {
                return "URL should have a host";
            }
            return null;
        } catch (URISyntaxException e) {
            return "Input should be a valid URL: " + e.getReason();
        }
    }

    /** The image type named by the first bytes, as in {@code image/<type>}; null when none of ours. */
    static String imageType(byte[] b) {
        if (b.length >= 8 && (b[0] & 0xff) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') {
            return "png";
        }
        if (b.length >= 3 && (b[0] & 0xff) == 0xff && (b[1] & 0xff) == 0xd8 && (b[2] & 0xff) == 0xff) {
            return "jpeg";
        }
        if (b.length >= 12 && b[0] == 'R' && b[1] == 'I' && b[2] == 'F' && b[3] == 'F'
                && b[8] == 'W' && b[9] == 'E' && b[10] == 'B' && b[11] == 'P') {
            return "webp";
        }
        if (b.length >= 6 && b[0] == 'G' && b[1] == 'I' && b[2] == 'F' && b[3] == '8') {
            return "gif";
        }
        return null;
    }

    private static String join(AspectRatio[] ratios, boolean wire) {
        List<String> names = new ArrayList<>();
        for (AspectRatio r : ratios) {
            names.add("'" + (wire ? r.wire() : r.resolution()) + "'");
        }
        return String.join(", ", names);
    }
}
