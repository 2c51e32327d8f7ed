package io.genqueue.emulator.fal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.emulator.EmulatorImages;
import io.genqueue.image.ImageInfo;
import io.genqueue.image.ImageProbe;
import io.genqueue.image.OutputFormat;
import io.genqueue.json.Json;
import io.genqueue.testing.Eventually;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Base64;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The emulator speaks fal's queue protocol and is as strict as fal, checked with a plain HTTP client. */
class FalEmulatorTest {

    private static final String KEY = "emulator-test-key";
    private static final String SMALL_PNG = "data:image/png;base64,"
            + Base64.getEncoder().encodeToString(EmulatorImages.render(30, 20, "ref", 0, OutputFormat.PNG));

    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private FalEmulator emulator;

    @BeforeEach
    void start() {
        emulator = FalEmulator.start("127.0.0.1", 0, KEY).timing(Duration.ofMillis(30), Duration.ofMillis(30));
    }

    @AfterEach
    void stop() {
        emulator.close();
    }

    private record Answer(int status, byte[] body, HttpResponse<byte[]> raw) {
        JsonNode json() {
            try {
                return Json.parse(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON (" + status + "): " + new String(body), e);
            }
        }
    }

    private Answer send(HttpRequest.Builder request) {
        try {
            HttpResponse<byte[]> r = client.send(request.timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            return new Answer(r.statusCode(), r.body(), r);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private HttpRequest.Builder keyed(String url) {
        return HttpRequest.newBuilder(URI.create(url.startsWith("http") ? url : emulator.baseUrl() + url))
                .header("Authorization", "Key " + KEY);
    }

    private Answer submit(String path, String json, String... headers) {
        HttpRequest.Builder b = keyed(path).header("Content-Type", "application/json");
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return send(b.POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    private JsonNode awaitStatus(String statusUrl, Predicate<JsonNode> until) {
        return Eventually.value(Duration.ofSeconds(10), statusUrl + " in the expected state",
                () -> send(keyed(statusUrl).GET()).json(), until);
    }

    @Test
    void a_request_goes_through_the_queue_and_its_images_are_served() throws Exception {
        Answer submitted = submit("/fal-ai/nano-banana/edit",
                "{\"prompt\":\"a boat\",\"image_urls\":[\"" + SMALL_PNG + "\"],\"aspect_ratio\":\"21:9\",\"num_images\":2,"
                        + "\"output_format\":\"jpeg\"}");
        assertThat(submitted.status()).isEqualTo(200);
        JsonNode ticket = submitted.json();
        String id = ticket.get("request_id").asText();
        String requests = emulator.baseUrl() + "/fal-ai/nano-banana/requests/" + id;
        assertThat(ticket.get("status").asText()).isEqualTo("IN_QUEUE");
        assertThat(ticket.get("queue_position").asInt()).isZero();
        assertThat(ticket.get("status_url").asText()).as("the app id without /edit").isEqualTo(requests + "/status");
        assertThat(ticket.get("response_url").asText()).isEqualTo(requests);
        assertThat(ticket.get("cancel_url").asText()).isEqualTo(requests + "/cancel");
        assertThat(submitted.raw().headers().firstValue("x-fal-request-id")).contains(id);

        JsonNode done = awaitStatus(requests + "/status", s -> s.get("status").asText().equals("COMPLETED"));
        assertThat(done.has("logs")).isTrue();
        assertThat(done.get("metrics").has("inference_time")).isTrue();
        assertThat(done.has("error")).isFalse();
        assertThat(send(keyed(requests + "/status").GET()).status()).isEqualTo(200);

        Answer result = send(keyed(requests).GET());
        assertThat(result.status()).isEqualTo(200);
        JsonNode images = result.json().get("images");
        assertThat(images).hasSize(2);
        assertThat(result.json().get("description").asText()).isEqualTo("Here is the emulated image for: a boat");
        for (int i = 0; i < 2; i++) {
            JsonNode image = images.get(i);
            assertThat(image.get("content_type").asText()).isEqualTo("image/jpeg");
            assertThat(image.get("width").asInt()).isEqualTo(1536);
            assertThat(image.get("height").asInt()).isEqualTo(672);
            Answer file = send(HttpRequest.newBuilder(URI.create(image.get("url").asText())).GET()); // no key, like fal's CDN
            assertThat(file.status()).isEqualTo(200);
            assertThat(file.raw().headers().firstValue("content-type")).contains("image/jpeg");
            ImageInfo info = ImageProbe.probe(file.body(), 1 << 24);
            assertThat(info.width()).isEqualTo(1536);
            assertThat(info.height()).isEqualTo(672);
            assertThat(image.get("file_size").asInt()).isEqualTo(file.body().length);
        }
    }

    @Test
    void status_is_accepted_while_running_and_the_result_is_not_ready_yet() {
        JsonNode ticket = submit("/fal-ai/nano-banana", "{\"prompt\":\"x\"}", "X-Emulator-Scenario", "stall").json();
        Answer status = send(keyed(ticket.get("status_url").asText()).GET());
        assertThat(status.status()).isEqualTo(202);
        assertThat(status.json().get("status").asText()).isEqualTo("IN_QUEUE");
        assertThat(status.json().has("queue_position")).isTrue();

        Answer result = send(keyed(ticket.get("response_url").asText()).GET());
        assertThat(result.status()).isEqualTo(400);
        assertThat(result.json().get("detail").asText()).isEqualTo("Request is still in progress");
    }

    @Test
    void cancel_while_queued_ends_the_request_and_cancel_afterwards_is_refused() throws Exception {
        JsonNode ticket = submit("/fal-ai/nano-banana", "{\"prompt\":\"wait [emulate:stall]\"}").json();

        Answer cancel = send(keyed(ticket.get("cancel_url").asText()).PUT(HttpRequest.BodyPublishers.noBody()));
        assertThat(cancel.status()).isEqualTo(202);
        assertThat(cancel.json().get("status").asText()).isEqualTo("CANCELLATION_REQUESTED");
        assertThat(emulator.wasCancelled(ticket.get("request_id").asText())).isTrue();
        assertThat(emulator.cancels()).isEqualTo(1);

        JsonNode status = awaitStatus(ticket.get("status_url").asText(), s -> s.get("status").asText().equals("COMPLETED"));
        assertThat(status.get("error").asText()).contains("cancelled");
        Answer result = send(keyed(ticket.get("response_url").asText()).GET());
        assertThat(result.status()).isEqualTo(499);

        Answer again = send(keyed(ticket.get("cancel_url").asText()).PUT(HttpRequest.BodyPublishers.noBody()));
        assertThat(again.status()).isEqualTo(400);
        assertThat(again.json().get("status").asText()).isEqualTo("ALREADY_COMPLETED");

        Answer unknown = send(keyed("/fal-ai/nano-banana/requests/nope/cancel").PUT(HttpRequest.BodyPublishers.noBody()));
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.json().get("status").asText()).isEqualTo("NOT_FOUND");
    }

    @Test
    void a_missing_or_wrong_key_is_unauthorized() {
        Answer missing = send(HttpRequest.newBuilder(URI.create(emulator.baseUrl() + "/fal-ai/nano-banana"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"x\"}")));
        assertThat(missing.status()).isEqualTo(401);
        assertThat(missing.json().get("detail").asText()).isEqualTo("Unauthorized");

        Answer wrong = send(HttpRequest.newBuilder(URI.create(emulator.baseUrl() + "/fal-ai/nano-banana"))
                .header("Authorization", "Key other").POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"x\"}")));
        assertThat(wrong.status()).isEqualTo(401);

        Answer bearer = send(HttpRequest.newBuilder(URI.create(emulator.baseUrl() + "/fal-ai/nano-banana"))
                .header("Authorization", "Bearer " + KEY).POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"x\"}")));
        assertThat(bearer.status()).as("fal's scheme is Key").isEqualTo(401);
        assertThat(emulator.inputs()).isEmpty();
    }

