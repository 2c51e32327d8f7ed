package io.genqueue.provider.gemini;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.generation.ErrorType;
import io.genqueue.json.Json;
import io.genqueue.provider.ProviderException;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads one {@code generateContent} answer: the image and text of a success, or the
 * {@link ProviderException} that names why there is no image (providers.md sections 1.6 to 1.8).
 * Messages quote the upstream's own words, shortened, with the key scrubbed should it ever
 * appear; they carry no provider prefix (the caller adds its name).
 */
final class GeminiAnswers {

    /** Text-level and image-level policy stops: the same request would be blocked again. */
    private static final Set<String> POLICY_STOPS = Set.of("SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII",
            "RECITATION", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION");
    /** Stops that another attempt may not repeat. */
    private static final Set<String> TRANSIENT_STOPS = Set.of("MAX_TOKENS", "IMAGE_OTHER");

    private static final Pattern RETRY_IN = Pattern.compile("(?i)retry in ([0-9]+(?:\\.[0-9]+)?)\\s*s");
    private static final Pattern DURATION = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)s");
    /**
     * Quota ids ({@code GenerateRequestsPerDayPerProjectPerModel-FreeTier}) and messages that mean
     * the quota resets only tomorrow. Not "billing": Google's per-minute 429 says "check your plan
     * and billing details" too.
     */
    private static final Pattern DAILY = Pattern.compile("(?i)per ?day|daily");

    private GeminiAnswers() {
    }

    /**
     * The answer of one call.
     *
     * @param retryAfterHeader a {@code Retry-After} header, which Google never sends but a proxy may
     * @throws ProviderException for every answer without an image
     */
    static GeminiProvider.Answer read(int status, byte[] body, Optional<String> retryAfterHeader, String model, String key) {
        if (status == 200) {
            return success(parse(body, status, key), key);
        }
        JsonNode error = parseQuietly(body).path("error");
        String rpcStatus = error.path("status").asText("");
        String message = clean(error.path("message").asText(""), key);
        if (message.isEmpty()) {
            message = clean(new String(body, StandardCharsets.UTF_8), key);
        }
        String head = status + (rpcStatus.isEmpty() ? "" : " " + rpcStatus);
        String reason = errorInfoReason(error);
        throw failure(status, head, message, reason, rpcStatus, error, retryAfterHeader, model);
    }

    private static ProviderException failure(int status, String head, String message, String reason, String rpcStatus,
            JsonNode error, Optional<String> retryAfterHeader, String model) {
        return switch (status) {
            case 400 -> {
                if (reason.equals("API_KEY_INVALID")) {
                    yield ProviderException.fatal(ErrorType.PROVIDER_ERROR,
                            head + " API_KEY_INVALID: the configured Gemini API key is not valid");
                }
                if (rpcStatus.equals("FAILED_PRECONDITION")) {
                    yield ProviderException.fatal(ErrorType.PROVIDER_ERROR,
                            head + ": " + message + " (billing or region: check the Gemini project)");
                }
                yield ProviderException.fatal(ErrorType.PROVIDER_ERROR, head + ": " + message);
            }
            case 401, 403 -> ProviderException.fatal(ErrorType.PROVIDER_ERROR,
                    head + ": " + message + " (check the configured Gemini API key and project)");
            case 404 -> ProviderException.fatal(ErrorType.PROVIDER_ERROR,
                    head + ": model " + model + " not found (model retired? check the configured model): " + message);
            case 429 -> rateLimited(head, message, error, retryAfterHeader);
            case 408 -> ProviderException.retryable(ErrorType.PROVIDER_UNAVAILABLE, head + ": " + message, null, null);
            case 503, 504 -> ProviderException.retryable(ErrorType.PROVIDER_UNAVAILABLE, head + ": " + message,
                    headerDelay(retryAfterHeader), null);
            default -> status >= 500
                    ? ProviderException.retryable(ErrorType.PROVIDER_ERROR, head + ": " + message, headerDelay(retryAfterHeader), null)
                    : ProviderException.fatal(ErrorType.PROVIDER_ERROR, head + ": " + message);
        };
    }

