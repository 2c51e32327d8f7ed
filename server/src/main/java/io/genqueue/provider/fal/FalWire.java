package io.genqueue.provider.fal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genqueue.generation.ErrorType;
import io.genqueue.image.ImageData;
import io.genqueue.image.ImageFormat;
import io.genqueue.image.OutputFormat;
import io.genqueue.json.Json;
import io.genqueue.provider.GenerationRequest;
import io.genqueue.provider.ProviderException;
import io.genqueue.provider.Transcoder;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * fal's wire format as pure steps, testable without a socket: the input JSON of
 * {@code fal-ai/nano-banana[/edit]}, the submit answer, the status and result bodies, and the
 * classification of an error answer as retryable or final (reference/providers.md §4, §6.3;
 * queue-api.md §1).
 */
final class FalWire {

    static final String PROVIDER = "fal";
    private static final Set<ImageFormat> ACCEPTED_REFERENCES = Set.of(ImageFormat.PNG, ImageFormat.JPEG, ImageFormat.WEBP);
    private static final int MAX_MESSAGE = 300;

    private FalWire() {
    }

    /** The queue's status values; fal has no others (a failure is {@code COMPLETED} too). */
    enum Status { IN_QUEUE, IN_PROGRESS, COMPLETED, UNKNOWN }

    /** An image of a result: where to get it. */
    record ResultImage(String url) {
    }

    /** A parsed result: its images' URLs and the model's text. */
    record Result(List<ResultImage> images, String description) {
    }

    // ---------------------------------------------------------------- requests

    /** The app id without an {@code /edit} sub-path: {@code fal-ai/nano-banana/edit} becomes {@code fal-ai/nano-banana}. */
    static String app(String model) {
        String trimmed = model.strip();
        while (trimmed.endsWith("/")) {
            trimmed = trimmed.substring(0, trimmed.length() - 1);
        }
        return trimmed.endsWith("/edit") ? trimmed.substring(0, trimmed.length() - "/edit".length()) : trimmed;
    }

    /** The endpoint to submit to: the app, or its {@code /edit} endpoint when there are reference images. */
    static String endpoint(String app, GenerationRequest request) {
        return request.references().isEmpty() ? app : app + "/edit";
    }

    /**
     * The input JSON: {@code prompt}, {@code num_images}, {@code output_format}, {@code aspect_ratio},
     * {@code sync_mode: false} (images come as URLs, keeping the result small), and with references
     * {@code image_urls} as data URIs. fal's schema forbids unknown fields, so nothing else is sent
     * (no seed: the model takes none). WebP is asked for as PNG and converted here, since only later
     * versions of the schema list {@code webp}.
     */
    static ObjectNode input(GenerationRequest request) {
        return input(request, false);
    }

    /** As above; with {@code sendsImageSize}, the size tier goes as fal's {@code resolution} (nano-banana-pro's field). */
    static ObjectNode input(GenerationRequest request, boolean sendsImageSize) {
        ObjectNode body = Json.mapper().createObjectNode();
        body.put("prompt", request.prompt());
        body.put("num_images", request.numImages());
        body.put("output_format", upstreamFormat(request.format()).wire());
        body.put("aspect_ratio", request.aspectRatio().wire());
        if (sendsImageSize && request.imageSize() != null) {
            body.put("resolution", request.imageSize());
        }
        body.put("sync_mode", false);
        if (!request.references().isEmpty()) {
            ArrayNode urls = body.putArray("image_urls");
            for (ImageData reference : request.references()) {
                ImageData accepted = Transcoder.acceptable(reference, ACCEPTED_REFERENCES, PROVIDER);
                urls.add("data:" + accepted.info().contentType() + ";base64,"
                        + Base64.getEncoder().encodeToString(accepted.bytes()));
            }
        }
        return body;
    }

    static OutputFormat upstreamFormat(OutputFormat wanted) {
        return wanted == OutputFormat.JPEG ? OutputFormat.JPEG : OutputFormat.PNG;
    }

    // ---------------------------------------------------------------- answers