    @Test
    void an_unknown_app_is_not_found() {
        Answer answer = submit("/fal-ai/flux/dev", "{\"prompt\":\"x\"}");
        assertThat(answer.status()).isEqualTo(404);
        assertThat(answer.json().get("detail").asText()).contains("fal-ai/flux/dev");
        assertThat(send(keyed("/fal-ai/nano-banana/requests/unknown/status").GET()).status()).isEqualTo(404);
    }

    @Test
    void input_outside_the_schema_is_refused_with_a_detail_list() {
        assertViolation(submit("/fal-ai/nano-banana", "{\"prompt\":\"x\",\"seed\":3}"), "seed", "extra_forbidden");
        assertViolation(submit("/fal-ai/nano-banana", "{\"prompt\":\"x\",\"image_urls\":[\"" + SMALL_PNG + "\"]}"),
                "image_urls", "extra_forbidden");
        assertViolation(submit("/fal-ai/nano-banana", "{\"prompt\":\"x\",\"aspect_ratio\":\"7:3\"}"), "aspect_ratio", "enum");
        assertViolation(submit("/fal-ai/nano-banana", "{\"prompt\":\"x\",\"output_format\":\"gif\"}"), "output_format", "enum");
        assertViolation(submit("/fal-ai/nano-banana", "{\"prompt\":\"x\",\"num_images\":5}"), "num_images", "int_range");
        assertViolation(submit("/fal-ai/nano-banana", "{\"num_images\":1}"), "prompt", "missing");
        assertViolation(submit("/fal-ai/nano-banana/edit", "{\"prompt\":\"x\"}"), "image_urls", "missing");
        String four = "[\"" + SMALL_PNG + "\",\"" + SMALL_PNG + "\",\"" + SMALL_PNG + "\",\"" + SMALL_PNG + "\"]";
        assertViolation(submit("/fal-ai/nano-banana/edit", "{\"prompt\":\"x\",\"image_urls\":" + four + "}"),
                "image_urls", "too_long");
        Answer notJson = submit("/fal-ai/nano-banana", "{\"prompt\":");
        assertThat(notJson.status()).isEqualTo(422);
        assertThat(emulator.inputs()).isEmpty();
    }

