package io.genqueue.provider.openrouter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.emulator.EmulatorImages;
import io.genqueue.emulator.openrouter.OpenRouterEmulator;
import io.genqueue.generation.ErrorType;
import io.genqueue.image.AspectRatio;
import io.genqueue.image.ImageData;
import io.genqueue.image.ImageFormat;
import io.genqueue.image.ImageInfo;
import io.genqueue.image.ImageProbe;
import io.genqueue.image.OutputFormat;
import io.genqueue.provider.CallContext;
import io.genqueue.provider.GenerationRequest;
import io.genqueue.provider.GenerationResult;
import io.genqueue.provider.ProviderException;
import io.genqueue.provider.ProviderSettings;
import io.genqueue.testing.TestImages;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The adapter against the OpenRouter emulator, over real sockets: one scenario per test. */
class OpenRouterProviderTest {

    private static final String KEY = "sk-or-v1-test-secret-4f1c9a7e20b3";
    private static final String PROMPT = "A lighthouse on a cliff at dusk";

    private OpenRouterEmulator emulator;
    private OpenRouterProvider provider;

    @BeforeEach
    void start() {
        emulator = OpenRouterEmulator.start("127.0.0.1", 0, KEY);
        provider = provider(emulator.baseUrl(), KEY, Duration.ofSeconds(20));
    }

    @AfterEach
    void stop() {
        emulator.close();
    }

    @Test
    void names_itself_and_the_defaults() {
        assertThat(provider.name()).isEqualTo("openrouter");
        assertThat(provider.outputFormats()).contains(OutputFormat.PNG, OutputFormat.JPEG);
        assertThat(OpenRouterProvider.DEFAULT_BASE_URL).isEqualTo("https://openrouter.ai/api");
        assertThat(OpenRouterProvider.DEFAULT_MODEL).isEqualTo("google/gemini-2.5-flash-image");
        assertThat(provider.endpoint().toString()).isEqualTo(emulator.baseUrl() + "/v1/chat/completions");
    }

    @Test
    void returns_the_png_at_the_size_of_the_aspect_ratio_with_the_models_text() throws Exception {
        GenerationResult result = provider.generate(request(PROMPT, AspectRatio.R16_9, OutputFormat.PNG, 1, List.of()));

        assertThat(result.images()).hasSize(1);
        ImageData image = ImageProbe.verify(result.images().getFirst().bytes(), 10_000_000);
        assertThat(image.info().format()).isEqualTo(ImageFormat.PNG);
        assertThat(image.info().width()).isEqualTo(1344);
        assertThat(image.info().height()).isEqualTo(768);
        assertThat(result.description()).isEqualTo("Here is the image you asked for.");
        assertThat(emulator.calls()).isEqualTo(1);
    }

    @ParameterizedTest
    @MethodSource("convertedFormats")
    void converts_to_the_requested_format(OutputFormat format) throws Exception {
        GenerationResult result = provider.generate(request(PROMPT, AspectRatio.R2_3, format, 1, List.of()));

        // The header only: TwelveMonkeys refuses to decode a lossless WebP of the emulator's smooth
        // gradient (it expands more than 2048:1, its decompression-bomb limit).
        ImageInfo info = ImageProbe.probe(result.images().getFirst().bytes(), 10_000_000);
        assertThat(info.format().name()).isEqualTo(format.name());
        assertThat(info.width()).isEqualTo(832);
        assertThat(info.height()).isEqualTo(1248);
        assertThat(result.images().getFirst().info()).isEqualTo(info);
    }

    static Stream<OutputFormat> convertedFormats() {
        return new OpenRouterProvider(settings("http://127.0.0.1:1/api", KEY, Duration.ofSeconds(1)))
                .outputFormats().stream().filter(f -> f != OutputFormat.PNG);
    }

    @Test
    void leaves_the_description_empty_when_no_text_was_asked_for() throws Exception {
        GenerationRequest noText = new GenerationRequest("req_1", PROMPT, List.of(), AspectRatio.R1_1,
                OutputFormat.PNG, 1, false, null);

        assertThat(provider.generate(noText).description()).isEmpty();
    }

    @Test
    void an_image_without_text_is_a_success_with_an_empty_description() throws Exception {
        GenerationResult result = provider.generate(request(PROMPT + " [emulate:image_only]", AspectRatio.R1_1,
                OutputFormat.PNG, 1, List.of()));

        assertThat(result.images()).hasSize(1);
        assertThat(result.description()).isEmpty();
    }