    private static GeminiProvider.Answer success(JsonNode root, String key) {
        JsonNode candidate = root.path("candidates").path(0);
        String blockReason = root.path("promptFeedback").path("blockReason").asText("");
        if (candidate.isMissingNode()) {
            if (!blockReason.isEmpty()) {
                String detail = root.path("promptFeedback").path("blockReasonMessage").asText("");
                throw ProviderException.fatal(ErrorType.CONTENT_POLICY_VIOLATION, "the prompt was blocked (blockReason "
                        + blockReason + ")" + (detail.isEmpty() ? "" : ": " + clean(detail, key)));
            }
            throw ProviderException.retryable(ErrorType.PROVIDER_ERROR, "200 with neither an image nor a reason", null, null);
        }
        StringBuilder text = new StringBuilder();
        byte[] image = null;
        for (JsonNode part : candidate.path("content").path("parts")) {
            if (part.path("thought").asBoolean(false)) {
                continue; // the model's reasoning, not its answer
            }
            if (part.has("text")) {
                text.append(part.get("text").asText(""));
            }
            JsonNode inline = part.has("inlineData") ? part.get("inlineData") : part.path("inline_data");
            String mime = inline.has("mimeType") ? inline.path("mimeType").asText("") : inline.path("mime_type").asText("");
            if (mime.toLowerCase(Locale.ROOT).startsWith("image/")) {
                image = decode(inline.path("data").asText(""));
            }
        }
        String finishReason = candidate.path("finishReason").asText("");
        if (image != null) {
            return new GeminiProvider.Answer(image, text.toString()); // the last image wins, as in gemimg
        }
        String said = text.isEmpty() ? "" : "; the model said: \"" + clean(text.toString(), key) + "\"";
        String finishMessage = candidate.path("finishMessage").asText("");
        String because = finishReason.isEmpty() ? "" : " (finishReason " + finishReason + ")";
        String detail = (finishMessage.isEmpty() ? "" : ": " + clean(finishMessage, key)) + said;
        if (POLICY_STOPS.contains(finishReason) || !blockReason.isEmpty()) {
            throw ProviderException.fatal(ErrorType.CONTENT_POLICY_VIOLATION, "the image was blocked" + because
                    + (blockReason.isEmpty() ? "" : " (blockReason " + blockReason + ")") + detail);
        }
        if (TRANSIENT_STOPS.contains(finishReason)) {
            throw ProviderException.retryable(ErrorType.PROVIDER_ERROR, "no image" + because + detail, null, null);
        }
        if (finishReason.equals("NO_IMAGE")) {
            throw ProviderException.fatal(ErrorType.PROVIDER_ERROR, "the model produced no image (finishReason NO_IMAGE)"
                    + detail);
        }
        if (!text.isEmpty()) {
            throw ProviderException.fatal(ErrorType.PROVIDER_ERROR, "the model answered with text only, no image" + because
                    + detail);
        }
        throw ProviderException.fatal(ErrorType.PROVIDER_ERROR, "the model produced no image" + because + detail);
    }

    private static ProviderException rateLimited(String head, String message, JsonNode error, Optional<String> header) {
        String dailyQuota = null;
        Duration delay = null;
        for (JsonNode detail : error.path("details")) {
            String type = detail.path("@type").asText("");
            if (type.endsWith("google.rpc.QuotaFailure")) {
                for (JsonNode violation : detail.path("violations")) {
                    String quotaId = violation.path("quotaId").asText("");
                    if (DAILY.matcher(quotaId).find()) {
                        dailyQuota = quotaId;
                    }
                }
            } else if (type.endsWith("google.rpc.RetryInfo")) {
                delay = protoDuration(detail.path("retryDelay").asText(""));
            }
        }
        if (dailyQuota != null || DAILY.matcher(message).find()) {
            return ProviderException.fatal(ErrorType.PROVIDER_UNAVAILABLE, head + ": the daily quota is exhausted"
                    + (dailyQuota == null ? "" : " (" + dailyQuota + ")") + ": " + message);
        }
        if (delay == null) {
            Matcher m = RETRY_IN.matcher(message);
            delay = m.find() ? seconds(m.group(1)) : headerDelay(header);
        }
        return ProviderException.retryable(ErrorType.PROVIDER_UNAVAILABLE, head + ": " + message, delay, null);
    }

    /** The reason of a {@code google.rpc.ErrorInfo} detail, or "". */
    private static String errorInfoReason(JsonNode error) {
        for (JsonNode detail : error.path("details")) {
            if (detail.path("@type").asText("").endsWith("google.rpc.ErrorInfo")) {
                return detail.path("reason").asText("");
            }
        }
        return "";
    }

    /** A protobuf Duration in JSON form, e.g. {@code "26s"} or {@code "45.837906927s"}; null if it is not one. */
    static Duration protoDuration(String value) {
        Matcher m = DURATION.matcher(value.strip());
        return m.matches() ? seconds(m.group(1)) : null;
    }

    private static Duration seconds(String decimal) {
        BigDecimal nanos = new BigDecimal(decimal).movePointRight(9);
        return nanos.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0 ? null : Duration.ofNanos(nanos.longValue());
    }

    private static Duration headerDelay(Optional<String> header) {
        if (header.isEmpty()) {
            return null;
        }
        try {
            long seconds = Long.parseLong(header.get().strip());
            return seconds >= 0 ? Duration.ofSeconds(seconds) : null;
        } catch (NumberFormatException e) {
            return null; // an HTTP date: rare enough to leave to the backoff
        }
    }

    private static byte[] decode(String base64) {
        try {
            return Base64.getMimeDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            throw ProviderException.fatal(ErrorType.PROVIDER_ERROR, "200 with an image whose base64 data does not decode");
        }
    }

    private static JsonNode parse(byte[] body, int status, String key) {
        try {
            return Json.parse(body);
        } catch (IOException e) {
            String start = clean(new String(body, 0, Math.min(body.length, 200), StandardCharsets.UTF_8), key);
            throw ProviderException.retryable(ErrorType.PROVIDER_ERROR, status + " with a body that is not JSON: \"" + start
                    + "\"", null, e);
        }
    }

    private static JsonNode parseQuietly(byte[] body) {
        try {
            return Json.parse(body);
        } catch (IOException e) {
            return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
        }
    }

    /**
     * Upstream text made fit for a message: the key (should it be echoed) replaced, control
     * characters and runs of white space collapsed, and shortened to {@link GeminiProvider#QUOTE_LIMIT}.
     */
    static String clean(String text, String key) {
        String s = text;
        if (key != null && !key.isEmpty()) {
            s = s.replace(key, "***");
        }
        s = s.replaceAll("[\\p{Cntrl}\\s]+", " ").strip();
        if (s.length() > GeminiProvider.QUOTE_LIMIT) {
            s = s.substring(0, GeminiProvider.QUOTE_LIMIT).stripTrailing() + "...";
        }
        return s;
    }
}