    private static void assertViolation(Answer answer, String field, String type) {
        assertThat(answer.status()).as(field).isEqualTo(422);
        JsonNode detail = answer.json().get("detail");
        assertThat(detail.isArray()).isTrue();
        assertThat(detail).anySatisfy(entry -> {
            assertThat(entry.get("loc").get(0).asText()).isEqualTo("body");
            assertThat(entry.get("loc").get(1).asText()).isEqualTo(field);
            assertThat(entry.get("type").asText()).isEqualTo(type);
            assertThat(entry.get("msg").asText()).isNotBlank();
        });
    }

    @Test
    void scenarios_answer_as_fal_does() throws Exception {
        Answer rateLimited = submit("/fal-ai/nano-banana", "{\"prompt\":\"x [emulate:rate_limit]\"}");
        assertThat(rateLimited.status()).isEqualTo(429);
        assertThat(rateLimited.raw().headers().firstValue("retry-after")).contains("7");

        Answer badKey = submit("/fal-ai/nano-banana", "{\"prompt\":\"x\"}", "X-Emulator-Scenario", "bad_key");
        assertThat(badKey.status()).isEqualTo(401);

        Answer unknown = submit("/fal-ai/nano-banana", "{\"prompt\":\"x [emulate:typo]\"}");
        assertThat(unknown.status()).isEqualTo(400);
        assertThat(unknown.json().get("detail").asText()).contains("typo").contains("stall");

        assertThatThrownBy(() -> submit("/fal-ai/nano-banana", "{\"prompt\":\"x [emulate:drop]\"}"))
                .hasCauseInstanceOf(IOException.class);

        JsonNode blocked = submit("/fal-ai/nano-banana", "{\"prompt\":\"x [emulate:blocked]\"}").json();
        JsonNode status = awaitStatus(blocked.get("status_url").asText(), s -> s.get("status").asText().equals("COMPLETED"));
        assertThat(status.get("error").asText()).isNotBlank();
        Answer result = send(keyed(blocked.get("response_url").asText()).GET());
        assertThat(result.status()).isEqualTo(422);
        assertThat(result.json().get("detail").get(0).get("type").asText()).isEqualTo("content_policy_violation");

        JsonNode none = submit("/fal-ai/nano-banana", "{\"prompt\":\"x [emulate:no_image]\"}").json();
        awaitStatus(none.get("status_url").asText(), s -> s.get("status").asText().equals("COMPLETED"));
        assertThat(send(keyed(none.get("response_url").asText()).GET()).json().get("images")).isEmpty();
    }

    @Test
    void sync_mode_returns_the_images_inline() throws Exception {
        JsonNode ticket = submit("/fal-ai/nano-banana", "{\"prompt\":\"inline\",\"sync_mode\":true,\"aspect_ratio\":\"2:3\"}").json();
        awaitStatus(ticket.get("status_url").asText(), s -> s.get("status").asText().equals("COMPLETED"));
        String url = send(keyed(ticket.get("response_url").asText()).GET()).json().get("images").get(0).get("url").asText();
        assertThat(url).startsWith("data:image/png;base64,");
        byte[] bytes = Base64.getDecoder().decode(url.substring(url.indexOf(',') + 1));
        assertThat(bytes).isEqualTo(EmulatorImages.render(832, 1248, "inline", 0, OutputFormat.PNG));
    }
}
