package io.genqueue.client;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The queue API of a genqueue server (the contract's routes under {@code /v1/queue/{model}}):
 *
 * <pre>{@code
 * try (GenQueueClient client = GenQueueClient.builder()
 *         .baseUrl("http://localhost:8080").apiKey(System.getenv("GENQUEUE_KEY")).build()) {
 *     Result result = client.subscribe(SubmitRequest.builder("a lighthouse at dusk")
 *             .aspectRatio(AspectRatio.LANDSCAPE_16_9).build(), Duration.ofMinutes(2));
 *     byte[] png = client.download(result.images().get(0));
 * }
 * }</pre>
 *
 * <p>Every call has a timeout and is retried on connection failures, {@code 429} and {@code 503}
 * (see {@link Transport}); every submit carries an {@code Idempotency-Key}, so its retries never
 * make a second request. Errors are {@link GenQueueException}s. Safe for use by many threads; one
 * client per server is enough. {@link #close()} releases its threads and connections.
 */
public final class GenQueueClient implements AutoCloseable {

    private static final String IDEMPOTENCY_PREFIX = "gqc-";

    private final String base;
    private final String model;
    private final HttpClient http;
    private final Transport transport;
    private final Duration pollMax;
    /** Closes status streams at their wait's deadline: a blocked read ends only when its stream is closed. */
    private final ScheduledExecutorService deadlines;

    private GenQueueClient(Builder b) {
        this.base = b.baseUrl;
        this.model = b.model;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(b.connectTimeout).build();
        this.transport = new Transport(http, b.apiKey, b.requestTimeout, b.maxAttempts, new Backoff(b.backoffBase, b.backoffMax),
                b.longestRetryAfter);
        this.pollMax = b.pollMax;
        this.deadlines = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("genqueue-client-deadlines").factory());
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Submits with a new random {@code Idempotency-Key}, which this call's own retries repeat. */
    public Submitted submit(SubmitRequest request) {
        return submit(request, IDEMPOTENCY_PREFIX + UUID.randomUUID());
    }

    /**
     * Submits with the caller's {@code idempotencyKey}: the same key with the same body within
     * 24 h returns the request it made first (also across processes and restarts); with another
     * body it is {@link HttpException.Conflict}.
     *
     * @throws InvalidInputException the server's 422, each field's message with it
     */
    public Submitted submit(SubmitRequest request, String idempotencyKey) {
        Objects.requireNonNull(request, "request");
        String query = request.webhookUrl() == null ? "" : "?fal_webhook=" + URLEncoder.encode(request.webhookUrl(), StandardCharsets.UTF_8);
        HttpRequest.Builder b = transport.request(URI.create(base + "/v1/queue/" + model + query), true)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(Wire.write(request.body())));
        if (idempotencyKey != null) {
            b.header("Idempotency-Key", idempotencyKey);
        }
        if (request.priority() != null) {
            b.header("X-Fal-Queue-Priority", request.priority() == Priority.LOW ? "low" : "normal");
        }
        Answer answer = transport.send(b.build());
        if (!answer.ok()) {
            throw Wire.error(answer);
        }
        return Wire.submitted(Wire.read(answer.body()));
    }

    /** The status without its log lines. */
    public Status status(String requestId) {
        return status(requestId, false);
    }

    public Status status(String requestId, boolean logs) {
        Answer answer = transport.send(transport.request(uri(requestId, "/status" + (logs ? "?logs=1" : "")), true).GET().build());
        if (!answer.ok()) {
            throw Wire.error(answer);
        }
        return Wire.status(Wire.read(answer.body()));
    }

    /**
     * The status stream (with log lines): an iterator of events, ending after the completed one.
     * Close it when done with it early.
     */
    public StatusEvents stream(String requestId) {
        Transport.Exchange exchange = transport.open(transport.request(uri(requestId, "/status/stream?logs=1"), true)
                .header("Accept", "text/event-stream").GET().build());
        if (exchange.answer() != null) {
            throw Wire.error(exchange.answer());
        }
        return new StatusEvents(exchange.body());
    }

    /** Hands each status event to {@code listener} until the request completes; returns the completed status. */
    public Status stream(String requestId, Consumer<Status> listener) {
        try (StatusEvents events = stream(requestId)) {
            Status last = null;
            while (events.hasNext()) {
                last = events.next();
                listener.accept(last);
            }
            return last;
        }
    }

    /**
     * The result of a succeeded request.
     *
     * @throws RequestFailedException (a nested class per {@code error_type}) when it ended without images
     * @throws HttpException.BadRequest when it has not completed yet
     * @throws HttpException.Gone when the result is past its retention
     */
    public Result result(String requestId) {
        Answer answer = transport.send(transport.request(uri(requestId, "/response"), true).GET().build());
        if (!answer.ok()) {
            throw Wire.resultError(requestId, answer);
        }
        return Wire.result(requestId, Wire.read(answer.body()));
    }

    /**
     * Cancels a queued or running request. A retried cancel whose first try took effect answers
     * {@link CancelOutcome#ALREADY_COMPLETED}.
     *
     * @throws HttpException.NotFound for an unknown id
     */
    public CancelOutcome cancel(String requestId) {
        Answer answer = transport.send(transport.request(uri(requestId, "/cancel"), true).PUT(HttpRequest.BodyPublishers.noBody()).build());
        if (answer.status() == 202) {
            return CancelOutcome.CANCELLATION_REQUESTED;
        }
        if (answer.status() == 400 && Wire.read(answer.body()).path("status").asText().equals("ALREADY_COMPLETED")) {
            return CancelOutcome.ALREADY_COMPLETED;
        }
        throw Wire.error(answer);
    }

    /** Submits, waits for completion, and returns the images. */
    public Result subscribe(SubmitRequest request, Duration timeout) {
        return subscribe(request, timeout, status -> { });
    }

    /**
     * Submits, waits for completion (see {@link #await}) handing each status to {@code listener},
     * and returns the images.
     *
     * @throws RequestFailedException when the request ended without images
     * @throws WaitTimeoutException when it did not complete within {@code timeout} (it is not cancelled)
     */
    public Result subscribe(SubmitRequest request, Duration timeout, Consumer<Status> listener) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Submitted submitted = submit(request);
        await(submitted.requestId(), Duration.ofNanos(deadline - System.nanoTime()), listener);
        return result(submitted.requestId());
    }

    /**
     * Waits until the request completes, over the status stream; when the stream cannot be opened
     * or breaks (a proxy that buffers or cuts it), by polling the status instead. Each status seen
     * (with log lines) goes to {@code listener}.
     *
     * @return the completed status (its {@link Status#error()} set when it failed)
     * @throws WaitTimeoutException when it did not complete within {@code timeout}
     */
    public Status await(String requestId, Duration timeout, Consumer<Status> listener) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            Status last = streamUntil(requestId, deadline, listener);
            if (last != null) {
                return last;
            }
        } catch (UnreachableException | HttpException.ServerError | HttpException.BadRequest streamFailed) {
            // the stream could not be had: polling below reaches the same answer by another path
        }
        return pollUntil(requestId, deadline, listener);
    }

    /** The completed status from the stream; null when the deadline closed it first. */
    private Status streamUntil(String requestId, long deadline, Consumer<Status> listener) {
        StatusEvents events = stream(requestId);
        ScheduledFuture<?> closer = deadlines.schedule(events::close, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        try (events) {
            while (events.hasNext()) {
                Status s = events.next();
                listener.accept(s);
                if (s.isCompleted()) {
                    return s;
                }
            }
            return null;
        } catch (UnreachableException e) {
            if (System.nanoTime() - deadline >= 0) {
                throw timedOut(requestId);
            }
            throw e;
        } finally {
            closer.cancel(false);
        }
    }

    private Status pollUntil(String requestId, long deadline, Consumer<Status> listener) {
        for (int look = 0; ; look++) {
            if (System.nanoTime() - deadline >= 0) {
                throw timedOut(requestId);
            }
            Status s = status(requestId, true);
            listener.accept(s);
            if (s.isCompleted()) {
                return s;
            }
            long pause = Math.min(pollMax.toNanos(), Duration.ofMillis(100L << Math.min(look, 10)).toNanos());
            try {
                Thread.sleep(Duration.ofNanos(Math.max(0, Math.min(pause, deadline - System.nanoTime()))));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new UnreachableException("interrupted while waiting for " + requestId, e);
            }
        }
    }

    private static WaitTimeoutException timedOut(String requestId) {
        return new WaitTimeoutException(requestId, "request " + requestId + " did not complete in time (it goes on; cancel it if it should not)");
    }

    /**
     * An image's bytes: a signed link is fetched without the API key (the link is its own
     * credential, and an object store would refuse a second one); a {@code data:} URI is decoded.
     */
    public byte[] download(Image image) {
        String url = image.url();
        if (url.regionMatches(true, 0, "data:", 0, 5)) {
            int comma = url.indexOf(',');
            return Base64.getMimeDecoder().decode(url.substring(comma + 1));
        }
        Answer answer = transport.send(transport.request(URI.create(url), false).GET().build());
        if (!answer.ok()) {
            throw Wire.error(answer);
        }
        return answer.body();
    }

    private URI uri(String requestId, String tail) {
        Objects.requireNonNull(requestId, "requestId");
        String id = URLEncoder.encode(requestId, StandardCharsets.UTF_8).replace("+", "%20");
        return URI.create(base + "/v1/queue/" + model + "/requests/" + id + tail);
    }

    @Override
    public void close() {
        deadlines.shutdownNow();
        http.close();
    }

    @Override
    public String toString() {
        return "GenQueueClient[" + base + ", " + model + "]"; // never the key
    }

    /** The client's settings; only the base URL is required. */
    public static final class Builder {
        private String baseUrl;
        private String apiKey;
        private String model = "nano_banana";
        private Duration connectTimeout = Duration.ofSeconds(10);
        private Duration requestTimeout = Duration.ofSeconds(60);
        private int maxAttempts = 5;
        private Duration backoffBase = Duration.ofMillis(200);
        private Duration backoffMax = Duration.ofSeconds(10);
        private Duration longestRetryAfter = Duration.ofSeconds(60);
        private Duration pollMax = Duration.ofSeconds(2);

        private Builder() {
        }

        /** The server's root, such as {@code http://localhost:8080} (without {@code /v1}). */
        public Builder baseUrl(String baseUrl) {
            URI uri = URI.create(Objects.requireNonNull(baseUrl, "baseUrl").strip());
            if (uri.getScheme() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https")) || uri.getHost() == null) {
                throw new IllegalArgumentException("the base URL should be http(s)://host[:port], not " + baseUrl);
            }
            String s = uri.toString();
            this.baseUrl = s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
            return this;
        }

        public Builder apiKey(String apiKey) {
            this.apiKey = apiKey;
            return this;
        }

        /** The model's queue, {@code nano_banana} by default. */
        public Builder model(String model) {
            this.model = Objects.requireNonNull(model, "model");
            return this;
        }

        /** How long a connection may take to open (10 s by default). */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = positive(timeout, "connectTimeout");
            return this;
        }

        /** How long one call may wait for its answer (60 s by default). */
        public Builder requestTimeout(Duration timeout) {
            this.requestTimeout = positive(timeout, "requestTimeout");
            return this;
        }

        /** Tries per call, the first included (5 by default; 1 for no retries). */
        public Builder maxAttempts(int attempts) {
            if (attempts < 1) {
                throw new IllegalArgumentException("maxAttempts must be at least 1: " + attempts);
            }
            this.maxAttempts = attempts;
            return this;
        }

        /** The delays between tries: exponential from {@code base}, capped at {@code max}, full jitter (200 ms, 10 s). */
        public Builder backoff(Duration base, Duration max) {
            new Backoff(base, max);
            this.backoffBase = base;
            this.backoffMax = max;
            return this;
        }

        /** A {@code Retry-After} longer than this is not waited out: the call throws (60 s by default). */
        public Builder longestRetryAfter(Duration longest) {
            this.longestRetryAfter = positive(longest, "longestRetryAfter");
            return this;
        }

        public GenQueueClient build() {
            if (baseUrl == null) {
                throw new IllegalArgumentException("a base URL is required");
            }
            return new GenQueueClient(this);
        }

        private static Duration positive(Duration d, String name) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive: " + d);
            }
            return d;
        }
    }
}
