package io.genqueue.provider.gemini;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genqueue.generation.ErrorType;
import io.genqueue.image.ImageData;
import io.genqueue.image.ImageFormat;
import io.genqueue.image.OutputFormat;
import io.genqueue.json.Json;
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
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Google's Gemini API ({@code v1beta generateContent}) with {@code gemini-2.5-flash-image}.
 *
 * <p>One upstream call per image: the model has no reliable image count, so {@code numImages}
 * calls are made one after another and their images returned in order. Each call is bounded as a
 * whole by {@link ProviderSettings#callTimeout()} and its answer capped at {@value #MAX_ANSWER_BYTES} bytes
 * (both by {@link Upstream}); an interrupt (the job was cancelled) aborts the
 * exchange in flight (the connection is closed) and surfaces as {@link InterruptedException}.
 *
 * <p>Every outcome without an image is a {@link ProviderException}: a blocked prompt or image is
 * {@link ErrorType#CONTENT_POLICY_VIOLATION}, a model that produced no image (or only text) is a
 * final {@link ErrorType#PROVIDER_ERROR} that quotes the model's own words. HTTP errors follow
 * the Google RPC envelope: 429 is retryable after its {@code RetryInfo.retryDelay} unless the
 * exhausted quota is a per-day one; 5xx, timeouts and broken connections are retryable; a bad
 * key, a missing model and a rejected request are final.
 *
 * <p>The key travels only in the {@code x-goog-api-key} header and never appears in a message.
 * Thread-safe: one {@link Upstream} serves every call.
 */
public final class GeminiProvider implements ImageProvider {

    public static final String DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com";
    public static final String DEFAULT_MODEL = "gemini-2.5-flash-image";

    static final String NAME = "gemini";
    /** The reference formats Gemini takes; anything else (GIF) is sent as PNG. */
    static final Set<ImageFormat> ACCEPTED_REFERENCES = Set.of(ImageFormat.PNG, ImageFormat.JPEG, ImageFormat.WEBP);
    /** How much upstream text a message quotes, in characters. */
    static final int QUOTE_LIMIT = 300;

    private static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration DEFAULT_CALL_TIMEOUT = Duration.ofSeconds(120);
    /** One image is a few MiB of base64; an answer near this is broken or hostile. */
    static final long MAX_ANSWER_BYTES = 64L * 1024 * 1024;
    private static final Pattern MODEL_ID = Pattern.compile("[A-Za-z0-9._-]+");

    private final URI endpoint;
    private final String apiKey;
    private final String model;
    private final boolean sendsImageSize;
    private final Duration callTimeout;
    private final Upstream upstream;

    /**
     * @param settings the base URL ({@link #DEFAULT_BASE_URL} when null), the key (required), the
     *     model ({@link #DEFAULT_MODEL} when null or blank) and the timeouts (10 s to connect and
     *     120 s a call when null)
     * @throws IllegalArgumentException when the key is missing or the model id is not a plain id
     */
    public GeminiProvider(ProviderSettings settings) {
        Objects.requireNonNull(settings, "settings");
        if (settings.apiKey() == null || settings.apiKey().isBlank()) {
            throw new IllegalArgumentException("the Gemini provider needs an API key");
        }
        this.apiKey = settings.apiKey().strip();
        this.sendsImageSize = settings.sendsImageSize();
        this.model = settings.model() == null || settings.model().isBlank() ? DEFAULT_MODEL : settings.model().strip();
        if (!MODEL_ID.matcher(model).matches()) {
            throw new IllegalArgumentException("not a Gemini model id: " + model);
        }
        String base = settings.baseUrl() == null ? DEFAULT_BASE_URL : settings.baseUrl().toString();
        while (base.endsWith("/")) {
            base = base.substring(0, base.length() - 1);
        }
        this.endpoint = URI.create(base + "/v1beta/models/" + model + ":generateContent");
        this.callTimeout = positive(settings.callTimeout(), DEFAULT_CALL_TIMEOUT);
        this.upstream = Upstream.api(positive(settings.connectTimeout(), DEFAULT_CONNECT_TIMEOUT));
    }

    @Override
    public String name() {
        return NAME;
    }

    /** PNG (what the model makes), JPEG, and WebP when this process can write it. */
    @Override
    public Set<OutputFormat> outputFormats() {
        return Transcoder.outputFormats();
    }

    @Override
    public GenerationResult generate(GenerationRequest request) throws InterruptedException {
        Objects.requireNonNull(request, "request");
        if (request.format() == null || !outputFormats().contains(request.format())) {
            throw new IllegalArgumentException("the Gemini provider cannot deliver " + request.format() + " here");
        }
        byte[] body = Json.write(requestBody(request));
        List<ImageData> images = new ArrayList<>(request.numImages());
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < request.numImages(); i++) {
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            Answer answer = call(body);
            images.add(Transcoder.to(answer.image(), request.format(), NAME));
            if (!answer.text().isBlank()) {
                texts.add(answer.text().strip());
            }
        }
        return new GenerationResult(images, request.includeText() ? String.join("\n\n", texts) : "");
    }

    /** The {@code generateContent} body: reference images first, then the prompt, as in Google's samples. */
    JsonNode requestBody(GenerationRequest request) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ArrayNode parts = f.arrayNode();
        for (ImageData reference : request.references()) {
            ImageData sent = Transcoder.acceptable(reference, ACCEPTED_REFERENCES, NAME);
            ObjectNode inline = parts.addObject().putObject("inline_data");
            inline.put("mime_type", sent.info().contentType());
            inline.put("data", Base64.getEncoder().encodeToString(sent.bytes()));
        }
        parts.addObject().put("text", request.prompt());
        ObjectNode root = f.objectNode();
        ObjectNode content = root.putArray("contents").addObject();
        content.put("role", "user");
        content.set("parts", parts);
        ObjectNode config = root.putObject("generationConfig");
        ArrayNode modalities = config.putArray("responseModalities");
        if (request.includeText()) {
            modalities.add("TEXT");
        }
        modalities.add("IMAGE");
        if (request.aspectRatio() != null) {
            ObjectNode image = config.putObject("imageConfig").put("aspectRatio", request.aspectRatio().wire());
            if (sendsImageSize && request.imageSize() != null) {
                image.put("imageSize", request.imageSize());
            }
        }
        if (request.seed() != null && request.seed() >= Integer.MIN_VALUE && request.seed() <= Integer.MAX_VALUE) {
            config.put("seed", request.seed().intValue()); // an int32 upstream
        }
        return root;
    }

    /** What one successful call gave: the last image of the answer and its text parts, joined. */
    record Answer(byte[] image, String text) {
    }

    /** One upstream call, bounded by the call timeout, aborted on interrupt. */
    private Answer call(byte[] body) throws InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(endpoint)
                .header("Content-Type", "application/json")
                .header("x-goog-api-key", apiKey)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
        Upstream.Answer answer = upstream.send(request, MAX_ANSWER_BYTES, Upstream.Deadline.after(callTimeout));
        return GeminiAnswers.read(answer.status(), answer.body(), answer.headers().firstValue("Retry-After"), model, apiKey);
    }

    private static Duration positive(Duration value, Duration fallback) {
        return value == null || value.isZero() || value.isNegative() ? fallback : value;
    }
}
