package io.genqueue.provider.fal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.emulator.EmulatorImages;
import io.genqueue.emulator.fal.FalEmulator;
import io.genqueue.generation.ErrorType;
import io.genqueue.image.AspectRatio;
import io.genqueue.image.ImageData;
import io.genqueue.image.ImageFormat;
import io.genqueue.image.ImageProbe;
import io.genqueue.image.OutputFormat;
import io.genqueue.provider.CallContext;
import io.genqueue.provider.GenerationRequest;
import io.genqueue.provider.GenerationResult;
import io.genqueue.provider.ProviderException;
import io.genqueue.provider.ProviderSettings;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The fal adapter against the fal emulator, over real sockets: every scenario, resume, cancel. */
class FalProviderTest {

    private static final String KEY = "fal-test-key-5b1d7c0e9a";

    private FalEmulator emulator;

    @BeforeEach
    void start() {
        emulator = FalEmulator.start("127.0.0.1", 0, KEY).timing(Duration.ofMillis(20), Duration.ofMillis(30));
    }

    @AfterEach
    void stop() {
        emulator.close();
    }

    private FalProvider provider() {
        return provider(KEY, FalProvider.DEFAULT_MODEL, Duration.ofSeconds(20));
    }

    private FalProvider provider(String key, String model, Duration callTimeout) {
        return new FalProvider(new ProviderSettings(emulator.baseUrl(), key, model, Duration.ofSeconds(2), callTimeout));
    }

    private static GenerationRequest request(String prompt, AspectRatio ratio, OutputFormat format, int n, CallContext context) {
        return new GenerationRequest("req_test", prompt, List.of(), ratio, format, n, true, null, context);
    }

    private RecordingContext context() {
        return new RecordingContext(null, true, emulator::statusPolls);
    }

    /** The failure of a generate call that must fail. */
    private ProviderException failure(FalProvider provider, String prompt) {
        ProviderException e = catchThrowableOfType(ProviderException.class,
                () -> provider.generate(request(prompt, AspectRatio.R1_1, OutputFormat.PNG, 1, context())));
        assertThat(e).as("generate must fail for " + prompt).isNotNull();
        assertThat(e.getMessage()).doesNotContain(KEY);
        return e;
    }

    // ---------------------------------------------------------------- success

    @Test
    void ok_returns_the_emulators_image_and_description_and_saves_the_ticket_before_polling() throws Exception {
        RecordingContext context = context();
        String prompt = "a red fox in snow";

        GenerationResult result = provider().generate(request(prompt, AspectRatio.R1_1, OutputFormat.PNG, 1, context));

        assertThat(result.images()).hasSize(1);
        ImageData image = result.images().get(0);
        assertThat(image.info().format()).isEqualTo(ImageFormat.PNG);
        assertThat(image.info().width()).isEqualTo(1024);
        assertThat(image.info().height()).isEqualTo(1024);
        assertThat(image.bytes()).isEqualTo(EmulatorImages.render(1024, 1024, prompt, 0, OutputFormat.PNG));
        assertThat(result.description()).isEqualTo("Here is the emulated image for: " + prompt);
        assertThat(emulator.submits()).isEqualTo(1);
        assertThat(context.saves).isEqualTo(1);
        assertThat(context.pollsWhenSaved).as("status polls seen when the ticket was saved").isZero();
        assertThat(Ticket.fromJson(context.upstream().orElseThrow())).isPresent();
        assertThat(context.lines).anyMatch(l -> l.startsWith("INFO fal: submitted upstream request "));
        JsonNode input = emulator.inputs().get(0);
        assertThat(input.get("prompt").asText()).isEqualTo(prompt);
        assertThat(input.get("aspect_ratio").asText()).isEqualTo("1:1");
        assertThat(input.get("output_format").asText()).isEqualTo("png");
        assertThat(input.get("num_images").asInt()).isEqualTo(1);
        assertThat(input.get("sync_mode").asBoolean()).isFalse();
    }

    @Test
    void several_jpeg_images_at_the_ratios_exact_size() throws Exception {
        String prompt = "two boats";
        GenerationResult result = provider().generate(request(prompt, AspectRatio.R16_9, OutputFormat.JPEG, 2, context()));

        assertThat(result.images()).hasSize(2);
        for (int i = 0; i < 2; i++) {
            ImageData image = result.images().get(i);
            assertThat(image.info().format()).isEqualTo(ImageFormat.JPEG);
            assertThat(image.info().width()).isEqualTo(1344);
            assertThat(image.info().height()).isEqualTo(768);
            assertThat(image.bytes()).isEqualTo(EmulatorImages.render(1344, 768, prompt, i, OutputFormat.JPEG));
        }
        assertThat(emulator.inputs().get(0).get("output_format").asText()).isEqualTo("jpeg");
    }

