package io.genqueue.emulator.fal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.genqueue.emulator.EmulatorImages;
import io.genqueue.emulator.Scenarios;
import io.genqueue.image.Encoder;
import io.genqueue.image.OutputFormat;
import io.genqueue.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

/**
 * A local stand-in for fal's queue ({@code queue.fal.run}) serving {@code fal-ai/nano-banana} and
 * {@code fal-ai/nano-banana/edit}: a real HTTP server, so an adapter is tested over sockets exactly
 * as it talks to fal.
 *
 * <p>What it plays (docs: reference/queue-api.md §1, providers.md §4):
 * <ul>
 *   <li>{@code POST /{app}[/edit]} submits; the answer holds {@code request_id} and absolute
 *       {@code status_url}, {@code response_url}, {@code cancel_url} on this server, which use the
 *       app id without the {@code /edit} sub-path, as fal's do.
 *   <li>{@code GET .../requests/{id}/status}: {@code IN_QUEUE} (with {@code queue_position}), then
 *       {@code IN_PROGRESS}, then {@code COMPLETED}, moving with time ({@link #timing}); 202 until
 *       completed, then 200. A failed or cancelled request is {@code COMPLETED} too, with
 *       {@code error} and {@code error_type}.
 *   <li>{@code GET .../requests/{id}}: the result, or 400 "Request is still in progress", or the
 *       model's error (422 with {@code detail[]}), or 499 when cancelled.
 *   <li>{@code PUT .../requests/{id}/cancel}: 202 {@code CANCELLATION_REQUESTED} while queued or in
 *       progress (the emulated app honours it), 400 {@code ALREADY_COMPLETED}, 404 {@code NOT_FOUND}.
 *   <li>{@code GET /files/{id}/{n}.{ext}}: the images, without a key, like fal's CDN.
 * </ul>
 *
 * <p>Strict like fal: a missing or wrong key is 401 {@code {"detail":"Unauthorized"}}; an unknown
 * app id is 404; a body that breaks the schema (unknown fields, more than three
 * {@code image_urls}, a bad {@code aspect_ratio} or {@code output_format}) is 422 with
 * {@code detail[]}. Images have exactly the size of the aspect ratio, in the requested format.
 *
 * <p>Scenarios ({@link Scenarios#pick}: the {@code X-Emulator-Scenario} header or a
 * {@code [emulate:NAME]} prompt token): see {@link #SCENARIOS}.
 */
public final class FalEmulator implements AutoCloseable {

    /** The app id the emulator serves; {@code /edit} is its image-editing endpoint. */
    public static final String APP = "fal-ai/nano-banana";

    /**
     * Every scenario the emulator plays.
     * <ul>
     *   <li>{@code ok}: image(s) and a description; {@code image_only}: image(s), description {@code ""}.
     *   <li>{@code blocked}: the result is 422 {@code content_policy_violation} on the prompt;
     *       {@code output_blocked}: 422 {@code content_policy_violation} on the output.
     *   <li>{@code no_image}: completes with {@code images: []}.
     *   <li>{@code bad_request}: the result is 422 with a {@code value_error} in {@code detail[]}.
     *   <li>{@code bad_key}: the submit is 401 {@code {"detail":"Unauthorized"}} whatever the key.
     *   <li>{@code rate_limit}: the submit is 429 with {@code Retry-After: 7}.
     *   <li>{@code overload}: the submit is 503 {@code runner_scheduling_failure}.
     *   <li>{@code server_error}: completes, the result is 500.
     *   <li>{@code malformed}: completes, the result is 200 with a body that is not JSON.
     *   <li>{@code retired}: the submit is 404, as for an unknown app id.
     *   <li>{@code stall}: the status stays {@code IN_QUEUE} for ever.
     *   <li>{@code drop}: the submit's connection is closed without a response.
     *   <li>{@code slow}: like {@code ok}, but in progress for {@link #slowFor} (3 s by default).
     * </ul>
     */
    public static final Set<String> SCENARIOS = Set.of(Scenarios.OK, "image_only", "blocked", "output_blocked",
            "no_image", "bad_request", "bad_key", "rate_limit", "overload", "server_error", "malformed", "retired",
            "stall", "drop", "slow");

    /** The delay {@code rate_limit} asks for, in seconds. */
    public static final int RATE_LIMIT_RETRY_AFTER_SECONDS = 7;

    private static final int MAX_BODY_BYTES = 64 * 1024 * 1024;
    private static final String EDIT = "/edit";

