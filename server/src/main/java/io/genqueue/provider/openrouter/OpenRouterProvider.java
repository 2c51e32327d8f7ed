package io.genqueue.provider.openrouter;

import io.genqueue.image.ImageData;
import io.genqueue.image.OutputFormat;
import io.genqueue.provider.CallContext;
import io.genqueue.provider.GenerationRequest;
import io.genqueue.provider.GenerationResult;
import io.genqueue.provider.ImageProvider;
import io.genqueue.provider.ProviderException;
import io.genqueue.provider.ProviderSettings;
import io.genqueue.provider.Transcoder;
import io.genqueue.provider.Upstream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

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
 * An interrupt of the calling thread cancels every call in flight (each connection is closed) and
 * throws {@link InterruptedException} at once. Answers are capped at {@value #MAX_ANSWER_BYTES} bytes;
 * all of this is {@link Upstream}'s.
 *
 * <p>The key goes into the {@code Authorization} header only; messages never contain it. Safe for
 * concurrent use: one shared {@link Upstream}, no other mutable state.
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
    private final boolean sendsImageSize;
    private final Duration callTimeout;
    private final Upstream upstream;

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
        this.sendsImageSize = settings.sendsImageSize();
        this.callTimeout = Objects.requireNonNull(settings.callTimeout(), "callTimeout");
        if (!callTimeout.isPositive()) {
            throw new IllegalArgumentException("callTimeout must be positive: " + callTimeout);
        }
        Duration connect = Objects.requireNonNull(settings.connectTimeout(), "connectTimeout");
        this.upstream = Upstream.api(connect);
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
                .POST(HttpRequest.BodyPublishers.ofByteArray(ChatRequest.body(model, request, NAME, sendsImageSize)))
                .build();
        Upstream.Deadline deadline = Upstream.Deadline.after(callTimeout);
        List<Upstream.Exchange> calls = new ArrayList<>(request.numImages());
        try {
            for (int i = 0; i < request.numImages(); i++) {
                calls.add(upstream.start(http, MAX_ANSWER_BYTES));
            }
            List<ImageData> images = new ArrayList<>(calls.size());
            Set<String> texts = new LinkedHashSet<>();
            for (Upstream.Exchange call : calls) {
                Upstream.Answer response = call.await(deadline);
                ChatAnswer answer = ChatAnswer.read(response.status(), response.headers(), response.body(), model, apiKey);
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
            calls.forEach(Upstream.Exchange::cancel);
        }
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
}