    @Test
    void webp_is_converted_from_fals_png() throws Exception {
        GenerationResult result = provider().generate(request("a webp kite", AspectRatio.R3_2, OutputFormat.WEBP, 1, context()));

        ImageData image = result.images().get(0);
        assertThat(image.info().format()).isEqualTo(ImageFormat.WEBP);
        assertThat(image.info().width()).isEqualTo(1248);
        assertThat(image.info().height()).isEqualTo(832);
        assertThat(emulator.inputs().get(0).get("output_format").asText()).isEqualTo("png");
    }

    @Test
    void reference_images_go_to_the_edit_endpoint_as_data_uris() throws Exception {
        byte[] png = EmulatorImages.render(64, 48, "reference", 0, OutputFormat.PNG);
        ImageData reference = ImageProbe.verify(png, 1 << 20);
        GenerationRequest request = new GenerationRequest("req_edit", "make it blue", List.of(reference, reference),
                AspectRatio.R4_3, OutputFormat.PNG, 1, true, 42L, context());

        GenerationResult result = provider().generate(request);

        assertThat(result.images().get(0).info().width()).isEqualTo(1184);
        assertThat(result.images().get(0).info().height()).isEqualTo(864);
        JsonNode input = emulator.inputs().get(0);
        assertThat(input.get("image_urls")).hasSize(2);
        assertThat(input.get("image_urls").get(0).asText()).startsWith("data:image/png;base64,");
        assertThat(input.has("seed")).as("nano-banana takes no seed; fal refuses unknown fields").isFalse();
    }

    @Test
    void image_only_has_no_description() throws Exception {
        GenerationResult result = provider().generate(
                request("a cup [emulate:image_only]", AspectRatio.R1_1, OutputFormat.PNG, 1, context()));
        assertThat(result.images()).hasSize(1);
        assertThat(result.description()).isEmpty();
    }

    @Test
    void slow_completes_within_the_call_timeout() throws Exception {
        emulator.slowFor(Duration.ofMillis(600));
        GenerationResult result = provider().generate(
                request("a snail [emulate:slow]", AspectRatio.R3_2, OutputFormat.PNG, 1, context()));
        assertThat(result.images().get(0).info().width()).isEqualTo(1248);
        assertThat(emulator.statusPolls()).isGreaterThan(1);
    }

    // ---------------------------------------------------------------- failures

    @Test
    void prompt_blocked_is_a_final_content_policy_violation() {
        ProviderException e = failure(provider(), "something [emulate:blocked]");
        assertThat(e.type()).isEqualTo(ErrorType.CONTENT_POLICY_VIOLATION);
        assertThat(e.retryable()).isFalse();
        assertThat(e.getMessage()).startsWith("content policy violation: ").contains("flagged by a content checker");
    }

    @Test
    void output_blocked_is_a_final_content_policy_violation() {
        ProviderException e = failure(provider(), "something [emulate:output_blocked]");
        assertThat(e.type()).isEqualTo(ErrorType.CONTENT_POLICY_VIOLATION);
        assertThat(e.retryable()).isFalse();
        assertThat(e.getMessage()).contains("generated image was flagged");
    }

    @Test
    void no_image_is_a_final_provider_error() {
        ProviderException e = failure(provider(), "nothing [emulate:no_image]");
        assertThat(e.type()).isEqualTo(ErrorType.PROVIDER_ERROR);
        assertThat(e.retryable()).isFalse();
        assertThat(e.getMessage()).contains("completed without an image");
    }

    @Test
    void bad_request_is_a_final_validation_error() {
        ProviderException e = failure(provider(), "gibberish [emulate:bad_request]");
        assertThat(e.type()).isEqualTo(ErrorType.VALIDATION_ERROR);
        assertThat(e.retryable()).isFalse();
        assertThat(e.getMessage()).contains("HTTP 422").contains("prompt: The prompt could not be understood");
    }