    @Test
    void several_images_are_several_calls() throws Exception {
        GenerationResult result = provider.generate(request(PROMPT, AspectRatio.R4_3, OutputFormat.PNG, 3, List.of()));

        assertThat(emulator.calls()).isEqualTo(3);
        assertThat(result.images()).hasSize(3);
        assertThat(result.images()).allSatisfy(i -> assertThat(i.info().width()).isEqualTo(1184));
        assertThat(result.images().stream().map(i -> Base64.getEncoder().encodeToString(i.bytes())).distinct())
                .hasSize(3);
        assertThat(result.description()).isEqualTo("Here is the image you asked for.");
    }

    @Test
    void sends_the_prompt_references_as_data_urls_the_ratio_and_the_key() throws Exception {
        ImageData png = ImageProbe.verify(EmulatorImages.render(64, 48, "ref", 0, OutputFormat.PNG), 1_000_000);
        ImageData gif = ImageProbe.verify(TestImages.gif(40, 30), 1_000_000);
        GenerationRequest request = new GenerationRequest("req_1", PROMPT, List.of(png, gif), AspectRatio.R9_16,
                OutputFormat.PNG, 1, true, 42L);

        provider.generate(request);

        OpenRouterEmulator.Received call = emulator.received().getFirst();
        assertThat(call.path()).isEqualTo("/api/v1/chat/completions");
        assertThat(call.header("Authorization")).isEqualTo("Bearer " + KEY);
        JsonNode body = call.json();
        assertThat(body.path("model").asText()).isEqualTo(OpenRouterProvider.DEFAULT_MODEL);
        assertThat(body.path("modalities").toString()).isEqualTo("[\"image\",\"text\"]");
        assertThat(body.path("image_config").path("aspect_ratio").asText()).isEqualTo("9:16");
        assertThat(body.path("seed").asLong()).isEqualTo(42L);
        assertThat(body.path("stream").asBoolean(true)).isFalse();
        JsonNode content = body.path("messages").path(0).path("content");
        assertThat(body.path("messages").path(0).path("role").asText()).isEqualTo("user");
        assertThat(content).hasSize(3);
        assertThat(content.path(0).path("type").asText()).isEqualTo("text");
        assertThat(content.path(0).path("text").asText()).isEqualTo(PROMPT);
        assertThat(content.path(1).path("image_url").path("url").asText())
                .isEqualTo("data:image/png;base64," + Base64.getEncoder().encodeToString(png.bytes()));
        String second = content.path(2).path("image_url").path("url").asText();
        assertThat(second).startsWith("data:image/png;base64,"); // the GIF, sent as PNG
        byte[] sent = Base64.getDecoder().decode(second.substring(second.indexOf(',') + 1));
        ImageData decoded = ImageProbe.verify(sent, 1_000_000);
        assertThat(decoded.info().format()).isEqualTo(ImageFormat.PNG);
        assertThat(decoded.info().width()).isEqualTo(40);
        assertThat(decoded.info().height()).isEqualTo(30);
    }