    /**
     * The ticket in a submit answer. fal returns absolute URLs; any that is missing is built the way
     * fal builds it (the app id without its sub-path), and any on another origin than {@code base}
     * is moved onto {@code base}, so the key only ever goes where it was configured to go.
     */
    static Ticket ticket(JsonNode answer, URI base, String app) {
        String id = answer.path("request_id").asText("");
        if (id.isBlank() || !id.matches("[A-Za-z0-9._-]{1,200}")) {
            throw ProviderException.retryable(ErrorType.PROVIDER_ERROR, "the submit answer had no usable request_id", null, null);
        }
        String requests = trimSlash(base.toString()) + "/" + app + "/requests/" + id;
        return new Ticket(id,
                onBase(base, answer.path("status_url").asText(null), requests + "/status"),
                onBase(base, answer.path("response_url").asText(null), requests),
                onBase(base, answer.path("cancel_url").asText(null), requests + "/cancel"));
    }

    /** A kept ticket with its URLs moved onto {@code base} when they point elsewhere (the key goes only to {@code base}). */
    static Ticket onBase(URI base, Ticket kept) {
        return new Ticket(kept.requestId(),
                onBase(base, kept.statusUrl().toString(), kept.statusUrl().toString()),
                onBase(base, kept.responseUrl().toString(), kept.responseUrl().toString()),
                onBase(base, kept.cancelUrl().toString(), kept.cancelUrl().toString()));
    }

