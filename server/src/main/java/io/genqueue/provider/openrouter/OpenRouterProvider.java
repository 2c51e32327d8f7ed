package io.genqueue.provider.openrouter;

import io.genqueue.generation.ErrorType;
import io.genqueue.image.ImageData;
import io.genqueue.image.OutputFormat;
import io.genqueue.provider.BoundedBody;
import io.genqueue.provider.CallContext;
import io.genqueue.provider.GenerationRequest;
import io.genqueue.provider.GenerationResult;
import io.genqueue.provider.ImageProvider;
import io.genqueue.provider.ProviderException;
import io.genqueue.provider.ProviderSettings;
import io.genqueue.provider.Transcoder;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Gemini 2.5 Flash Image through OpenRouter's OpenAI-style chat completions API
 * ({@code POST <base>/v1/chat/completions}, {@code Authorization: Bearer <key>}).
 *
 * <p>One call yields one image, so {@code numImages} images are that many calls, sent at once and
 * bounded together by {@link ProviderSettings#callTimeout()}; the first failure fails the whole
 * request and cancels the other calls (the router decides whether to try again). The image comes
 * back as a base64 {@code data:} URL in {@code choices[0].message.images[]}, the model's text in
 * {@code message.content}; it is converted to the requested format with {@link Transcoder}. How
 * answers are classified into retryable and final failures: {@link ChatAnswer}.
 *
 * <p>Transport failures: no complete answer within the call timeout, a refused or reset
 * connection, or a connection closed without an answer are retryable {@code provider_unavailable}.
 * An interrupt of the calling thread cancels every call in flight (the HTTP client aborts the
 * exchange) and throws {@link InterruptedException} at once.
 *
 * <p>The key goes into the {@code Authorization} header only; messages never contain it. Safe for
 * concurrent use: one shared {@link HttpClient}, no other mutable state.
 */
public final class OpenRouterProvider implements ImageProvider {

    /** OpenRouter's API root; the adapter appends {@value #PATH}. */
    public static final String DEFAULT_BASE_URL = "https://openrouter.ai/api";
    /** The GA model id (the {@code -preview} id is retired). A setting: OpenRouter lists successors. */
    public static final String DEFAULT_MODEL = "google/gemini-2.5-flash-image";

    static final String NAME = "openrouter";
    static final String PATH = "/v1/chat/completions";
    /** A data URL of a 1K PNG is a few MiB; anything near this is not an answer we want. */
    static final long MAX_ANSWER_BYTES = 64L * 1024 * 1024;

    private final URI endpoint;
    private final String apiKey;
    private final String model;
    private final Duration callTimeout;
    private final HttpClient client;

    /**
     * @param settings a null base URL or model means the defaults above; the key is required
     * @throws IllegalArgumentException when the key is missing or cannot be sent in a header
     *     (the message never contains the key)
     */
    public OpenRouterProvider(ProviderSettings settings) {
        Objects.requireNonNull(settings, "settings");
        String key = settings.apiKey();
        if (key == null || key.isBlank()) {
            throw new IllegalArgumentException("the OpenRouter provider needs an API key, and none is configured");
        }
        if (!key.strip().chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new IllegalArgumentException("the OpenRouter API key contains characters an HTTP header cannot carry");
        }
        this.apiKey = key.strip();
        String base = settings.baseUrl() == null ? DEFAULT_BASE_URL : settings.baseUrl().toString();
        while (base.endsWith("/")) {
            base = base.substring(0, base.length() - 1);
        }
        this.endpoint = URI.create(base + PATH);
        if (!"http".equals(endpoint.getScheme()) && !"https".equals(endpoint.getScheme())) {
            throw new IllegalArgumentException("the OpenRouter base URL must be http or https: " + base);
        }
        this.model = settings.model() == null || settings.model().isBlank() ? DEFAULT_MODEL : settings.model().strip();
        this.callTimeout = Objects.requireNonNull(settings.callTimeout(), "callTimeout");
        if (!callTimeout.isPositive()) {
            throw new IllegalArgumentException("callTimeout must be positive: " + callTimeout);
        }
        Duration connect = Objects.requireNonNull(settings.connectTimeout(), "connectTimeout");
        this.client = HttpClient.newBuilder()
                .connectTimeout(connect)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Set<OutputFormat> outputFormats() {
        return Transcoder.outputFormats();
    }

    /** The URL calls go to (for logs and tests). */
    URI endpoint() {
        return endpoint;
    }

    @Override
    public GenerationResult generate(GenerationRequest request) throws InterruptedException {
        Objects.requireNonNull(request, "request");
        if (!outputFormats().contains(request.format())) {
            throw new IllegalArgumentException("the OpenRouter provider cannot write " + request.format() + " here");
        }
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        HttpRequest http = HttpRequest.newBuilder(endpoint)
                .header("Authorization", "Bearer " + apiKey)
                .header("Content-Type", "application/json")
                .header("Accept", "application/json")
                .header("X-Title", "genqueue")
                .POST(HttpRequest.BodyPublishers.ofByteArray(ChatRequest.body(model, request, NAME)))
                .build();
        long deadline = System.nanoTime() + callTimeout.toNanos();
        List<CompletableFuture<HttpResponse<byte[]>>> calls = new ArrayList<>(request.numImages());
        try {
            for (int i = 0; i < request.numImages(); i++) {
                calls.add(client.sendAsync(http, BoundedBody.handler(MAX_ANSWER_BYTES)));
            }
            List<ImageData> images = new ArrayList<>(calls.size());
            Set<String> texts = new LinkedHashSet<>();
            for (CompletableFuture<HttpResponse<byte[]>> call : calls) {
                HttpResponse<byte[]> response = await(call, deadline);
                ChatAnswer answer = ChatAnswer.read(response.statusCode(), response.headers(), response.body(), model, apiKey);
                log(request.context(), answer);
                images.add(Transcoder.to(answer.image(), request.format(), NAME));
                if (!answer.text().isEmpty()) {
                    texts.add(answer.text());
                }
            }
            return new GenerationResult(images, request.includeText() ? String.join("\n\n", texts) : "");
        } finally {
            // No-op for finished calls; aborts the exchanges of the others (after a failure, a
            // timeout or an interrupt) so that no upstream work is left running for nobody.
            calls.forEach(call -> call.cancel(true));
        }
    }

    private HttpResponse<byte[]> await(CompletableFuture<HttpResponse<byte[]>> call, long deadline)
            throws InterruptedException {
        try {
            return call.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw timedOut(e);
        } catch (ExecutionException e) {
            throw transportFailure(e.getCause());
        }
    }

    private ProviderException timedOut(Throwable cause) {
        return ProviderException.retryable(ErrorType.PROVIDER_UNAVAILABLE,
                "gave no complete answer within the call timeout of " + human(callTimeout), null, cause);
    }

    private ProviderException transportFailure(Throwable failure) {
        Throwable t = failure;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        String where = endpoint.getHost() + (endpoint.getPort() > 0 ? ":" + endpoint.getPort() : "");
        if (t instanceof BoundedBody.TooLargeException) {
            return ProviderException.retryable(ErrorType.PROVIDER_ERROR, t.getMessage(), null, t);
        }
        if (t instanceof HttpConnectTimeoutException) {
            return ProviderException.retryable(ErrorType.PROVIDER_UNAVAILABLE,
                    "could not connect to " + where + " in time", null, t);
        }
        if (t instanceof HttpTimeoutException) {
            return timedOut(t);
        }
        if (t instanceof ConnectException) {
            return ProviderException.retryable(ErrorType.PROVIDER_UNAVAILABLE,
                    "could not connect to " + where + " (connection refused)", null, t);
        }
        if (t instanceof IOException) {
            return ProviderException.retryable(ErrorType.PROVIDER_UNAVAILABLE,
                    "the connection to " + where + " failed before a complete answer ("
                            + (t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage()) + ")", null, t);
        }
        return ProviderException.retryable(ErrorType.PROVIDER_ERROR,
                "the call failed unexpectedly (" + t.getClass().getSimpleName() + ")", null, t);
    }

    private void log(CallContext context, ChatAnswer answer) {
        StringBuilder line = new StringBuilder("OpenRouter generation ")
                .append(answer.generationId().isEmpty() ? "(no id)" : answer.generationId());
        if (!answer.servedBy().isEmpty()) {
            line.append(" served by ").append(answer.servedBy());
        }
        if (!answer.model().isEmpty() && !answer.model().equals(model)) {
            context.warn(line.append(" with model ").append(answer.model()).append(" instead of ").append(model).toString());
        } else {
            context.info(line.toString());
        }
    }

    private static String human(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }
}
