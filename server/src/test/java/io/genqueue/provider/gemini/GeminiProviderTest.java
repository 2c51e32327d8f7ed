package io.genqueue.provider.gemini;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.emulator.gemini.GeminiEmulator;
import io.genqueue.generation.ErrorType;
import io.genqueue.image.AspectRatio;
import io.genqueue.image.ImageData;
import io.genqueue.image.ImageFormat;
import io.genqueue.image.ImageProbe;
import io.genqueue.image.OutputFormat;
import io.genqueue.provider.GenerationRequest;
import io.genqueue.provider.GenerationResult;
import io.genqueue.provider.ProviderException;
import io.genqueue.provider.ProviderSettings;
import io.genqueue.testing.TestImages;
import java.awt.image.BufferedImage;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Gemini adapter against the Gemini emulator over real sockets: every scenario of the matrix
 * ends in an image or in a classified {@link ProviderException}, and the key stays out of URLs and
 * messages.
 */
class GeminiProviderTest {

    static final String KEY = "AIzaSyTest-" + UUID.randomUUID();
    static GeminiEmulator emulator;
    static GeminiProvider provider;

    @BeforeAll
    static void start() {
        emulator = GeminiEmulator.start("127.0.0.1", 0, KEY);
        provider = new GeminiProvider(settings(emulator.baseUrl(), KEY, null, Duration.ofSeconds(20)));
    }

    @AfterAll
    static void stop() {
        emulator.close();
    }

    static ProviderSettings settings(URI base, String key, String model, Duration callTimeout) {
        return new ProviderSettings(base, key, model, Duration.ofSeconds(2), callTimeout);
    }

    static GenerationRequest request(String prompt, AspectRatio ratio, OutputFormat format, int n, boolean text,
            List<ImageData> references) {
        return new GenerationRequest("req_test", prompt, references, ratio, format, n, text, null);
    }

    static GenerationRequest request(String prompt) {
        return request(prompt, AspectRatio.R1_1, OutputFormat.PNG, 1, true, List.of());
    }

    /** The exchanges whose prompt contains {@code marker}, in order. */
    static List<GeminiEmulator.Exchange> sent(String marker) {
        return emulator.requests().stream().filter(e -> e.body().contains(marker)).toList();
    }

    static String marker() {
        return "m" + UUID.randomUUID().toString().substring(0, 8);
    }

    @Test
    void metadata_names_the_provider_and_its_formats() {
        assertThat(provider.name()).isEqualTo("gemini");
        assertThat(provider.outputFormats()).contains(OutputFormat.PNG, OutputFormat.JPEG);
        assertThat(GeminiProvider.DEFAULT_BASE_URL).isEqualTo("https://generativelanguage.googleapis.com");
        assertThat(GeminiProvider.DEFAULT_MODEL).isEqualTo("gemini-2.5-flash-image");
    }

    @ParameterizedTest
    @EnumSource(AspectRatio.class)
    void each_aspect_ratio_gives_the_emulators_png_at_the_models_size(AspectRatio ratio) throws Exception {
        String m = marker();
        GenerationResult result = provider.generate(request("a lighthouse at dusk " + m, ratio, OutputFormat.PNG, 1, true,
                List.of()));

        assertThat(result.images()).hasSize(1);
        ImageData image = result.images().get(0);
        assertThat(image.info().format()).isEqualTo(ImageFormat.PNG);
        assertThat(image.info().width()).isEqualTo(ratio.width());
        assertThat(image.info().height()).isEqualTo(ratio.height()); // read from the bytes, which were fully decoded
        GeminiEmulator.Exchange exchange = sent(m).get(0);
        assertThat(exchange.status()).isEqualTo(200);
        assertThat(image.bytes()).isEqualTo(exchange.images().get(0));
        assertThat(exchange.json().at("/generationConfig/imageConfig/aspectRatio").asText()).isEqualTo(ratio.wire());
        assertThat(result.description()).startsWith("Here is your image of").contains("a lighthouse at dusk");
    }

    // WebP is left out: Transcoder verifies its own lossless WebP with the decoder's 2048:1
    // expansion guard, which the emulator's smooth gradients exceed (reported to the lead).
    @ParameterizedTest
    @EnumSource(value = OutputFormat.class, names = {"PNG", "JPEG"})
    void the_image_comes_in_the_requested_format(OutputFormat format) throws Exception {
        GenerationResult result = provider.generate(request("a red bicycle", AspectRatio.R3_2, format, 1, true, List.of()));

        ImageData image = result.images().get(0);
        assertThat(image.info().contentType()).isEqualTo(format.contentType());
        BufferedImage decoded = TestImages.decode(image.bytes());
        assertThat(decoded.getWidth()).isEqualTo(1248);
        assertThat(decoded.getHeight()).isEqualTo(832);
    }

