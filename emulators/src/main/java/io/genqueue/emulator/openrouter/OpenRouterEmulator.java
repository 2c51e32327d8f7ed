package io.genqueue.emulator.openrouter;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.genqueue.emulator.EmulatorImages;
import io.genqueue.emulator.Scenarios;
import io.genqueue.image.OutputFormat;
import io.genqueue.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A local stand-in for OpenRouter's chat completions API serving {@code google/gemini-2.5-flash-image}:
 * a real HTTP server on the wire format of {@code POST /api/v1/chat/completions}, for tests and
 * offline demos. Point the OpenRouter provider's base URL at {@link #baseUrl()}.
 *
 * <p><b>Checks, like the real API, before any scenario:</b> other paths answer 404 (including
 * {@code /api/v1/images/generations}, as the real one does for these models), other methods 405; a
 * missing bearer key is 401 "No auth credentials found", a wrong one 401 "User not found."; then
 * the body is checked by {@link ChatCall#parse} (malformed JSON, unknown model, more than three
 * images, an image type other than PNG/JPEG/WebP or bytes that are not what they claim, bad
 * modalities or aspect ratio: 400; the retired {@code -preview} model id: 404). A body over 32 MiB
 * is 413. Errors use OpenRouter's envelope {@code {"error":{"code","message","metadata"?}}}.
 *
 * <p><b>Scenarios</b>, picked by {@link Scenarios#pick} from the {@code X-Emulator-Scenario}
 * header or a {@code [emulate:NAME]} token in the prompt (section 7 of the provider reference):
 * <ul>
 *   <li>{@code ok} (default): 200, one PNG data URL in {@code message.images[]} at the exact size
 *       of the aspect ratio (Gemini 2.5's 1K table), and text in {@code content}
 *   <li>{@code image_only}: 200, the image, {@code content: null}
 *   <li>{@code prompt_blocked}: 403 moderation, {@code metadata.reasons} and {@code flagged_input}
 *   <li>{@code prompt_blocked_200}: 200, no image, no text, {@code finish_reason "content_filter"},
 *       {@code native_finish_reason "PROHIBITED_CONTENT"}
 *   <li>{@code output_blocked}: 200, no image, {@code native_finish_reason "IMAGE_SAFETY"}
 *   <li>{@code text_only} (also {@code no_image}): 200, a text answer without an image, {@code STOP}
 *   <li>{@code bad_request}: 400; {@code bad_key}: 401 "User not found."; {@code bad_key_echo}: 401
 *       whose message quotes the key it was sent (as some APIs do; the adapter must not pass it on)
 *   <li>{@code no_credits}: 402
 *   <li>{@code rate_limit}: 429 with {@code Retry-After: 7}
 *   <li>{@code overloaded}: 502 "Provider returned error"; {@code unavailable}: 503 with
 *       {@code Retry-After: 3}
 *   <li>{@code error_in_200}: 200 whose body is an {@code error} object (code 502), as after
 *       generation has started; {@code finish_error}: 200 with {@code finish_reason "error"}
 *   <li>{@code retired_model}: 404 "No endpoints found for ..."
 *   <li>{@code stall}: reads the request and never answers (until {@link #close})
 *   <li>{@code drop}: closes the connection without any answer
 * </ul>
 * An unknown scenario name is 400 with a message listing these.
 *
 * <p>Every request is recorded ({@link #received()}, {@link #calls()}), key included: test code
 * only. Thread-safe; each exchange runs on its own virtual thread.
 */
public final class OpenRouterEmulator implements AutoCloseable {

    /** The key {@link #start(String, int)} expects. */
    public static final String DEFAULT_KEY = "sk-or-v1-emulator";
    public static final String PATH = "/api/v1/chat/completions";
    public static final Duration RATE_LIMIT_RETRY_AFTER = Duration.ofSeconds(7);
    public static final Duration UNAVAILABLE_RETRY_AFTER = Duration.ofSeconds(3);
    static final long MAX_BODY_BYTES = 32L * 1024 * 1024;
    static final String OK_TEXT = "Here is the image you asked for.";
    static final String REFUSAL_TEXT = "I can't create that image, but I can describe it: a quiet scene in soft light.";
    static final List<String> SCENARIOS = List.of("ok", "image_only", "prompt_blocked", "prompt_blocked_200",
            "output_blocked", "text_only", "no_image", "bad_request", "bad_key", "bad_key_echo", "no_credits",
            "rate_limit", "overloaded", "unavailable", "error_in_200", "finish_error", "retired_model", "stall", "drop");

    private static final Logger LOG = LoggerFactory.getLogger(OpenRouterEmulator.class);

    /** One request as it arrived. */
    public record Received(String method, String path, Map<String, List<String>> headers, byte[] body) {

        /** The first value of a header (case-insensitive name), or null. */
        public String header(String name) {
            List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
            return values == null || values.isEmpty() ? null : values.get(0);
        }

        public String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }

        /** The body as JSON, or null when it is not JSON. */
        public JsonNode json() {
            try {
                return Json.parse(body);
            } catch (JsonProcessingException e) {
                return null;
            }
        }
    }

    private final HttpServer server;
    private final ExecutorService executor;
    private final String expectedKey;
    private final CountDownLatch closing = new CountDownLatch(1);
    private final List<Received> received = new CopyOnWriteArrayList<>();
    private final AtomicInteger generations = new AtomicInteger();

    private OpenRouterEmulator(HttpServer server, ExecutorService executor, String expectedKey) {
        this.server = server;
        this.executor = executor;
        this.expectedKey = expectedKey;
    }

    /** Starts an emulator that expects {@link #DEFAULT_KEY}; port 0 picks a free port. */
    public static OpenRouterEmulator start(String host, int port) {
        return start(host, port, DEFAULT_KEY);
    }

    /** Starts an emulator that expects {@code Authorization: Bearer <expectedKey>}; port 0 picks a free port. */
    public static OpenRouterEmulator start(String host, int port, String expectedKey) {
        Objects.requireNonNull(expectedKey, "expectedKey");
        ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(host, port), 0);
        } catch (IOException e) {
            executor.close();
            throw new UncheckedIOException("the OpenRouter emulator could not listen on " + host + ":" + port, e);
        }
        OpenRouterEmulator emulator = new OpenRouterEmulator(server, executor, expectedKey);
        server.createContext("/", emulator::handle);
        server.setExecutor(executor);
        server.start();
        LOG.info("OpenRouter emulator listening on {}", emulator.baseUrl());
        return emulator;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** The API root to configure as the provider's base URL, e.g. {@code http://127.0.0.1:5555/api}. */
    public String baseUrl() {
        String host = server.getAddress().getAddress().getHostAddress();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return "http://" + host + ":" + port() + "/api";
    }

    /** How many requests arrived (any path, accepted or not). */
    public int calls() {
        return received.size();
    }

    /** The requests that arrived, in order. */
    public List<Received> received() {
        return List.copyOf(received);
    }

    /** Waits until at least {@code n} requests have arrived; false if the timeout passed first. */
    public boolean awaitCalls(int n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (received) {
            while (received.size() < n) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(received, left);
            }
        }
        return true;
    }

    /** Releases stalled exchanges, closes every connection and stops the server. */
    @Override
    public void close() {
        closing.countDown();
        server.stop(0);
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            byte[] body = readBody(exchange.getRequestBody());
            record(exchange, body == null ? new byte[0] : body);
            if (!exchange.getRequestURI().getPath().equals(PATH)) {
                send(exchange, 404, error(404, "Not Found"), null);
                return;
            }
            if (!exchange.getRequestMethod().equals("POST")) {
                exchange.getResponseHeaders().set("Allow", "POST");
                send(exchange, 405, error(405, "Method Not Allowed"), null);
                return;
            }
            if (body == null) {
                send(exchange, 413, error(413, "Request body is larger than " + (MAX_BODY_BYTES >> 20) + " MiB"), null);
                return;
            }
            String auth = exchange.getRequestHeaders().getFirst("Authorization");
            if (auth == null || !auth.regionMatches(true, 0, "Bearer ", 0, 7) || auth.substring(7).isBlank()) {
                send(exchange, 401, error(401, "No auth credentials found"), null);
                return;
            }
            if (!auth.substring(7).strip().equals(expectedKey)) {
                send(exchange, 401, error(401, "User not found."), null);
                return;
            }
            ChatCall call;
            try {
                call = ChatCall.parse(body);
            } catch (ChatCall.Rejection r) {
                send(exchange, r.status, error(r.status, r.getMessage()), null);
                return;
            }
            play(exchange, Scenarios.pick(exchange.getRequestHeaders().getFirst(Scenarios.HEADER), call.prompt()),
                    call, auth.substring(7).strip());
        }
    }

    private void play(HttpExchange exchange, String scenario, ChatCall call, String key) throws IOException {
        LOG.debug("OpenRouter emulator plays {}", scenario);
        switch (scenario) {
            case "ok" -> send(exchange, 200, completion(call, true, OK_TEXT, "stop", "STOP"), null);
            case "image_only" -> send(exchange, 200, completion(call, true, null, "stop", "STOP"), null);
            case "prompt_blocked" -> {
                ObjectNode e = error(403, "Your chosen model requires moderation and your input was flagged");
                ObjectNode metadata = ((ObjectNode) e.get("error")).putObject("metadata");
                metadata.putArray("reasons").add("violence");
                metadata.put("flagged_input", clip(call.prompt(), 100));
                metadata.put("provider_name", "Google AI Studio");
                metadata.put("model_slug", call.model());
                send(exchange, 403, e, null);
            }
            case "prompt_blocked_200" ->
                    send(exchange, 200, completion(call, false, null, "content_filter", "PROHIBITED_CONTENT"), null);
            case "output_blocked" -> send(exchange, 200, completion(call, false, "", "content_filter", "IMAGE_SAFETY"), null);
            case "text_only", "no_image" -> send(exchange, 200, completion(call, false, REFUSAL_TEXT, "stop", "STOP"), null);
            case "bad_request" -> send(exchange, 400, error(400, "Provider returned error: invalid request"), null);
            case "bad_key" -> send(exchange, 401, error(401, "User not found."), null);
            case "bad_key_echo" -> send(exchange, 401, error(401, "Incorrect API key provided: " + key), null);
            case "no_credits" -> send(exchange, 402, error(402,
                    "Insufficient credits. Add more using https://openrouter.ai/settings/credits"), null);
            case "rate_limit" -> send(exchange, 429, error(429, "Rate limit exceeded: free-models-per-min"),
                    RATE_LIMIT_RETRY_AFTER);
            case "overloaded" -> send(exchange, 502, providerError(502), null);
            case "unavailable" -> send(exchange, 503, error(503,
                    "No endpoints found that can handle the requested parameters."), UNAVAILABLE_RETRY_AFTER);
            case "error_in_200" -> send(exchange, 200, providerError(502), null);
            case "finish_error" -> send(exchange, 200, completion(call, false, "", "error", "ERROR"), null);
            case "retired_model" -> send(exchange, 404, error(404, "No endpoints found for " + call.model() + "."), null);
            case "stall" -> {
                try {
                    closing.await(10, TimeUnit.MINUTES);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                throw new DropConnection();
            }
            case "drop" -> throw new DropConnection();
            default -> send(exchange, 400, error(400, "emulator: unknown scenario '" + clip(scenario, 40)
                    + "' (known: " + String.join(", ", SCENARIOS) + ")"), null);
        }
    }

    /** Thrown out of the handler: the JDK server then closes the connection without an answer. */
    private static final class DropConnection extends RuntimeException {
        DropConnection() {
            super("emulator: connection dropped on purpose", null, false, false);
        }
    }

    private ObjectNode completion(ChatCall call, boolean withImage, String text, String finish, String nativeFinish) {
        int n = generations.incrementAndGet();
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode root = f.objectNode();
        root.put("id", "gen-emulator-" + n);
        root.put("object", "chat.completion");
        root.put("created", System.currentTimeMillis() / 1000);
        root.put("model", call.model());
        root.put("provider", "Google AI Studio");
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0);
        choice.put("finish_reason", finish);
        choice.put("native_finish_reason", nativeFinish);
        ObjectNode message = choice.putObject("message");
        message.put("role", "assistant");
        message.put("content", text);
        if (withImage) {
            byte[] png = EmulatorImages.render(call.size().width(), call.size().height(), call.prompt(), n, OutputFormat.PNG);
            ObjectNode image = message.putArray("images").addObject();
            image.put("type", "image_url");
            image.put("index", 0);
            image.putObject("image_url").put("url", "data:image/png;base64," + Base64.getEncoder().encodeToString(png));
        }
        int promptTokens = Math.max(1, call.prompt().length() / 4) + 258 * call.images().size();
        int imageTokens = withImage ? 1290 : 0;
        int completionTokens = imageTokens + (text == null ? 0 : Math.max(0, text.length() / 4));
        ObjectNode usage = root.putObject("usage");
        usage.put("prompt_tokens", promptTokens);
        usage.put("completion_tokens", completionTokens);
        usage.put("total_tokens", promptTokens + completionTokens);
        usage.putObject("completion_tokens_details").put("image_tokens", imageTokens);
        usage.put("cost", imageTokens * 0.00003);
        return root;
    }

    private static ObjectNode providerError(int code) {
        ObjectNode e = error(code, "Provider returned error");
        ObjectNode metadata = ((ObjectNode) e.get("error")).putObject("metadata");
        metadata.put("provider_name", "Google AI Studio");
        metadata.put("raw", "{\"error\":{\"code\":503,\"message\":\"The model is overloaded. Please try again later.\","
                + "\"status\":\"UNAVAILABLE\"}}");
        return e;
    }

    private static ObjectNode error(int code, String message) {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.putObject("error").put("code", code).put("message", message);
        return root;
    }

    private static void send(HttpExchange exchange, int status, ObjectNode body, Duration retryAfter) throws IOException {
        byte[] bytes = Json.write(body);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        if (retryAfter != null) {
            exchange.getResponseHeaders().set("Retry-After", Long.toString(retryAfter.toSeconds()));
        }
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    /** The body, or null when it is larger than {@link #MAX_BODY_BYTES} (the rest is left unread). */
    private static byte[] readBody(InputStream in) throws IOException {
        byte[] bytes = in.readNBytes((int) MAX_BODY_BYTES + 1);
        return bytes.length > MAX_BODY_BYTES ? null : bytes;
    }

    private void record(HttpExchange exchange, byte[] body) {
        Map<String, List<String>> headers = new TreeMap<>();
        exchange.getRequestHeaders().forEach((name, values) ->
                headers.put(name.toLowerCase(Locale.ROOT), List.copyOf(values)));
        synchronized (received) {
            received.add(new Received(exchange.getRequestMethod(), exchange.getRequestURI().getPath(),
                    Map.copyOf(headers), body));
            received.notifyAll();
        }
    }

    private static String clip(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max) + "...";
    }
}