    @Test
    void logs_the_generation_id_into_the_job_log() throws Exception {
        RecordingContext context = new RecordingContext();
        GenerationRequest request = new GenerationRequest("req_1", PROMPT, List.of(), AspectRatio.R1_1,
                OutputFormat.PNG, 1, true, null, context);

        provider.generate(request);

        assertThat(context.lines).singleElement().asString()
                .contains("gen-emulator-1").contains("Google AI Studio").doesNotContain(KEY);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("failures")
    void classifies_every_failure_scenario(String scenario, ErrorType type, boolean retryable, Duration retryAfter,
            String says) {
        Throwable thrown = catchThrowable(() -> provider.generate(
                request(PROMPT + " [emulate:" + scenario + "]", AspectRatio.R1_1, OutputFormat.PNG, 1, List.of())));

        assertThat(thrown).isInstanceOf(ProviderException.class);
        ProviderException e = (ProviderException) thrown;
        assertThat(e.type()).isEqualTo(type);
        assertThat(e.retryable()).isEqualTo(retryable);
        assertThat(e.retryAfter()).isEqualTo(Optional.ofNullable(retryAfter));
        assertThat(e.getMessage()).contains(says);
        assertNoKeyIn(e);
        assertThat(emulator.calls()).isEqualTo(1);
    }

    static Stream<Arguments> failures() {
        return Stream.of(
                Arguments.of("prompt_blocked", ErrorType.CONTENT_POLICY_VIOLATION, false, null,
                        "flagged by moderation (violence)"),
                Arguments.of("prompt_blocked_200", ErrorType.CONTENT_POLICY_VIOLATION, false, null,
                        "content policy reasons (PROHIBITED_CONTENT)"),
                Arguments.of("output_blocked", ErrorType.CONTENT_POLICY_VIOLATION, false, null,
                        "content policy reasons (IMAGE_SAFETY)"),
                Arguments.of("text_only", ErrorType.PROVIDER_ERROR, false, null,
                        "text but no image: \"I can't create that image"),
                Arguments.of("no_image", ErrorType.PROVIDER_ERROR, false, null, "text but no image"),
                Arguments.of("bad_request", ErrorType.PROVIDER_ERROR, false, null,
                        "invalid (HTTP 400: Provider returned error: invalid request)"),
                Arguments.of("bad_key", ErrorType.PROVIDER_UNAVAILABLE, false, null, "API key (HTTP 401: User not found.)"),
                Arguments.of("bad_key_echo", ErrorType.PROVIDER_UNAVAILABLE, false, null,
                        "Incorrect API key provided: [redacted]"),
                Arguments.of("no_credits", ErrorType.PROVIDER_UNAVAILABLE, false, null, "out of credits (HTTP 402"),
                Arguments.of("rate_limit", ErrorType.PROVIDER_UNAVAILABLE, true, Duration.ofSeconds(7),
                        "rate limiting the gateway (HTTP 429"),
                Arguments.of("overloaded", ErrorType.PROVIDER_UNAVAILABLE, true, null,
                        "(HTTP 502: Provider returned error)"),
                Arguments.of("unavailable", ErrorType.PROVIDER_UNAVAILABLE, true, Duration.ofSeconds(3), "(HTTP 503"),
                Arguments.of("error_in_200", ErrorType.PROVIDER_UNAVAILABLE, true, null,
                        "(HTTP 502: Provider returned error)"),
                Arguments.of("finish_error", ErrorType.PROVIDER_ERROR, true, null, "stopped without an image (ERROR)"),
                Arguments.of("retired_model", ErrorType.PROVIDER_ERROR, false, null,
                        "model google/gemini-2.5-flash-image is not available (HTTP 404"),
                Arguments.of("drop", ErrorType.PROVIDER_UNAVAILABLE, true, null, "failed before a complete answer"));
    }

    @Test
    void a_wrong_key_is_final_and_never_quoted() {
        OpenRouterProvider wrong = provider(emulator.baseUrl(), "sk-or-v1-not-the-right-one", Duration.ofSeconds(20));

        Throwable thrown = catchThrowable(() -> wrong.generate(request(PROMPT, AspectRatio.R1_1, OutputFormat.PNG, 1, List.of())));

        assertThat(thrown).isInstanceOf(ProviderException.class);
        ProviderException e = (ProviderException) thrown;
        assertThat(e.type()).isEqualTo(ErrorType.PROVIDER_UNAVAILABLE);
        assertThat(e.retryable()).isFalse();
        assertThat(e.getMessage()).contains("HTTP 401").doesNotContain("sk-or-v1-not-the-right-one");
    }

    @Test
    void a_stalled_call_times_out_as_retryable() throws Exception {
        OpenRouterProvider impatient = provider(emulator.baseUrl(), KEY, Duration.ofMillis(300));

        CompletableFuture<Throwable> outcome = CompletableFuture.supplyAsync(() -> catchThrowable(() ->
                impatient.generate(request(PROMPT + " [emulate:stall]", AspectRatio.R1_1, OutputFormat.PNG, 1, List.of()))));

        Throwable thrown = outcome.get(10, TimeUnit.SECONDS); // a hang fails here instead of hanging the build
        assertThat(thrown).isInstanceOf(ProviderException.class);
        ProviderException e = (ProviderException) thrown;
        assertThat(e.type()).isEqualTo(ErrorType.PROVIDER_UNAVAILABLE);
        assertThat(e.retryable()).isTrue();
        assertThat(e.getMessage()).contains("no complete answer from 127.0.0.1:").endsWith("within 300 ms");
        assertNoKeyIn(e);
    }

    @Test
    void an_interrupt_aborts_the_call_at_once() throws Exception {
        CompletableFuture<Throwable> outcome = new CompletableFuture<>();
        Thread worker = Thread.ofVirtual().start(() -> outcome.complete(catchThrowable(() ->
                provider.generate(request(PROMPT + " [emulate:stall]", AspectRatio.R1_1, OutputFormat.PNG, 2, List.of())))));
        assertThat(emulator.awaitCalls(2, Duration.ofSeconds(10))).isTrue();

        worker.interrupt();

        assertThat(outcome.get(1, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
    }

    @Test
    void an_already_interrupted_thread_sends_nothing() {
        Thread.currentThread().interrupt();
        try {
            assertThatThrownBy(() -> provider.generate(request(PROMPT, AspectRatio.R1_1, OutputFormat.PNG, 1, List.of())))
                    .isInstanceOf(InterruptedException.class);
        } finally {
            Thread.interrupted();
        }
        assertThat(emulator.calls()).isZero();
    }

    @Test
    void a_refused_connection_is_retryable() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        OpenRouterProvider nowhere = provider("http://127.0.0.1:" + closedPort + "/api", KEY, Duration.ofSeconds(5));

        Throwable thrown = catchThrowable(() -> nowhere.generate(request(PROMPT, AspectRatio.R1_1, OutputFormat.PNG, 1, List.of())));

        assertThat(thrown).isInstanceOf(ProviderException.class);
        ProviderException e = (ProviderException) thrown;
        assertThat(e.type()).isEqualTo(ErrorType.PROVIDER_UNAVAILABLE);
        assertThat(e.retryable()).isTrue();
        assertThat(e.getMessage()).contains("could not connect to 127.0.0.1:" + closedPort);
    }

    @Test
    void refuses_a_missing_or_unsendable_key_without_quoting_it() {
        assertThatThrownBy(() -> provider(emulator.baseUrl(), " ", Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs an API key");
        assertThatThrownBy(() -> provider(emulator.baseUrl(), "sk-or-v1-abc\ndef", Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageNotContaining("sk-or-v1-abc");
    }

    @Test
    void a_base_url_with_a_trailing_slash_and_no_model_fall_back_to_the_defaults() throws Exception {
        OpenRouterProvider slash = new OpenRouterProvider(new ProviderSettings(URI.create(emulator.baseUrl() + "/"), KEY,
                null, Duration.ofSeconds(2), Duration.ofSeconds(20)));

        assertThat(slash.generate(request(PROMPT, AspectRatio.R1_1, OutputFormat.PNG, 1, List.of())).images()).hasSize(1);
        assertThat(emulator.received().getFirst().json().path("model").asText()).isEqualTo(OpenRouterProvider.DEFAULT_MODEL);
    }

    private static void assertNoKeyIn(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            assertThat(String.valueOf(t.getMessage())).doesNotContain(KEY);
            assertThat(t.toString()).doesNotContain(KEY);
        }
    }

    private static OpenRouterProvider provider(String baseUrl, String key, Duration callTimeout) {
        return new OpenRouterProvider(settings(baseUrl, key, callTimeout));
    }

    private static ProviderSettings settings(String baseUrl, String key, Duration callTimeout) {
        return new ProviderSettings(URI.create(baseUrl), key, OpenRouterProvider.DEFAULT_MODEL,
                Duration.ofSeconds(2), callTimeout);
    }

    private static GenerationRequest request(String prompt, AspectRatio ratio, OutputFormat format, int n,
            List<ImageData> references) {
        return new GenerationRequest("req_1", prompt, references, ratio, format, n, true, null);
    }

    /** A call context that keeps its log lines. */
    static final class RecordingContext implements CallContext {
        final List<String> lines = new CopyOnWriteArrayList<>();

        @Override
        public void info(String message) {
            lines.add(message);
        }

        @Override
        public void warn(String message) {
            lines.add("WARN " + message);
        }

        @Override
        public Optional<String> upstream() {
            return Optional.empty();
        }

        @Override
        public void saveUpstream(String reference) {
            throw new AssertionError("OpenRouter has nothing to resume");
        }
    }
}