    @Test
    void the_request_carries_the_key_in_a_header_and_the_prompt_modalities_and_ratio_in_the_body() throws Exception {
        String m = marker();
        provider.generate(new GenerationRequest("req_x", "a cat on a surfboard " + m, List.of(), AspectRatio.R16_9,
                OutputFormat.PNG, 1, true, 42L));

        GeminiEmulator.Exchange exchange = sent(m).get(0);
        assertThat(exchange.method()).isEqualTo("POST");
        assertThat(exchange.target()).isEqualTo("/v1beta/models/gemini-2.5-flash-image:generateContent");
        assertThat(exchange.target()).doesNotContain(KEY);
        assertThat(exchange.header("x-goog-api-key")).isEqualTo(KEY);
        assertThat(exchange.header("content-type")).startsWith("application/json");
        JsonNode body = exchange.json();
        assertThat(body.at("/contents/0/role").asText()).isEqualTo("user");
        assertThat(body.at("/contents/0/parts/0/text").asText()).isEqualTo("a cat on a surfboard " + m);
        assertThat(body.at("/generationConfig/responseModalities").toString()).isEqualTo("[\"TEXT\",\"IMAGE\"]");
        assertThat(body.at("/generationConfig/imageConfig/aspectRatio").asText()).isEqualTo("16:9");
        assertThat(body.at("/generationConfig/seed").asLong()).isEqualTo(42L);
    }

    @Test
    void image_only_modality_asks_for_images_only_and_gives_no_description() throws Exception {
        String m = marker();
        GenerationResult result = provider.generate(request("a quiet pond " + m, AspectRatio.R1_1, OutputFormat.PNG, 1,
                false, List.of()));

        assertThat(result.description()).isEmpty();
        assertThat(result.images()).hasSize(1);
        assertThat(sent(m).get(0).json().at("/generationConfig/responseModalities").toString()).isEqualTo("[\"IMAGE\"]");
    }

    @Test
    void parts_in_any_order_are_read_image_and_all_text() throws Exception {
        GenerationResult result = provider.generate(request("[emulate:image_first] a kite"));

        assertThat(result.images()).hasSize(1);
        assertThat(TestImages.decode(result.images().get(0).bytes()).getWidth()).isEqualTo(1024);
        assertThat(result.description()).isEqualTo("Here is your image of \"[emulate:image_first] a kite\", at 1:1.");
    }

    @Test
    void an_image_only_answer_to_a_text_and_image_request_has_an_empty_description() throws Exception {
        GenerationResult result = provider.generate(request("[emulate:image_only] a pear"));

        assertThat(result.images()).hasSize(1);
        assertThat(result.description()).isEmpty();
    }

    @Test
    void several_images_are_several_calls_returned_in_order() throws Exception {
        String m = marker();
        GenerationResult result = provider.generate(request("three moons " + m, AspectRatio.R9_16, OutputFormat.PNG, 3, true,
                List.of()));

        List<GeminiEmulator.Exchange> calls = sent(m);
        assertThat(calls).hasSize(3);
        assertThat(result.images()).hasSize(3);
        for (int i = 0; i < 3; i++) {
            assertThat(result.images().get(i).bytes()).isEqualTo(calls.get(i).images().get(0));
            assertThat(result.images().get(i).info().width()).isEqualTo(768);
            assertThat(result.images().get(i).info().height()).isEqualTo(1344);
        }
        assertThat(result.images().get(0).bytes()).isNotEqualTo(result.images().get(1).bytes());
        assertThat(result.description().split("\n\n")).hasSize(3);
    }

    @Test
    void references_are_sent_as_inline_data_and_a_gif_is_converted_to_png() throws Exception {
        ImageData png = ImageProbe.verify(TestImages.encode(64, 48, "png"), 100_000_000L);
        ImageData jpeg = ImageProbe.verify(TestImages.encode(40, 40, "jpeg"), 100_000_000L);
        ImageData gif = ImageProbe.verify(TestImages.encode(30, 20, "gif"), 100_000_000L);
        String m = marker();
        provider.generate(request("combine these " + m, AspectRatio.R4_3, OutputFormat.PNG, 1, true,
                List.of(png, jpeg, gif)));

        JsonNode parts = sent(m).get(0).json().at("/contents/0/parts");
        assertThat(parts).hasSize(4);
        assertThat(parts.get(0).at("/inline_data/mime_type").asText()).isEqualTo("image/png");
        assertThat(Base64.getDecoder().decode(parts.get(0).at("/inline_data/data").asText())).isEqualTo(png.bytes());
        assertThat(parts.get(1).at("/inline_data/mime_type").asText()).isEqualTo("image/jpeg");
        assertThat(Base64.getDecoder().decode(parts.get(1).at("/inline_data/data").asText())).isEqualTo(jpeg.bytes());
        assertThat(parts.get(2).at("/inline_data/mime_type").asText()).isEqualTo("image/png");
        BufferedImage converted = TestImages.decode(Base64.getDecoder().decode(parts.get(2).at("/inline_data/data").asText()));
        assertThat(converted.getWidth()).isEqualTo(30);
        assertThat(converted.getHeight()).isEqualTo(20);
        assertThat(parts.get(3).get("text").asText()).isEqualTo("combine these " + m);
    }