    /** {@code url} if it is on {@code base}'s origin; its path on {@code base} if not; {@code fallback} when absent. */
    static URI onBase(URI base, String url, String fallback) {
        if (url == null || url.isBlank()) {
            return URI.create(fallback);
        }
        URI u;
        try {
            u = URI.create(url);
        } catch (IllegalArgumentException e) {
            return URI.create(fallback);
        }
        if (sameOrigin(base, u)) {
            return u;
        }
        if (u.getRawPath() == null || u.getRawPath().isEmpty()) {
            return URI.create(fallback);
        }
        return URI.create(trimSlash(base.toString()) + u.getRawPath() + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery()));
    }

    static boolean sameOrigin(URI a, URI b) {
        return a.getScheme() != null && a.getScheme().equalsIgnoreCase(b.getScheme())
                && a.getHost() != null && a.getHost().equalsIgnoreCase(b.getHost())
                && port(a) == port(b);
    }

    private static int port(URI u) {
        if (u.getPort() >= 0) {
            return u.getPort();
        }
        return "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
    }

    private static String trimSlash(String s) {
        return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }

    static Status status(JsonNode body) {
        String s = body.path("status").asText("");
        for (Status status : Status.values()) {
            if (status.name().equals(s)) {
                return status;
            }
        }
        return Status.UNKNOWN;
    }

    /**
     * The images and text of a result body.
     *
     * @throws ProviderException final {@code PROVIDER_ERROR} when the result has no image
     */
    static Result result(JsonNode body) {
        List<ResultImage> images = new ArrayList<>();
        for (JsonNode image : body.path("images")) {
            String url = image.path("url").asText("");
            if (!url.isBlank()) {
                images.add(new ResultImage(url));
            }
        }
        if (images.isEmpty()) {
            throw ProviderException.fatal(ErrorType.PROVIDER_ERROR, "the request completed without an image"
                    + (body.path("description").asText("").isBlank() ? "" : " (the model said: "
                    + clip(body.path("description").asText()) + ")"));
        }
        return new Result(images, body.path("description").asText(""));
    }

    // ---------------------------------------------------------------- errors

    /**
     * Classifies an error answer (providers.md §6.3): a refused key, an unknown model and invalid
     * input are final; a content-policy block is final with its own type; a rate limit, 408 and 5xx
     * are retryable, with the {@code Retry-After} delay when one is named.
     *
     * @param what what was asked, for the message ("submit", "status", "result")
     */
    static ProviderException classify(String what, int status, byte[] body, HttpHeaders headers, String model) {
        JsonNode json = parseOrNull(body);
        String detail = detailText(json, body);
        Duration retryAfter = retryAfter(headers).orElse(null);
        String suffix = detail.isEmpty() ? "" : ": " + detail;
        return switch (status) {
            case 401, 403 -> ProviderException.fatal(ErrorType.PROVIDER_ERROR,
                    "the API key was refused (HTTP " + status + suffix + "); check the configured fal key");
            case 404 -> ProviderException.fatal(ErrorType.PROVIDER_ERROR,
                    "model '" + model + "' was not found (HTTP 404 on " + what + "); it may be retired or misspelled");
            case 422 -> invalid(json, detail);
            case 429 -> ProviderException.retryable(ErrorType.PROVIDER_UNAVAILABLE, "rate limited (HTTP 429" + suffix + ")",
                    retryAfter, null);
            case 408 -> ProviderException.retryable(ErrorType.PROVIDER_UNAVAILABLE, "timed out upstream (HTTP 408" + suffix + ")",
                    retryAfter, null);
            case 499 -> ProviderException.retryable(ErrorType.PROVIDER_ERROR,
                    "the upstream request was cancelled (HTTP 499" + suffix + ")", null, null);
            default -> {
                if (status == 503 || status == 504) {
                    yield ProviderException.retryable(ErrorType.PROVIDER_UNAVAILABLE,
                            "unavailable (HTTP " + status + " on " + what + suffix + ")", retryAfter, null);
                }
                if (status >= 500) {
                    yield ProviderException.retryable(ErrorType.PROVIDER_ERROR,
                            "upstream error (HTTP " + status + " on " + what + suffix + ")", retryAfter, null);
                }
                yield ProviderException.fatal(ErrorType.PROVIDER_ERROR, "unexpected answer (HTTP " + status + " on " + what
                        + suffix + ")");
            }
        };
    }

    /** A 422: a content-policy block when any entry says so, else the input was refused. */
    private static ProviderException invalid(JsonNode json, String detail) {
        JsonNode entries = json == null ? null : json.get("detail");
        if (entries != null && entries.isArray()) {
            for (JsonNode entry : entries) {
                if ("content_policy_violation".equals(entry.path("type").asText())) {
                    String msg = entry.path("msg").asText("");
                    return ProviderException.fatal(ErrorType.CONTENT_POLICY_VIOLATION,
                            "content policy violation" + (msg.isBlank() ? "" : ": " + clip(msg)));
                }
            }
        }
        return ProviderException.fatal(ErrorType.VALIDATION_ERROR, "the input was refused (HTTP 422"
                + (detail.isEmpty() ? "" : ": " + detail) + ")");
    }

    /**
     * A person-readable summary of fal's {@code detail}: the string, or each entry as
     * {@code location: message}; else the start of the body when it is text.
     */
    static String detailText(JsonNode json, byte[] body) {
        if (json != null) {
            JsonNode detail = json.get("detail");
            if (detail != null && detail.isTextual()) {
                return clip(detail.asText());
            }
            if (detail != null && detail.isArray()) {
                List<String> parts = new ArrayList<>();
                for (JsonNode entry : detail) {
                    List<String> loc = new ArrayList<>();
                    for (JsonNode l : entry.path("loc")) {
                        if (!(loc.isEmpty() && l.asText().equals("body"))) {
                            loc.add(l.asText());
                        }
                    }
                    String msg = entry.path("msg").asText("");
                    parts.add(loc.isEmpty() ? msg : String.join(".", loc) + ": " + msg);
                }
                return clip(String.join("; ", parts));
            }
            return "";
        }
        String text = new String(body, java.nio.charset.StandardCharsets.UTF_8).strip();
        return text.startsWith("<") ? "" : clip(text);
    }

    /** The {@code Retry-After} header as a delay: seconds, or an HTTP date. */
    static Optional<Duration> retryAfter(HttpHeaders headers) {
        Optional<String> value = headers.firstValue("retry-after").map(String::strip);
        if (value.isEmpty() || value.get().isEmpty()) {
            return Optional.empty();
        }
        String v = value.get();
        try {
            double seconds = Double.parseDouble(v);
            return seconds >= 0 && seconds < 86_400 ? Optional.of(Duration.ofMillis((long) (seconds * 1000))) : Optional.empty();
        } catch (NumberFormatException notSeconds) {
            try {
                Duration d = Duration.between(java.time.Instant.now(),
                        ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant());
                return Optional.of(d.isNegative() ? Duration.ZERO : d);
            } catch (DateTimeParseException e) {
                return Optional.empty();
            }
        }
    }

    static JsonNode parseOrNull(byte[] body) {
        if (body == null || body.length == 0) {
            return null;
        }
        try {
            return Json.parse(body);
        } catch (Exception e) {
            return null;
        }
    }

    /** Upstream text, shortened and on one line. */
    static String clip(String s) {
        String one = s.replaceAll("\\s+", " ").strip();
        return one.length() > MAX_MESSAGE ? one.substring(0, MAX_MESSAGE) + "..." : one;
    }
}