    private final HttpServer server;
    private final ExecutorService executor;
    private final String expectedKey;
    private final URI baseUrl;
    private final Map<String, Job> jobs = new ConcurrentHashMap<>();
    private final List<JsonNode> inputs = new CopyOnWriteArrayList<>();
    private final AtomicInteger submits = new AtomicInteger();
    private final AtomicInteger cancels = new AtomicInteger();
    private final AtomicInteger statusPolls = new AtomicInteger();
    private final AtomicInteger resultFetches = new AtomicInteger();
    private final Object traffic = new Object();
    private volatile Duration queued = Duration.ofMillis(50);
    private volatile Duration running = Duration.ofMillis(150);
    private volatile Duration slow = Duration.ofSeconds(3);

    private FalEmulator(HttpServer server, ExecutorService executor, String expectedKey, URI baseUrl) {
        this.server = server;
        this.executor = executor;
        this.expectedKey = expectedKey;
        this.baseUrl = baseUrl;
    }

    /** Starts an emulator that accepts any non-blank key. {@code port} 0 picks a free port. */
    public static FalEmulator start(String host, int port) {
        return start(host, port, null);
    }

    /** Starts an emulator that accepts only {@code Authorization: Key <expectedKey>} (any key when null). */
    public static FalEmulator start(String host, int port, String expectedKey) {
        ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 256);
            server.setExecutor(executor);
            String shownHost = host.equals("0.0.0.0") || host.equals("::") ? "127.0.0.1" : host;
            if (shownHost.contains(":")) {
                shownHost = "[" + shownHost + "]";
            }
            URI base = URI.create("http://" + shownHost + ":" + server.getAddress().getPort());
            FalEmulator emulator = new FalEmulator(server, executor, expectedKey, base);
            server.createContext("/", emulator::handle);
            server.start();
            return emulator;
        } catch (IOException e) {
            executor.close();
            throw new UncheckedIOException(e);
        }
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** The queue's root, to use as the adapter's base URL (like {@code https://queue.fal.run}). */
    public URI baseUrl() {
        return baseUrl;
    }

    /**
     * How long a request stays {@code IN_QUEUE}, then {@code IN_PROGRESS}, before it completes
     * (default 50 ms and 150 ms).
     */
    public FalEmulator timing(Duration inQueue, Duration inProgress) {
        this.queued = inQueue;
        this.running = inProgress;
        return this;
    }

    /** How long the {@code slow} scenario stays {@code IN_PROGRESS} (default 3 s). */
    public FalEmulator slowFor(Duration inProgress) {
        this.slow = inProgress;
        return this;
    }

    // ---------------------------------------------------------------- traffic, for tests

    /** Submit requests received (POST to an app path), whatever the answer. */
    public int submits() {
        return submits.get();
    }

    /** Cancel requests received (PUT .../cancel), whatever the answer. */
    public int cancels() {
        return cancels.get();
    }

    /** Status requests received. */
    public int statusPolls() {
        return statusPolls.get();
    }

    /** Result requests received. */
    public int resultFetches() {
        return resultFetches.get();
    }

    /** The bodies of the submits that were accepted, in order. */
    public List<JsonNode> inputs() {
        return List.copyOf(inputs);
    }

    /** True when the request was cancelled while queued or in progress. */
    public boolean wasCancelled(String requestId) {
        Job job = jobs.get(requestId);
        return job != null && job.cancelled;
    }

    /** Waits until at least {@code n} submits arrived; false when {@code timeout} passed first. */
    public boolean awaitSubmits(int n, Duration timeout) throws InterruptedException {
        return await(submits::get, n, timeout);
    }

    /** Waits until at least {@code n} status polls arrived; false when {@code timeout} passed first. */
    public boolean awaitStatusPolls(int n, Duration timeout) throws InterruptedException {
        return await(statusPolls::get, n, timeout);
    }

    private boolean await(IntSupplier count, int n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (traffic) {
            while (count.getAsInt() < n) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                traffic.wait(Math.max(1, left / 1_000_000));
            }
            return true;
        }
    }

    private void count(AtomicInteger counter) {
        counter.incrementAndGet();
        synchronized (traffic) {
            traffic.notifyAll();
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    // ---------------------------------------------------------------- routing

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            try {
                route(exchange);
            } catch (RuntimeException e) {
                send(exchange, 500, Map.of("detail", "Emulator failure: " + e));
            }
        }
    }

    private void route(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getRawPath();
        String method = exchange.getRequestMethod();
        if (path.startsWith("/files/")) {
            serveFile(exchange, path.substring("/files/".length()));
            return;
        }
        String[] parts = path.substring(1).split("/", -1);
        boolean requestPath = parts.length >= 4 && parts[2].equals("requests");
        if (!requestPath && method.equals("POST")) {
            count(submits);
        } else if (requestPath && parts.length == 5 && parts[4].equals("status")) {
            count(statusPolls);
        } else if (requestPath && parts.length == 5 && parts[4].equals("cancel")) {
            count(cancels);
        } else if (requestPath && parts.length == 4) {
            count(resultFetches);
        }
        if (!authorized(exchange)) {
            send(exchange, 401, Map.of("detail", "Unauthorized"));
            return;
        }
        if (requestPath) {
            String app = parts[0] + "/" + parts[1];
            String id = parts[3];
            if (parts.length == 4 && method.equals("GET")) {
                result(exchange, app, id);
            } else if (parts.length == 5 && parts[4].equals("status") && method.equals("GET")) {
                status(exchange, app, id);
            } else if (parts.length == 5 && parts[4].equals("cancel") && method.equals("PUT")) {
                cancel(exchange, app, id);
            } else {
                send(exchange, 405, Map.of("detail", "Method Not Allowed"));
            }
            return;
        }
        if (!method.equals("POST")) {
            send(exchange, 405, Map.of("detail", "Method Not Allowed"));
            return;
        }
        submit(exchange, path.substring(1));
    }

    private boolean authorized(HttpExchange exchange) {
        String header = exchange.getRequestHeaders().getFirst("Authorization");
        if (header == null || !header.startsWith("Key ")) {
            return false;
        }
        String key = header.substring(4).trim();
        return !key.isEmpty() && (expectedKey == null || expectedKey.equals(key));
    }

    // ---------------------------------------------------------------- submit

    private void submit(HttpExchange exchange, String endpoint) throws IOException {
        boolean edit = endpoint.equals(APP + EDIT);
        if (!edit && !endpoint.equals(APP)) {
            send(exchange, 404, Map.of("detail", "Application '" + endpoint + "' not found"));
            return;
        }
        byte[] raw = readBody(exchange);
        if (raw == null) {
            send(exchange, 413, Map.of("detail", "Request body too large"));
            return;
        }
        JsonNode body;
        try {
            body = Json.parse(raw);
        } catch (JsonProcessingException e) {
            send(exchange, 422, detail(List.of(new FalInput.Violation(List.of("body"), "Invalid JSON", "json_invalid"))));
            return;
        }
        String prompt = body.path("prompt").isTextual() ? body.path("prompt").asText() : null;
        String scenario = Scenarios.pick(exchange.getRequestHeaders().getFirst(Scenarios.HEADER), prompt);
        if (!SCENARIOS.contains(scenario)) {
            send(exchange, 400, Map.of("detail", "Unknown emulator scenario '" + scenario + "'; known: "
                    + String.join(", ", SCENARIOS.stream().sorted().toList())));
            return;
        }
        switch (scenario) {
            case "drop" -> {
                return; // closing the exchange before any response closes the connection
            }
            case "bad_key" -> {
                send(exchange, 401, Map.of("detail", "Unauthorized"));
                return;
            }
            case "rate_limit" -> {
                exchange.getResponseHeaders().set("Retry-After", Integer.toString(RATE_LIMIT_RETRY_AFTER_SECONDS));
                send(exchange, 429, Map.of("detail", "Rate limit exceeded: too many concurrent requests"));
                return;
            }
            case "overload" -> {
                exchange.getResponseHeaders().set("X-Fal-Error-Type", "runner_scheduling_failure");
                send(exchange, 503, Map.of("detail", "No runner could be scheduled for the request",
                        "error_type", "runner_scheduling_failure"));
                return;
            }
            case "retired" -> {
                send(exchange, 404, Map.of("detail", "Application '" + endpoint + "' not found"));
                return;
            }
            default -> {
            }
        }
        FalInput.Checked checked = FalInput.check(body, edit);
        if (checked.input() == null) {
            send(exchange, 422, detail(checked.violations()));
            return;
        }
        inputs.add(body);
        long inQueue = scenario.equals("stall") ? Long.MAX_VALUE : queued.toNanos();
        long inProgress = scenario.equals("slow") ? slow.toNanos() : running.toNanos();
        Job job = new Job(UUID.randomUUID().toString(), APP, checked.input(), scenario, System.nanoTime(), inQueue, inProgress);
        jobs.put(job.id, job);
        exchange.getResponseHeaders().set("x-fal-request-id", job.id);
        Map<String, Object> answer = urls(exchange, job);
        answer.put("status", "IN_QUEUE");
        answer.put("queue_position", queuePosition(job));
        send(exchange, 200, answer);
    }

    private static byte[] readBody(HttpExchange exchange) throws IOException {
        try (InputStream in = exchange.getRequestBody()) {
            byte[] bytes = in.readNBytes(MAX_BODY_BYTES + 1);
            return bytes.length > MAX_BODY_BYTES ? null : bytes;
        }
    }

    // ---------------------------------------------------------------- status, result, cancel

    private void status(HttpExchange exchange, String app, String id) throws IOException {
        Job job = find(app, id);
        if (job == null) {
            send(exchange, 404, Map.of("detail", "Request not found"));
            return;
        }
        State state = job.state(System.nanoTime());
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", state.name());
        body.put("request_id", job.id);
        body.putAll(urls(exchange, job));
        switch (state) {
            case IN_QUEUE -> body.put("queue_position", queuePosition(job));
            case IN_PROGRESS -> body.put("logs", List.of(log("Generating the image")));
            case COMPLETED -> {
                body.put("logs", List.of(log("Generating the image"), log("Done")));
                body.put("metrics", Map.of("inference_time", job.inProgressNanos / 1e9));
                String error = job.error();
                if (error != null) {
                    body.put("error", error);
                    body.put("error_type", job.cancelled ? "request_cancelled" : "model_error");
                }
            }
        }
        send(exchange, state == State.COMPLETED ? 200 : 202, body);
    }

    private void result(HttpExchange exchange, String app, String id) throws IOException {
        Job job = find(app, id);
        if (job == null) {
            send(exchange, 404, Map.of("detail", "Request not found"));
            return;
        }
        if (job.state(System.nanoTime()) != State.COMPLETED) {
            send(exchange, 400, Map.of("detail", "Request is still in progress"));
            return;
        }
        if (job.cancelled) {
            send(exchange, 499, Map.of("detail", "Request cancelled by the client."));
            return;
        }
        switch (job.scenario) {
            case "blocked" -> send(exchange, 422, detail(List.of(new FalInput.Violation(List.of("body", "prompt"),
                    "The content could not be processed because it contained material flagged by a content checker.",
                    "content_policy_violation"))));
            case "output_blocked" -> send(exchange, 422, detail(List.of(new FalInput.Violation(List.of("body"),
                    "The generated image was flagged by a content checker and was not returned.",
                    "content_policy_violation"))));
            case "bad_request" -> send(exchange, 422, detail(List.of(new FalInput.Violation(List.of("body", "prompt"),
                    "The prompt could not be understood by the model.", "value_error"))));
            case "server_error" -> send(exchange, 500, Map.of("detail", "Internal Server Error"));
            case "malformed" -> sendRaw(exchange, 200, "application/json", "{\"images\": [{\"url\": ".getBytes(StandardCharsets.UTF_8));
            case "no_image" -> send(exchange, 200, Map.of("images", List.of(), "description", ""));
            default -> send(exchange, 200, Map.of("images", images(exchange, job),
                    "description", job.scenario.equals("image_only") ? "" : description(job.input.prompt())));
        }
    }

    private void cancel(HttpExchange exchange, String app, String id) throws IOException {
        Job job = find(app, id);
        if (job == null) {
            send(exchange, 404, Map.of("status", "NOT_FOUND"));
            return;
        }
        synchronized (job) {
            if (job.state(System.nanoTime()) == State.COMPLETED) {
                send(exchange, 400, Map.of("status", "ALREADY_COMPLETED"));
                return;
            }
            job.cancelled = true;
        }
        send(exchange, 202, Map.of("status", "CANCELLATION_REQUESTED"));
    }

    private Job find(String app, String id) {
        Job job = jobs.get(id);
        return job != null && job.app.equals(app) ? job : null;
    }

    private int queuePosition(Job job) {
        long now = System.nanoTime();
        int ahead = 0;
        for (Job other : jobs.values()) {
            if (other.submittedNanos < job.submittedNanos && other.state(now) == State.IN_QUEUE) {
                ahead++;
            }
        }
        return ahead;
    }

    private Map<String, Object> urls(HttpExchange exchange, Job job) {
        String requests = origin(exchange) + "/" + job.app + "/requests/" + job.id;
        Map<String, Object> urls = new LinkedHashMap<>();
        urls.put("request_id", job.id);
        urls.put("response_url", requests);
        urls.put("status_url", requests + "/status");
        urls.put("cancel_url", requests + "/cancel");
        return urls;
    }

    /** Where the client reached us (the Host it used), so the URLs we hand out work for it. */
    private String origin(HttpExchange exchange) {
        String host = exchange.getRequestHeaders().getFirst("Host");
        return host == null || host.isBlank() ? baseUrl.toString() : "http://" + host;
    }

    private static Map<String, Object> log(String message) {
        return Map.of("message", message, "level", "INFO", "source", "USER", "timestamp", Instant.now().toString());
    }

    private static String description(String prompt) {
        String clean = prompt.replaceAll("\\[emulate:[^]]*]", "").strip();
        return "Here is the emulated image for: " + (clean.length() > 200 ? clean.substring(0, 200) : clean);
    }

    // ---------------------------------------------------------------- images

    private List<Map<String, Object>> images(HttpExchange exchange, Job job) {
        List<Map<String, Object>> images = new ArrayList<>();
        OutputFormat format = job.fileFormat();
        for (int i = 0; i < job.input.numImages(); i++) {
            byte[] bytes = job.file(i);
            String name = i + "." + format.extension();
            Map<String, Object> image = new LinkedHashMap<>();
            image.put("url", job.input.syncMode()
                    ? "data:" + format.contentType() + ";base64," + Base64.getEncoder().encodeToString(bytes)
                    : origin(exchange) + "/files/" + job.id + "/" + name);
            image.put("content_type", format.contentType());
            image.put("file_name", name);
            image.put("file_size", bytes.length);
            image.put("width", job.input.ratio().width());
            image.put("height", job.input.ratio().height());
            images.add(image);
        }
        return images;
    }

    private void serveFile(HttpExchange exchange, String rest) throws IOException {
        String[] parts = rest.split("/", -1);
        Job job = parts.length == 2 ? jobs.get(parts[0]) : null;
        int dot = parts.length == 2 ? parts[1].indexOf('.') : -1;
        if (job == null || dot < 1 || !exchange.getRequestMethod().equals("GET")) {
            send(exchange, 404, Map.of("detail", "Not found"));
            return;
        }
        int index;
        try {
            index = Integer.parseInt(parts[1].substring(0, dot));
        } catch (NumberFormatException e) {
            index = -1;
        }
        if (index < 0 || index >= job.input.numImages() || job.state(System.nanoTime()) != State.COMPLETED) {
            send(exchange, 404, Map.of("detail", "Not found"));
            return;
        }
        sendRaw(exchange, 200, job.fileFormat().contentType(), job.file(index));
    }

    // ---------------------------------------------------------------- answers

    private static Map<String, Object> detail(List<FalInput.Violation> violations) {
        return Map.of("detail", violations.stream().map(FalInput.Violation::toMap).toList());
    }

    private static void send(HttpExchange exchange, int status, Map<String, ?> body) throws IOException {
        sendRaw(exchange, status, "application/json", Json.write(body));
    }

    private static void sendRaw(HttpExchange exchange, int status, String contentType, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    // ---------------------------------------------------------------- requests

    private enum State { IN_QUEUE, IN_PROGRESS, COMPLETED }

    /** One submitted request; its state follows from the time since it was submitted. */
    private static final class Job {
        final String id;
        final String app;
        final FalInput input;
        final String scenario;
        final long submittedNanos;
        final long inQueueNanos;
        final long inProgressNanos;
        volatile boolean cancelled;
        private final Map<Integer, byte[]> files = new ConcurrentHashMap<>();

        Job(String id, String app, FalInput input, String scenario, long submittedNanos, long inQueueNanos,
                long inProgressNanos) {
            this.id = id;
            this.app = app;
            this.input = input;
            this.scenario = scenario;
            this.submittedNanos = submittedNanos;
            this.inQueueNanos = inQueueNanos;
            this.inProgressNanos = inProgressNanos;
        }

        State state(long now) {
            if (cancelled) {
                return State.COMPLETED;
            }
            long age = now - submittedNanos;
            if (age < inQueueNanos) {
                return State.IN_QUEUE;
            }
            return age - inQueueNanos < inProgressNanos ? State.IN_PROGRESS : State.COMPLETED;
        }

        /** The message of a failed request's status, or null when it succeeded. */
        String error() {
            if (cancelled) {
                return "Request cancelled by the client.";
            }
            return switch (scenario) {
                case "blocked", "output_blocked" -> "Content policy violation";
                case "bad_request" -> "Invalid input";
                case "server_error" -> "Internal Server Error";
                default -> null;
            };
        }

        /** The format files are written in: WebP only where a WebP writer runs. */
        OutputFormat fileFormat() {
            return input.format() == OutputFormat.WEBP && !Encoder.webpAvailable() ? OutputFormat.PNG : input.format();
        }

        byte[] file(int index) {
            return files.computeIfAbsent(index, i -> EmulatorImages.render(input.ratio().width(), input.ratio().height(),
                    input.prompt(), i, fileFormat()));
        }
    }
}