    @Test
    void without_an_aspect_ratio_the_output_follows_the_first_reference() throws Exception {
        String m = marker();
        GenerationResult result = provider.generate(request("widen " + m, null, OutputFormat.PNG, 1, true,
                List.of(ImageProbe.verify(TestImages.encode(320, 180, "png"), 100_000_000L))));

        assertThat(sent(m).get(0).json().at("/generationConfig/imageConfig").isMissingNode()).isTrue();
        assertThat(result.images().get(0).info().width()).isEqualTo(1344);
        assertThat(result.images().get(0).info().height()).isEqualTo(768);
    }

    static Stream<Arguments> failures() {
        return Stream.of(
                Arguments.of("prompt_blocked", ErrorType.CONTENT_POLICY_VIOLATION, false, List.of("prompt was blocked",
                        "PROHIBITED_CONTENT")),
                Arguments.of("output_blocked", ErrorType.CONTENT_POLICY_VIOLATION, false, List.of("IMAGE_SAFETY",
                        "filtered out")),
                Arguments.of("prohibited", ErrorType.CONTENT_POLICY_VIOLATION, false, List.of("IMAGE_PROHIBITED_CONTENT",
                        "Support code: 42876398")),
                Arguments.of("no_image", ErrorType.PROVIDER_ERROR, false, List.of("no image", "NO_IMAGE")),
                Arguments.of("text_only", ErrorType.PROVIDER_ERROR, false, List.of("text only",
                        "I'm unable to create that image")),
                Arguments.of("max_tokens", ErrorType.PROVIDER_ERROR, true, List.of("MAX_TOKENS")),
                Arguments.of("bad_request", ErrorType.PROVIDER_ERROR, false, List.of("400 INVALID_ARGUMENT",
                        "Unknown name \"size\"")),
                Arguments.of("bad_key", ErrorType.PROVIDER_ERROR, false, List.of("API_KEY_INVALID", "key is not valid")),
                Arguments.of("permission_denied", ErrorType.PROVIDER_ERROR, false, List.of("403 PERMISSION_DENIED")),
                Arguments.of("rate_limit", ErrorType.PROVIDER_UNAVAILABLE, true, List.of("429 RESOURCE_EXHAUSTED",
                        "exceeded your current quota")),
                Arguments.of("daily_quota", ErrorType.PROVIDER_UNAVAILABLE, false, List.of("429 RESOURCE_EXHAUSTED",
                        "daily quota", "GenerateRequestsPerDayPerProjectPerModel-FreeTier")),
                Arguments.of("overloaded", ErrorType.PROVIDER_UNAVAILABLE, true, List.of("503 UNAVAILABLE", "overloaded")),
                Arguments.of("internal", ErrorType.PROVIDER_ERROR, true, List.of("500 INTERNAL")),
                Arguments.of("timeout504", ErrorType.PROVIDER_UNAVAILABLE, true, List.of("504 DEADLINE_EXCEEDED")),
                Arguments.of("retired_model", ErrorType.PROVIDER_ERROR, false, List.of("404 NOT_FOUND",
                        "model gemini-2.5-flash-image not found (model retired?")),
                Arguments.of("not_json", ErrorType.PROVIDER_ERROR, true, List.of("not JSON")),
                Arguments.of("drop", ErrorType.PROVIDER_UNAVAILABLE, true, List.of("connection")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("failures")
    void every_failure_is_classified(String scenario, ErrorType type, boolean retryable, List<String> fragments) {
        ProviderException e = catchThrowableOfType(ProviderException.class,
                () -> provider.generate(request("[emulate:" + scenario + "] a harbour")));

        assertThat(e).as(scenario + " must fail").isNotNull();
        assertThat(e.type()).isEqualTo(type);
        assertThat(e.retryable()).isEqualTo(retryable);
        for (String fragment : fragments) {
            assertThat(e.getMessage()).contains(fragment);
        }
        assertThat(e.getMessage()).doesNotContain(KEY).doesNotStartWith("gemini:");
        if (scenario.equals("rate_limit")) {
            assertThat(e.retryAfter()).contains(Duration.ofMillis(7500));
        } else {
            assertThat(e.retryAfter()).isEmpty();
        }
    }

    @Test
    void a_wrong_key_is_final_and_not_quoted() {
        String wrong = "AIzaSyWrong-" + UUID.randomUUID();
        GeminiProvider wrongKey = new GeminiProvider(settings(emulator.baseUrl(), wrong, null, Duration.ofSeconds(20)));

        ProviderException e = catchThrowableOfType(ProviderException.class, () -> wrongKey.generate(request("a tree")));

        assertThat(e.retryable()).isFalse();
        assertThat(e.getMessage()).contains("API_KEY_INVALID").doesNotContain(wrong);
    }

    @Test
    void a_model_the_api_does_not_serve_is_final_and_named() {
        GeminiProvider retired = new GeminiProvider(settings(emulator.baseUrl(), KEY, "gemini-2.5-flash-image-preview",
                Duration.ofSeconds(20)));

        ProviderException e = catchThrowableOfType(ProviderException.class, () -> retired.generate(request("a tree")));

        assertThat(e.retryable()).isFalse();
        assertThat(e.getMessage()).contains("404").contains("gemini-2.5-flash-image-preview").contains("model retired?");
        assertThat(emulator.lastRequest().target()).isEqualTo("/v1beta/models/gemini-2.5-flash-image-preview:generateContent");
    }

    @Test
    void a_stalled_call_times_out_as_retryable_and_the_connection_is_closed() throws Exception {
        GeminiProvider impatient = new GeminiProvider(settings(emulator.baseUrl(), KEY, null, Duration.ofMillis(300)));
        int abortedBefore = emulator.aborted();

        ProviderException e = catchThrowableOfType(ProviderException.class,
                () -> impatient.generate(request("[emulate:stall] a snail")));

        assertThat(e.type()).isEqualTo(ErrorType.PROVIDER_UNAVAILABLE);
        assertThat(e.retryable()).isTrue();
        assertThat(e.getMessage()).contains("no complete answer from 127.0.0.1:").endsWith("within 300 ms");
        assertThat(emulator.awaitAborted(abortedBefore + 1, Duration.ofSeconds(5))).isTrue();
    }

    @Test
    void an_oversized_answer_fails_retryably_without_being_read_in_full() throws Exception {
        int abortedBefore = emulator.aborted();

        ProviderException e = catchThrowableOfType(ProviderException.class,
                () -> provider.generate(request("[emulate:oversized] an ocean")));

        assertThat(e.type()).isEqualTo(ErrorType.PROVIDER_ERROR);
        assertThat(e.retryable()).isTrue();
        assertThat(e.getMessage()).contains("is larger than 64 MiB").doesNotContain(KEY);
        // the emulator offered 1 GiB; the connection was closed once the cap was passed
        assertThat(emulator.awaitAborted(abortedBefore + 1, Duration.ofSeconds(10))).isTrue();
    }

    @Test
    void an_interrupt_aborts_the_call_at_once() throws Exception {
        GeminiProvider patient = new GeminiProvider(settings(emulator.baseUrl(), KEY, null, Duration.ofSeconds(60)));
        int abortedBefore = emulator.aborted();
        int callsBefore = emulator.calls();
        CompletableFuture<Throwable> outcome = new CompletableFuture<>();
        Thread worker = Thread.ofPlatform().start(() -> {
            try {
                patient.generate(request("[emulate:stall] a glacier"));
                outcome.complete(null);
            } catch (Throwable t) {
                outcome.complete(t);
            }
        });
        assertThat(emulator.awaitRequests(callsBefore + 1, Duration.ofSeconds(10))).isTrue();

        worker.interrupt();

        assertThat(outcome.get(1, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
        assertThat(emulator.awaitAborted(abortedBefore + 1, Duration.ofSeconds(5))).isTrue();
        worker.join();
    }

    @Test
    void a_refused_connection_is_retryable() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        GeminiProvider nowhere = new GeminiProvider(settings(URI.create("http://127.0.0.1:" + port), KEY, null,
                Duration.ofSeconds(5)));

        ProviderException e = catchThrowableOfType(ProviderException.class, () -> nowhere.generate(request("a ghost")));

        assertThat(e.type()).isEqualTo(ErrorType.PROVIDER_UNAVAILABLE);
        assertThat(e.retryable()).isTrue();
        assertThat(e.getMessage()).contains("connect").doesNotContain(KEY);
    }

    @Test
    void settings_without_a_key_are_refused() {
        assertThat(catchThrowableOfType(IllegalArgumentException.class,
                () -> new GeminiProvider(settings(emulator.baseUrl(), " ", null, Duration.ofSeconds(1)))))
                .hasMessageContaining("API key");
        assertThat(new GeminiProvider(new ProviderSettings(null, KEY, null, null, null)).name()).isEqualTo("gemini");
    }
}
