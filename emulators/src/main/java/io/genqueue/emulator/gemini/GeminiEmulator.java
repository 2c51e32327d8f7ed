package io.genqueue.emulator.gemini;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genqueue.emulator.EmulatorImages;
import io.genqueue.emulator.Scenarios;
import io.genqueue.image.AspectRatio;
import io.genqueue.image.OutputFormat;
import io.genqueue.json.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A local stand-in for Google's Gemini API serving {@code gemini-2.5-flash-image}: a real HTTP
 * server that speaks {@code POST /v1beta/models/{model}:generateContent} as providers.md section 1
 * describes it, checks requests as strictly as the real API, and plays the scenarios of the
 * section 7 matrix on demand.
 *
 * <p><b>Requests.</b> The key comes in the {@code x-goog-api-key} header (or {@code ?key=}): none
 * is 403 {@code PERMISSION_DENIED}; one other than the key given at start (any non-empty key when
 * none was given) is 400 {@code INVALID_ARGUMENT} with {@code ErrorInfo.reason API_KEY_INVALID}.
 * A model other than {@value #MODEL} and {@value #PRO_MODEL} is 404 {@code NOT_FOUND}; each answers at
 * its own sizes ({@link ImageModel}: the pro model's {@code imageConfig.imageSize} 1K, 2K, 4K). The body is checked by
 * {@link RequestCheck}: unknown field names ({@code Invalid JSON payload received. Unknown name
 * ...}), wrong types, more than three images, MIME types other than PNG, JPEG, WebP, HEIC and HEIF,
 * images that do not decode or exceed 7 MB, an aspect ratio outside the ten, modalities without
 * {@code IMAGE}, all 400 {@code INVALID_ARGUMENT} with a {@code BadRequest} detail; a body over
 * 20 MB is 400 too. Field names may be snake_case or camelCase; answers are always camelCase.
 *
 * <p><b>Images.</b> PNG, at the exact size of the 2.5 table for the requested aspect ratio; with
 * none, the first input image's shape snapped to the nearest ratio, else 1:1. Rendered by
 * {@link EmulatorImages} from the prompt and a running image number, so every image differs.
 * {@code usageMetadata} bills 1290 {@code IMAGE} tokens per image.
 *
 * <p><b>Scenarios</b>, chosen by {@link Scenarios#pick} (the {@code X-Emulator-Scenario} header or
 * a {@code [emulate:NAME]} token in the prompt), after the request passed the checks above:
 * <table>
 * <caption>scenarios</caption>
 * <tr><th>name</th><th>answer</th></tr>
 * <tr><td>{@code ok}</td><td>200, a text part then the image (the image alone when
 *     {@code responseModalities} is {@code ["IMAGE"]})</td></tr>
 * <tr><td>{@code image_first}</td><td>200, the image, then the text in two parts</td></tr>
 * <tr><td>{@code image_only}</td><td>200, one {@code inlineData} part whatever the modalities</td></tr>
 * <tr><td>{@code prompt_blocked}</td><td>200, {@code promptFeedback.blockReason PROHIBITED_CONTENT}, no candidates</td></tr>
 * <tr><td>{@code output_blocked}</td><td>200, {@code finishReason IMAGE_SAFETY} with a {@code finishMessage}, content
 *     with a role only</td></tr>
 * <tr><td>{@code prohibited}</td><td>200, {@code finishReason IMAGE_PROHIBITED_CONTENT}, no content at all</td></tr>
 * <tr><td>{@code no_image}</td><td>200, {@code finishReason NO_IMAGE}, no parts</td></tr>
 * <tr><td>{@code text_only}</td><td>200, {@code finishReason STOP} with a refusal as the only (text) part</td></tr>
 * <tr><td>{@code max_tokens}</td><td>200, {@code finishReason MAX_TOKENS}, no parts</td></tr>
 * <tr><td>{@code bad_request}</td><td>400 {@code INVALID_ARGUMENT} with {@code BadRequest.fieldViolations}</td></tr>
 * <tr><td>{@code bad_key}</td><td>400 {@code INVALID_ARGUMENT}, {@code ErrorInfo.reason API_KEY_INVALID}</td></tr>
 * <tr><td>{@code permission_denied}</td><td>403 {@code PERMISSION_DENIED}</td></tr>
 * <tr><td>{@code rate_limit}</td><td>429 {@code RESOURCE_EXHAUSTED}, a per-minute {@code QuotaFailure} and
 *     {@code RetryInfo.retryDelay "7.5s"}; no {@code Retry-After} header</td></tr>
 * <tr><td>{@code daily_quota}</td><td>429 {@code RESOURCE_EXHAUSTED} for quota
 *     {@code GenerateRequestsPerDayPerProjectPerModel-FreeTier} (with a {@code RetryInfo} too, as Google sends)</td></tr>
 * <tr><td>{@code overloaded}</td><td>503 {@code UNAVAILABLE} "The model is overloaded."</td></tr>
 * <tr><td>{@code internal}</td><td>500 {@code INTERNAL}</td></tr>
 * <tr><td>{@code timeout504}</td><td>504 {@code DEADLINE_EXCEEDED}</td></tr>
 * <tr><td>{@code retired_model}</td><td>404 {@code NOT_FOUND}, as for a model id that no longer exists</td></tr>
 * <tr><td>{@code not_json}</td><td>200 with an HTML body, as a misbehaving proxy might send</td></tr>
 * <tr><td>{@code slow}</td><td>{@code ok} after {@value #SLOW_MILLIS} ms</td></tr>
 * <tr><td>{@code stall}</td><td>no answer at all, until the client closes the connection (counted in
 *     {@link #aborted()}) or the emulator closes</td></tr>
 * <tr><td>{@code drop}</td><td>the connection is closed without a response</td></tr>
 * <tr><td>{@code oversized}</td><td>200 with a JSON body of 1 GiB, sent until the client closes the connection
 *     (counted in {@link #aborted()})</td></tr>
 * </table>
 * An unknown scenario name is 400 {@code INVALID_ARGUMENT} naming the known ones.
 *
 * <p>Every request is recorded ({@link #requests()}), with what the emulator answered, so tests
 * can assert what a client sent and compare the images it got. The emulator never logs keys.
 */
public final class GeminiEmulator implements AutoCloseable {

    /** The one model served. */
    public static final String MODEL = "gemini-2.5-flash-image";
    /** The second model served: Gemini 3 Pro Image, with size tiers. */
    public static final String PRO_MODEL = "gemini-3-pro-image-preview";
    /** Tokens billed per output image. */
    public static final int IMAGE_TOKENS = 1290;
    static final long MAX_REQUEST_BYTES = 20L * 1024 * 1024;
    static final long SLOW_MILLIS = 2000;

    public static final Set<String> SCENARIOS = Set.of("ok", "image_first", "image_only", "prompt_blocked",
            "output_blocked", "prohibited", "no_image", "text_only", "max_tokens", "bad_request", "bad_key",
            "permission_denied", "rate_limit", "daily_quota", "overloaded", "internal", "timeout504", "retired_model",
            "not_json", "slow", "stall", "drop", "oversized");
    /** What {@code oversized} sends: far more than any real answer (one image is a few MiB). */
    static final long OVERSIZED_BYTES = 1L << 30;

    private static final Pattern PATH = Pattern.compile("/v1beta/models/([^/:]+):generateContent");
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    /**
     * One request as received, and what it got.
     *
     * @param target the request target: path and query
     * @param headers lower-cased names
     * @param scenario the scenario played, or null when the request was refused before one was picked
     * @param status the HTTP status answered; 0 when the connection was dropped or left without an answer
     * @param images the PNG images in the answer, in order
     */
    public record Exchange(String method, String target, Map<String, String> headers, String body, String scenario,
            int status, List<byte[]> images) {

        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        /** The body as JSON. */
        public JsonNode json() {
            try {
                return Json.mapper().readTree(body);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private final String host;
    private final String expectedKey;
    private final WireServer server;
    private final List<Exchange> exchanges = new ArrayList<>();
    private final AtomicInteger imageNumber = new AtomicInteger();
    private final AtomicInteger responseNumber = new AtomicInteger();
    private int aborted;

    private GeminiEmulator(String host, int port, String expectedKey) {
        this.host = host;
        this.expectedKey = expectedKey;
        this.server = WireServer.start(host, port, new Handler(), MAX_REQUEST_BYTES + 1024 * 1024);
    }

    /** An emulator on {@code host:port} ({@code 0}: a free port) that takes any non-empty key. */
    public static GeminiEmulator start(String host, int port) {
        return new GeminiEmulator(host, port, null);
    }

    /** An emulator on {@code host:port} ({@code 0}: a free port) that takes only {@code expectedKey}. */
    public static GeminiEmulator start(String host, int port, String expectedKey) {
        if (expectedKey == null || expectedKey.isBlank()) {
            throw new IllegalArgumentException("expectedKey must not be blank");
        }
        return new GeminiEmulator(host, port, expectedKey);
    }

    public int port() {
        return server.port();
    }

    /** The base URL to configure a client with, e.g. {@code http://127.0.0.1:43117}. */
    public URI baseUrl() {
        String h = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
        return URI.create("http://" + h + ":" + port());
    }

    /** How many requests arrived (on any path, answered or not). */
    public int calls() {
        synchronized (exchanges) {
            return exchanges.size();
        }
    }

    /** Every request so far, in order of arrival. */
    public List<Exchange> requests() {
        synchronized (exchanges) {
            return List.copyOf(exchanges);
        }
    }

    /** The latest request; fails when there was none. */
    public Exchange lastRequest() {
        synchronized (exchanges) {
            if (exchanges.isEmpty()) {
                throw new IllegalStateException("the emulator received no request");
            }
            return exchanges.get(exchanges.size() - 1);
        }
    }

    /** Waits until at least {@code count} requests arrived; false if {@code timeout} passed first. */
    public boolean awaitRequests(int count, Duration timeout) throws InterruptedException {
        return await(() -> exchanges.size() >= count, timeout);
    }

    /** How many clients closed their connection while waiting for an answer (a {@code stall}). */
    public int aborted() {
        synchronized (exchanges) {
            return aborted;
        }
    }

    /** Waits until at least {@code count} clients gave up on a stalled answer; false if {@code timeout} passed first. */
    public boolean awaitAborted(int count, Duration timeout) throws InterruptedException {
        return await(() -> aborted >= count, timeout);
    }

    private boolean await(java.util.function.BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (exchanges) {
            while (!condition.getAsBoolean()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                exchanges.wait(Math.max(1, left / 1_000_000));
            }
            return true;
        }
    }

    /** Stops the server and closes every connection, stalled ones included. */
    @Override
    public void close() {
        server.close();
    }

    // ------------------------------------------------------------------ serving

    private final class Handler implements WireServer.Handler {

        @Override
        public WireServer.Reply handle(WireServer.Request request) throws InterruptedException {
            Played played = play(request);
            String body = new String(request.body(), StandardCharsets.UTF_8);
            int status = played.reply() instanceof WireServer.Answer a ? a.status() : 0;
            synchronized (exchanges) {
                exchanges.add(new Exchange(request.method(), request.target(), Map.copyOf(request.headers()), body,
                        played.scenario(), status, played.images()));
                exchanges.notifyAll();
            }
            if (played.scenario() != null && played.scenario().equals("slow")) {
                Thread.sleep(SLOW_MILLIS);
            }
            return played.reply();
        }

        @Override
        public WireServer.Answer tooLarge(long length) {
            return payloadTooLarge();
        }

        @Override
        public void clientGaveUp() {
            synchronized (exchanges) {
                aborted++;
                exchanges.notifyAll();
            }
        }
    }

    /** A reply with the scenario that made it and the images in it. */
    private record Played(WireServer.Reply reply, String scenario, List<byte[]> images) {
        static Played refused(WireServer.Answer answer) {
            return new Played(answer, null, List.of());
        }
    }

    private Played play(WireServer.Request request) {
        Matcher path = PATH.matcher(request.path());
        if (!path.matches() || !request.method().equals("POST")) {
            return Played.refused(error(404, "NOT_FOUND", "Method not found.", null));
        }
        String key = request.header("x-goog-api-key");
        if (key == null) {
            key = queryParameter(request.query(), "key");
        }
        if (key == null || key.isBlank()) {
            return Played.refused(error(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers without "
                    + "established identity). Please use API Key or other form of API consumer identity to call this API.",
                    null));
        }
        if (expectedKey != null && !expectedKey.equals(key)) {
            return Played.refused(badKey());
        }
        String model = path.group(1);
        java.util.Optional<ImageModel> served = ImageModel.of(model);
        if (served.isEmpty()) {
            return Played.refused(notFound(model));
        }
        if (request.body().length > MAX_REQUEST_BYTES) {
            return Played.refused(payloadTooLarge());
        }
        RequestCheck.Checked checked;
        try {
            checked = RequestCheck.check(request.body(), served.get());
        } catch (RequestCheck.Rejected e) {
            return Played.refused(invalid(e.getMessage(), e.field));
        }
        String scenario = Scenarios.pick(request.header(Scenarios.HEADER), checked.prompt());
        return switch (scenario) {
            case "ok", "slow" -> success(scenario, checked, false, checked.wantsText());
            case "image_first" -> success(scenario, checked, true, true);
            case "image_only" -> success(scenario, checked, false, false);
            case "prompt_blocked" -> answer(scenario, promptBlocked(checked));
            case "output_blocked" -> answer(scenario, noImage(checked, "IMAGE_SAFETY", true, "Unable to show the generated "
                    + "image. The image was filtered out because it violated Google's Generative AI Prohibited Use policy. "
                    + "You will not be charged for blocked images. Try rephrasing the prompt.", null));
            case "prohibited" -> answer(scenario, noImage(checked, "IMAGE_PROHIBITED_CONTENT", false, "The model output "
                    + "could not be generated. Please try a different prompt. Support code: 42876398.", null));
            case "no_image" -> answer(scenario, noImage(checked, "NO_IMAGE", true, null, null));
            case "text_only" -> answer(scenario, noImage(checked, "STOP", true, null, "I'm unable to create that image. "
                    + "I can describe a scene in words instead, if that helps."));
            case "max_tokens" -> answer(scenario, noImage(checked, "MAX_TOKENS", true, null, null));
            case "bad_request" -> new Played(invalid("Invalid JSON payload received. Unknown name \"size\" at "
                    + "'generation_config.image_config': Cannot find field.", "generation_config.image_config"), scenario,
                    List.of());
            case "bad_key" -> new Played(badKey(), scenario, List.of());
            case "permission_denied" -> new Played(error(403, "PERMISSION_DENIED", "Generative Language API has not been "
                    + "used in project 123456789 before or it is disabled. Enable it by visiting the API console, then "
                    + "retry.", null), scenario, List.of());
            case "rate_limit" -> new Played(rateLimit(model, "GenerateRequestsPerMinutePerProjectPerModel-FreeTier", "10",
                    "7.5s"), scenario, List.of());
            case "daily_quota" -> new Played(rateLimit(model, "GenerateRequestsPerDayPerProjectPerModel-FreeTier", "100",
                    "43.202413s"), scenario, List.of());
            case "overloaded" -> new Played(error(503, "UNAVAILABLE", "The model is overloaded. Please try again later.",
                    null), scenario, List.of());
            case "internal" -> new Played(error(500, "INTERNAL", "An internal error has occurred. Please retry or report in "
                    + "https://developers.generativeai.google/guide/troubleshooting", null), scenario, List.of());
            case "timeout504" -> new Played(error(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could "
                    + "complete.", null), scenario, List.of());
            case "retired_model" -> new Played(notFound(model), scenario, List.of());
            case "not_json" -> new Played(new WireServer.Answer(200, "<html><body>502 Bad Gateway</body></html>"
                    .getBytes(StandardCharsets.UTF_8)), scenario, List.of());
            case "stall" -> new Played(new WireServer.Stall(), scenario, List.of());
            case "drop" -> new Played(new WireServer.Drop(), scenario, List.of());
            case "oversized" -> new Played(new WireServer.Flood(OVERSIZED_BYTES), scenario, List.of());
            default -> new Played(invalid("Unknown emulator scenario \"" + scenario + "\"; known: "
                    + String.join(", ", new java.util.TreeSet<>(SCENARIOS)), "x-emulator-scenario"), scenario, List.of());
        };
    }

    // ------------------------------------------------------------------ answers

    private Played success(String scenario, RequestCheck.Checked request, boolean imageFirst, boolean withText) {
        AspectRatio ratio = outputRatio(request);
        int[] size = request.model().size(ratio, request.imageSize());
        byte[] png = EmulatorImages.render(size[0], size[1], request.prompt(), imageNumber.getAndIncrement(),
                OutputFormat.PNG);
        ObjectNode image = F.objectNode();
        image.putObject("inlineData").put("mimeType", "image/png").put("data", Base64.getEncoder().encodeToString(png));
        String text = "Here is your image of " + quote(request.prompt()) + ", at " + ratio.wire() + ".";
        ArrayNode parts = F.arrayNode();
        if (withText && imageFirst) {
            parts.add(image);
            int half = text.length() / 2;
            parts.addObject().put("text", text.substring(0, half));
            parts.addObject().put("text", text.substring(half));
        } else if (withText) {
            parts.addObject().put("text", text);
            parts.add(image);
        } else {
            parts.add(image);
        }
        ObjectNode candidate = F.objectNode();
        ObjectNode content = candidate.putObject("content");
        content.set("parts", parts);
        content.put("role", "model");
        candidate.put("finishReason", "STOP");
        candidate.put("index", 0);
        ObjectNode root = F.objectNode();
        root.putArray("candidates").add(candidate);
        root.set("usageMetadata", usage(request, withText ? tokens(text) : 0, 1));
        root.put("modelVersion", request.model().id());
        root.put("responseId", responseId());
        return new Played(new WireServer.Answer(200, Json.write(root)), scenario, List.of(png));
    }

    private ObjectNode promptBlocked(RequestCheck.Checked request) {
        ObjectNode root = F.objectNode();
        root.putObject("promptFeedback").put("blockReason", "PROHIBITED_CONTENT");
        int prompt = promptTokens(request);
        root.putObject("usageMetadata").put("promptTokenCount", prompt).put("totalTokenCount", prompt);
        root.put("modelVersion", request.model().id());
        root.put("responseId", responseId());
        return root;
    }

    /** A candidate without an image: {@code withContent} gives it a content holding the role (and {@code text}). */
    private ObjectNode noImage(RequestCheck.Checked request, String finishReason, boolean withContent, String finishMessage,
            String text) {
        ObjectNode candidate = F.objectNode();
        if (withContent) {
            ObjectNode content = candidate.putObject("content");
            if (text != null) {
                content.putArray("parts").addObject().put("text", text);
            }
            content.put("role", "model");
        }
        candidate.put("finishReason", finishReason);
        if (finishMessage != null) {
            candidate.put("finishMessage", finishMessage);
        }
        candidate.put("index", 0);
        ObjectNode root = F.objectNode();
        root.putArray("candidates").add(candidate);
        root.set("usageMetadata", usage(request, text == null ? 0 : tokens(text), 0));
        root.put("modelVersion", request.model().id());
        root.put("responseId", responseId());
        return root;
    }

    private static Played answer(String scenario, ObjectNode body) {
        return new Played(new WireServer.Answer(200, Json.write(body)), scenario, List.of());
    }

    private ObjectNode usage(RequestCheck.Checked request, int textTokens, int images) {
        int promptText = tokens(request.prompt());
        int promptImages = 258 * request.images().size();
        int candidates = textTokens + IMAGE_TOKENS * images;
        ObjectNode usage = F.objectNode();
        usage.put("promptTokenCount", promptText + promptImages);
        usage.put("candidatesTokenCount", candidates);
        usage.put("totalTokenCount", promptText + promptImages + candidates);
        ArrayNode promptDetails = usage.putArray("promptTokensDetails");
        promptDetails.addObject().put("modality", "TEXT").put("tokenCount", promptText);
        if (promptImages > 0) {
            promptDetails.addObject().put("modality", "IMAGE").put("tokenCount", promptImages);
        }
        if (candidates > 0) {
            ArrayNode details = usage.putArray("candidatesTokensDetails");
            if (textTokens > 0) {
                details.addObject().put("modality", "TEXT").put("tokenCount", textTokens);
            }
            if (images > 0) {
                details.addObject().put("modality", "IMAGE").put("tokenCount", IMAGE_TOKENS * images);
            }
        }
        return usage;
    }

    private static AspectRatio outputRatio(RequestCheck.Checked request) {
        if (request.aspectRatio() != null) {
            return request.aspectRatio();
        }
        if (!request.images().isEmpty() && request.images().get(0).info() != null) {
            return AspectRatio.nearest(request.images().get(0).info().width(), request.images().get(0).info().height());
        }
        return AspectRatio.R1_1;
    }

    private static WireServer.Answer badKey() {
        ArrayNode details = F.arrayNode();
        ObjectNode info = details.addObject();
        info.put("@type", "type.googleapis.com/google.rpc.ErrorInfo");
        info.put("reason", "API_KEY_INVALID");
        info.put("domain", "googleapis.com");
        info.putObject("metadata").put("service", "generativelanguage.googleapis.com");
        details.addObject().put("@type", "type.googleapis.com/google.rpc.LocalizedMessage").put("locale", "en-US")
                .put("message", "API key not valid. Please pass a valid API key.");
        return error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", details);
    }

    private static WireServer.Answer payloadTooLarge() {
        return error(400, "INVALID_ARGUMENT", "Request payload size exceeds the limit: " + MAX_REQUEST_BYTES + " bytes.", null);
    }

    private static WireServer.Answer notFound(String model) {
        return error(404, "NOT_FOUND", "models/" + model + " is not found for API version v1beta, or is not supported for "
                + "generateContent. Call ListModels to see the list of available models and their supported methods.", null);
    }

    private static WireServer.Answer invalid(String message, String field) {
        ArrayNode details = F.arrayNode();
        ObjectNode badRequest = details.addObject();
        badRequest.put("@type", "type.googleapis.com/google.rpc.BadRequest");
        badRequest.putArray("fieldViolations").addObject().put("field", field).put("description", message);
        return error(400, "INVALID_ARGUMENT", message, details);
    }

    private static WireServer.Answer rateLimit(String model, String quotaId, String quotaValue, String retryDelay) {
        ArrayNode details = F.arrayNode();
        ObjectNode failure = details.addObject();
        failure.put("@type", "type.googleapis.com/google.rpc.QuotaFailure");
        ObjectNode violation = failure.putArray("violations").addObject();
        violation.put("quotaMetric", "generativelanguage.googleapis.com/generate_content_free_tier_requests");
        violation.put("quotaId", quotaId);
        violation.putObject("quotaDimensions").put("location", "global").put("model", model);
        violation.put("quotaValue", quotaValue);
        ObjectNode help = details.addObject();
        help.put("@type", "type.googleapis.com/google.rpc.Help");
        help.putArray("links").addObject().put("description", "Learn more about Gemini API quotas")
                .put("url", "https://ai.google.dev/gemini-api/docs/rate-limits");
        details.addObject().put("@type", "type.googleapis.com/google.rpc.RetryInfo").put("retryDelay", retryDelay);
        return error(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota, please check your plan and billing "
                + "details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n"
                + "* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, "
                + "limit: " + quotaValue + ", model: " + model + "\nPlease retry in " + retryDelay + ".", details);
    }

    /** Google's RPC error envelope. */
    private static WireServer.Answer error(int code, String status, String message, ArrayNode details) {
        ObjectNode root = F.objectNode();
        ObjectNode error = root.putObject("error");
        error.put("code", code);
        error.put("message", message);
        error.put("status", status);
        if (details != null) {
            error.set("details", details);
        }
        return new WireServer.Answer(code, Json.write(root));
    }

    private String responseId() {
        byte[] id = ("genqueue-emulator-" + responseNumber.incrementAndGet()).getBytes(StandardCharsets.UTF_8);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(id);
    }

    private static int promptTokens(RequestCheck.Checked request) {
        return tokens(request.prompt()) + 258 * request.images().size();
    }

    /** Roughly four characters a token, as Google's docs estimate. */
    private static int tokens(String text) {
        return Math.max(1, (text.length() + 3) / 4);
    }

    private static String quote(String prompt) {
        String oneLine = prompt.replaceAll("\\s+", " ").strip();
        return "\"" + (oneLine.length() > 80 ? oneLine.substring(0, 80) + "..." : oneLine) + "\"";
    }

    private static String queryParameter(String query, String name) {
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).equals(name)) {
                return URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            }
        }
        return null;
    }
}