    @Test
    void bad_key_is_final_and_never_quotes_the_key() {
        ProviderException e = failure(provider(), "a [emulate:bad_key]");
        assertThat(e.type()).isEqualTo(ErrorType.PROVIDER_ERROR);
        assertThat(e.retryable()).isFalse();
        assertThat(e.getMessage()).contains("API key was refused").contains("401");

        String wrong = "fal-wrong-key-0000";
        ProviderException wrongKey = catchThrowableOfType(ProviderException.class, () -> provider(wrong,
                FalProvider.DEFAULT_MODEL, Duration.ofSeconds(5)).generate(request("a", AspectRatio.R1_1, OutputFormat.PNG, 1, context())));
        assertThat(wrongKey.retryable()).isFalse();
        assertThat(wrongKey.getMessage()).contains("API key was refused").doesNotContain(wrong).doesNotContain(KEY);
        assertThat(emulator.inputs()).isEmpty();
    }

    @Test
    void rate_limit_is_retryable_after_the_named_delay() {
        ProviderException e = failure(provider(), "busy [emulate:rate_limit]");
        assertThat(e.type()).isEqualTo(ErrorType.PROVIDER_UNAVAILABLE);
        assertThat(e.retryable()).isTrue();
        assertThat(e.retryAfter()).contains(Duration.ofSeconds(FalEmulator.RATE_LIMIT_RETRY_AFTER_SECONDS));
        assertThat(e.getMessage()).contains("rate limited (HTTP 429");
    }

    @Test
    void overload_is_retryable_unavailable() {
        ProviderException e = failure(provider(), "busy [emulate:overload]");
        assertThat(e.type()).isEqualTo(ErrorType.PROVIDER_UNAVAILABLE);
        assertThat(e.retryable()).isTrue();
        assertThat(e.getMessage()).contains("HTTP 503").contains("No runner could be scheduled");
    }

    @Test
    void server_error_on_the_result_is_retryable() {
        ProviderException e = failure(provider(), "oops [emulate:server_error]");
        assertThat(e.type()).isEqualTo(ErrorType.PROVIDER_ERROR);
        assertThat(e.retryable()).isTrue();
        assertThat(e.getMessage()).contains("HTTP 500 on result");
        assertThat(emulator.submits()).as("a result fetch is retried, never the submit").isEqualTo(1);
        assertThat(emulator.resultFetches()).isGreaterThan(1);
    }

    @Test
    void malformed_result_is_a_retryable_provider_error() {
        ProviderException e = failure(provider(), "oops [emulate:malformed]");
        assertThat(e.type()).isEqualTo(ErrorType.PROVIDER_ERROR);
        assertThat(e.retryable()).isTrue();
        assertThat(e.getMessage()).contains("was not valid JSON");
    }

    @Test
    void retired_or_unknown_model_is_final() {
        ProviderException retired = failure(provider(), "old [emulate:retired]");
        assertThat(retired.type()).isEqualTo(ErrorType.PROVIDER_ERROR);
        assertThat(retired.retryable()).isFalse();
        assertThat(retired.getMessage()).contains("'fal-ai/nano-banana' was not found").contains("retired");

        ProviderException unknown = failure(provider(KEY, "fal-ai/no-such-model", Duration.ofSeconds(5)), "a cat");
        assertThat(unknown.retryable()).isFalse();
        assertThat(unknown.getMessage()).contains("'fal-ai/no-such-model' was not found");
    }

    @Test
    void dropped_connection_is_retryable() {
        ProviderException e = failure(provider(), "cut [emulate:drop]");
        assertThat(e.type()).isEqualTo(ErrorType.PROVIDER_UNAVAILABLE);
        assertThat(e.retryable()).isTrue();
        assertThat(e.getMessage()).startsWith("the submit failed: ");
    }

    @Test
    void stall_times_out_retryably_and_cancels_upstream() {
        FalProvider provider = provider(KEY, FalProvider.DEFAULT_MODEL, Duration.ofMillis(800));
        RecordingContext context = context();
        ProviderException e = catchThrowableOfType(ProviderException.class,
                () -> provider.generate(request("wait [emulate:stall]", AspectRatio.R1_1, OutputFormat.PNG, 1, context)));

        assertThat(e.type()).isEqualTo(ErrorType.PROVIDER_UNAVAILABLE);
        assertThat(e.retryable()).isTrue();
        assertThat(e.getMessage()).contains("no result within 800 ms").contains("IN_QUEUE").contains("cancelled it");
        assertThat(emulator.cancels()).isEqualTo(1);
        String id = Ticket.fromJson(context.upstream().orElseThrow()).orElseThrow().requestId();
        assertThat(emulator.wasCancelled(id)).isTrue();
    }

