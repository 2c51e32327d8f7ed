package io.genqueue.provider.openrouter;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.generation.ErrorType;
import io.genqueue.image.DataUri;
import io.genqueue.json.Json;
import io.genqueue.provider.ProviderException;
import java.net.http.HttpHeaders;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One chat-completions answer read and classified: either an image (with the model's text and
 * where OpenRouter routed the call), or a {@link ProviderException}.
 *
 * <p>OpenRouter reports failures two ways ({@code /docs/api/reference/errors-and-debugging}):
 * before generation starts, as an HTTP status with {@code {"error":{"code","message","metadata"}}};
 * once it has started, as HTTP 200 with that same {@code error} object in the body (or a choice
 * with {@code finish_reason "error"}). So a 200 is only a success once the body says so.
 *
 * <p>Classification (the gateway's {@code error_type} and whether another attempt may help):
 * <ul>
 *   <li>400: the upstream refused the request: final {@code provider_error}; an unknown model
 *       (400 "not a valid model ID", or 404 "No endpoints found") is reported as a model setting
 *       to fix, since models get retired.
 *   <li>401, and 403 without moderation details: the key is bad or disabled: final
 *       {@code provider_unavailable} (nothing the client can change).
 *   <li>402: the account is out of credits: final {@code provider_unavailable}.
 *   <li>403 with moderation details ({@code metadata.reasons} / {@code flagged_input}): final
 *       {@code content_policy_violation}.
 *   <li>408, 429, 500, 502, 503, 504: retryable {@code provider_unavailable}, with the
 *       {@code Retry-After} delay when the answer names one.
 *   <li>200 without an image: Gemini's policy finish reasons (or {@code content_filter}) are a final
 *       {@code content_policy_violation}; {@code IMAGE_OTHER}/{@code MAX_TOKENS}/{@code error} are a
 *       retryable {@code provider_error}; anything else (a text-only answer, {@code NO_IMAGE}) is a
 *       final {@code provider_error} quoting the model's text, which usually says why.
 * </ul>
 * Upstream text is quoted into messages clipped, and with the key blanked out should an upstream
 * ever echo it.
 *
 * @param image the first image's bytes, as sent
 * @param text the model's text, stripped; {@code ""} when there is none
 * @param generationId OpenRouter's id for the call ({@code gen-...}), {@code ""} if absent
 * @param servedBy the upstream provider OpenRouter chose (e.g. "Google AI Studio"), {@code ""} if absent
 * @param model the model that actually answered, {@code ""} if absent
 */
record ChatAnswer(byte[] image, String text, String generationId, String servedBy, String model) {

    /** Far above a 1K PNG in base64; a bigger body is a broken upstream, not an image. */
    static final long MAX_IMAGE_BYTES = 32L * 1024 * 1024;

    /** How much upstream text a message quotes. */
    static final int QUOTE_LIMIT = 500;

    /** Gemini finish reasons that mean a policy stopped the output (python-genai {@code FinishReason}). */
    private static final Set<String> POLICY_FINISH = Set.of(
            "SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION",
            "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION");

    /** Gemini finish reasons after which another attempt may well produce an image. */
    private static final Set<String> TRANSIENT_FINISH = Set.of("IMAGE_OTHER", "MAX_TOKENS");

    private static final Pattern UNKNOWN_MODEL =
            Pattern.compile("not a valid model|no endpoints found for|model .*not found", Pattern.CASE_INSENSITIVE);

    /**
     * Reads one HTTP answer.
     *
     * @param requestedModel the model the call asked for, named in "model unavailable" messages
     * @param apiKey blanked out of every quoted upstream text
     * @throws ProviderException for every answer that carries no image
     */
    static ChatAnswer read(int status, HttpHeaders headers, byte[] body, String requestedModel, String apiKey) {
        Quoter quote = new Quoter(apiKey);
        JsonNode root = parse(body);
        if (status != 200) {
            JsonNode error = root == null ? null : root.get("error");
            String message = error != null ? text(error.get("message")) : "";
            if (message.isEmpty() && root == null && body.length > 0) {
                message = new String(body, 0, Math.min(body.length, QUOTE_LIMIT), java.nio.charset.StandardCharsets.UTF_8);
            }
            JsonNode metadata = error != null ? error.get("metadata") : null;
            throw classify(status, message, metadata, retryAfter(headers), requestedModel, quote);
        }
        if (root == null || !root.isObject()) {
            throw ProviderException.retryable(ErrorType.PROVIDER_ERROR,
                    "answered HTTP 200 with a body that is not a JSON object", null, null);
        }
        JsonNode error = root.get("error");
        if (error != null && error.isObject()) {
            throw fromErrorObject(error, requestedModel, quote);
        }
        JsonNode choice = root.path("choices").path(0);
        if (!choice.isObject()) {
            throw ProviderException.retryable(ErrorType.PROVIDER_ERROR,
                    "answered HTTP 200 without any choice (no image, no text)", null, null);
        }
        if (choice.get("error") != null && choice.get("error").isObject()) {
            throw fromErrorObject(choice.get("error"), requestedModel, quote);
        }
        JsonNode message = choice.path("message");
        String text = content(message.get("content"));
        String image = firstImageUrl(message.get("images"));
        String finish = text(choice.get("finish_reason"));
        String nativeFinish = text(choice.get("native_finish_reason")).toUpperCase(Locale.ROOT);
        if (image == null) {
            throw noImage(finish, nativeFinish, text, quote);
        }
        byte[] bytes;
        try {
            bytes = DataUri.parse(image, MAX_IMAGE_BYTES).bytes();
        } catch (IllegalArgumentException e) {
            throw ProviderException.fatal(ErrorType.PROVIDER_ERROR,
                    "returned an image that is not a usable data URL (" + e.getMessage() + ")");
        }
        return new ChatAnswer(bytes, text, text(root.get("id")), text(root.get("provider")), text(root.get("model")));
    }

    private static ProviderException fromErrorObject(JsonNode error, String requestedModel, Quoter quote) {
        int code = error.path("code").canConvertToInt() ? error.path("code").asInt() : 0;
        return classify(code, text(error.get("message")), error.get("metadata"), null, requestedModel, quote);
    }

    /** The failure an OpenRouter error code (an HTTP status, or the code of a 200's error object) stands for. */
    static ProviderException classify(int code, String upstreamMessage, JsonNode metadata, Duration retryAfter,
            String requestedModel, Quoter quote) {
        String said = upstreamMessage.isBlank() ? "" : ": " + quote.of(upstreamMessage);
        if ((code == 400 || code == 404) && UNKNOWN_MODEL.matcher(upstreamMessage).find()) {
            return ProviderException.fatal(ErrorType.PROVIDER_ERROR, "model " + requestedModel
                    + " is not available (HTTP " + code + said + "); it may have been retired: check the model setting");
        }
        return switch (code) {
            case 400 -> ProviderException.fatal(ErrorType.PROVIDER_ERROR, "refused the request as invalid (HTTP 400" + said + ")");
            case 401 -> ProviderException.fatal(ErrorType.PROVIDER_UNAVAILABLE,
                    "rejected the gateway's API key (HTTP 401" + said + "); check the OpenRouter key setting");
            case 402 -> ProviderException.fatal(ErrorType.PROVIDER_UNAVAILABLE,
                    "the account has run out of credits (HTTP 402" + said + ")");
            case 403 -> isModeration(upstreamMessage, metadata)
                    ? ProviderException.fatal(ErrorType.CONTENT_POLICY_VIOLATION,
                            "the prompt or a reference image was flagged by moderation" + reasons(metadata, quote))
                    : ProviderException.fatal(ErrorType.PROVIDER_UNAVAILABLE,
                            "refused the gateway's API key (HTTP 403" + said + "); check the OpenRouter key setting");
            case 404 -> ProviderException.fatal(ErrorType.PROVIDER_ERROR, "answered HTTP 404" + said
                    + "; check the base URL and model settings");
            case 408 -> ProviderException.retryable(ErrorType.PROVIDER_UNAVAILABLE,
                    "timed out upstream (HTTP 408" + said + ")", retryAfter, null);
            case 429 -> ProviderException.retryable(ErrorType.PROVIDER_UNAVAILABLE,
                    "is rate limiting the gateway (HTTP 429" + said + ")", retryAfter, null);
            case 500, 502, 503, 504 -> ProviderException.retryable(ErrorType.PROVIDER_UNAVAILABLE,
                    "is unavailable or overloaded (HTTP " + code + said + ")", retryAfter, null);
            default -> code >= 400 && code < 500
                    ? ProviderException.fatal(ErrorType.PROVIDER_ERROR, "refused the request (HTTP " + code + said + ")")
                    : ProviderException.retryable(ErrorType.PROVIDER_ERROR,
                            "failed (" + (code > 0 ? "code " + code : "no code") + said + ")", retryAfter, null);
        };
    }

    private static ProviderException noImage(String finish, String nativeFinish, String text, Quoter quote) {
        String because = nativeFinish.isEmpty() ? finish : nativeFinish;
        String saying = text.isEmpty() ? "" : "; the model said: \"" + quote.of(text) + "\"";
        if (POLICY_FINISH.contains(nativeFinish) || finish.equals("content_filter")) {
            return ProviderException.fatal(ErrorType.CONTENT_POLICY_VIOLATION,
                    "the model declined to produce the image for content policy reasons (" + because + ")" + saying);
        }
        if (TRANSIENT_FINISH.contains(nativeFinish) || finish.equals("error") || finish.equals("length")) {
            return ProviderException.retryable(ErrorType.PROVIDER_ERROR,
                    "the model stopped without an image (" + because + ")" + saying, null, null);
        }
        if (!text.isEmpty()) {
            return ProviderException.fatal(ErrorType.PROVIDER_ERROR,
                    "the model answered with text but no image: \"" + quote.of(text) + "\"");
        }
        return ProviderException.fatal(ErrorType.PROVIDER_ERROR, "the model answered with neither an image nor text"
                + (because.isEmpty() ? "" : " (" + because + ")"));
    }

    private static boolean isModeration(String message, JsonNode metadata) {
        if (metadata != null && (metadata.has("reasons") || metadata.has("flagged_input"))) {
            return true;
        }
        String lower = message.toLowerCase(Locale.ROOT);
        return lower.contains("moderation") || lower.contains("flagged");
    }

    /** " (violence, hate)" from {@code metadata.reasons}; the flagged input itself is not quoted back. */
    private static String reasons(JsonNode metadata, Quoter quote) {
        if (metadata == null || !metadata.path("reasons").isArray() || metadata.path("reasons").isEmpty()) {
            return "";
        }
        List<String> reasons = new ArrayList<>();
        metadata.path("reasons").forEach(r -> reasons.add(text(r)));
        return " (" + quote.of(String.join(", ", reasons)) + ")";
    }

    /** {@code content} is a string, null, or (in some answers) an array of text parts. */
    private static String content(JsonNode content) {
        if (content == null || content.isNull()) {
            return "";
        }
        if (content.isArray()) {
            StringBuilder text = new StringBuilder();
            for (JsonNode part : content) {
                if (part.path("text").isTextual()) {
                    text.append(part.path("text").asText());
                }
            }
            return text.toString().strip();
        }
        return text(content).strip();
    }

    private static String firstImageUrl(JsonNode images) {
        if (images == null || !images.isArray()) {
            return null;
        }
        for (JsonNode image : images) {
            JsonNode url = image.path("image_url");
            if (url.isTextual()) {
                return url.asText();
            }
            if (url.path("url").isTextual()) {
                return url.path("url").asText();
            }
        }
        return null;
    }

    private static JsonNode parse(byte[] body) {
        if (body == null || body.length == 0) {
            return null;
        }
        try {
            return Json.parse(body);
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    private static String text(JsonNode node) {
        return node == null || node.isNull() || node.isContainerNode() ? "" : node.asText();
    }

    /**
     * {@code Retry-After} as seconds (decimals tolerated) or an HTTP date; null when absent or unreadable.
     */
    static Duration retryAfter(HttpHeaders headers) {
        String value = headers.firstValue("retry-after").map(String::strip).orElse("");
        if (value.isEmpty()) {
            return null;
        }
        try {
            double seconds = Double.parseDouble(value);
            if (seconds >= 0 && seconds < 366 * 86_400d) {
                return Duration.ofMillis(Math.round(seconds * 1000));
            }
            return null;
        } catch (NumberFormatException notSeconds) {
            try {
                Duration until = Duration.between(ZonedDateTime.now(),
                        ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME));
                return until.isNegative() ? Duration.ZERO : until;
            } catch (DateTimeParseException notADate) {
                return null;
            }
        }
    }

    /** Quotes upstream text into a client-facing message: clipped, single-line, never the key. */
    record Quoter(String apiKey) {

        String of(String upstream) {
            String s = upstream.replaceAll("\\s+", " ").strip();
            if (apiKey != null && !apiKey.isEmpty()) {
                s = s.replace(apiKey, "[redacted]");
            }
            if (s.codePointCount(0, s.length()) > QUOTE_LIMIT) {
                s = s.substring(0, s.offsetByCodePoints(0, QUOTE_LIMIT)) + "...";
            }
            return s;
        }
    }
}