    // ---------------------------------------------------------------- interrupts and resume

    @Test
    void interrupt_of_a_cancelled_job_cancels_upstream_and_throws_promptly() throws Exception {
        RecordingContext context = new RecordingContext(null, true, emulator::statusPolls);
        Outcome outcome = interruptAfterFirstPoll(provider(), "wait [emulate:stall]", context);

        assertThat(outcome.thrown()).isInstanceOf(InterruptedException.class);
        assertThat(outcome.stoppedWithinASecond()).isTrue();
        assertThat(emulator.cancels()).isEqualTo(1);
        String id = Ticket.fromJson(context.upstream().orElseThrow()).orElseThrow().requestId();
        assertThat(emulator.wasCancelled(id)).isTrue();
    }

    @Test
    void interrupt_for_a_shutdown_leaves_the_upstream_request_running_and_the_next_attempt_resumes_it() throws Exception {
        emulator.slowFor(Duration.ofMillis(700));
        String prompt = "a lighthouse [emulate:slow]";
        RecordingContext first = new RecordingContext(null, false, emulator::statusPolls);
        Outcome outcome = interruptAfterFirstPoll(provider(), prompt, first);

        assertThat(outcome.thrown()).isInstanceOf(InterruptedException.class);
        assertThat(outcome.stoppedWithinASecond()).isTrue();
        assertThat(emulator.cancels()).as("a shutdown must not cancel the upstream request").isZero();

        String kept = first.upstream().orElseThrow();
        String id = Ticket.fromJson(kept).orElseThrow().requestId();
        RecordingContext second = new RecordingContext(kept, true, emulator::statusPolls);
        GenerationResult result = provider().generate(request(prompt, AspectRatio.R1_1, OutputFormat.PNG, 1, second));

        assertThat(emulator.submits()).as("the resumed attempt submits nothing").isEqualTo(1);
        assertThat(second.saves).isZero();
        assertThat(second.lines).contains("INFO fal: resuming upstream request " + id);
        assertThat(result.images().get(0).bytes()).isEqualTo(EmulatorImages.render(1024, 1024, prompt, 0, OutputFormat.PNG));
    }

    @Test
    void a_resumed_request_unknown_upstream_is_submitted_anew() throws Exception {
        String base = emulator.baseUrl() + "/" + FalEmulator.APP + "/requests/gone-123";
        String kept = new Ticket("gone-123", URI.create(base + "/status"), URI.create(base), URI.create(base + "/cancel")).toJson();
        RecordingContext context = new RecordingContext(kept, true, emulator::statusPolls);

        GenerationResult result = provider().generate(request("a tree", AspectRatio.R1_1, OutputFormat.PNG, 1, context));

        assertThat(result.images()).hasSize(1);
        assertThat(emulator.submits()).isEqualTo(1);
        assertThat(context.lines).contains("INFO fal: resuming upstream request gone-123")
                .anyMatch(l -> l.contains("gone-123 is no longer known upstream; submitting anew"));
        assertThat(Ticket.fromJson(context.upstream().orElseThrow()).orElseThrow().requestId()).isNotEqualTo("gone-123");
    }

    @Test
    void a_reference_kept_by_another_provider_is_ignored() throws Exception {
        RecordingContext context = new RecordingContext("{\"provider\":\"gemini\",\"id\":\"x\"}", true, emulator::statusPolls);
        GenerationResult result = provider().generate(request("a bird", AspectRatio.R1_1, OutputFormat.PNG, 1, context));
        assertThat(result.images()).hasSize(1);
        assertThat(emulator.submits()).isEqualTo(1);
    }

    private record Outcome(Throwable thrown, boolean stoppedWithinASecond) {
    }

    /** Runs generate on a thread, interrupts it once the emulator saw a status poll, and waits for it to end. */
    private Outcome interruptAfterFirstPoll(FalProvider provider, String prompt, RecordingContext context) throws Exception {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread worker = Thread.ofVirtual().start(() -> {
            try {
                provider.generate(request(prompt, AspectRatio.R1_1, OutputFormat.PNG, 1, context));
            } catch (Throwable t) {
                thrown.set(t);
            }
        });
        assertThat(emulator.awaitStatusPolls(1, Duration.ofSeconds(10))).as("the adapter polls").isTrue();
        worker.interrupt();
        boolean stopped = worker.join(Duration.ofSeconds(1));
        worker.join(Duration.ofSeconds(10));
        return new Outcome(thrown.get(), stopped);
    }
}
