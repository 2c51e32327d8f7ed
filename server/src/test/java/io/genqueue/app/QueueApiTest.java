package io.genqueue.app;

import static io.genqueue.app.TestServer.cancelPath;
import static io.genqueue.app.TestServer.responsePath;
import static io.genqueue.app.TestServer.statusPath;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The contract's tables, row by row, against the real server over HTTP: submit, status in every
 * state, the response in every outcome, cancel in every state, the fal alias, headers and URLs.
 */
class QueueApiTest {

    static ScriptedProvider provider = new ScriptedProvider();
    static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(Map.of("GENQUEUE_MAX_ATTEMPTS", "2", "GENQUEUE_RETRY_BASE", "10ms", "GENQUEUE_RETRY_MAX", "20ms"),
                Clock.systemUTC(), provider);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void submit_answers_with_the_id_urls_position_and_headers() {
        TestServer.Response r = server.submit("{\"prompt\":\"a red apple\"}");
        assertThat(r.status()).isEqualTo(200);
        JsonNode body = r.json();
        String id = body.get("request_id").asText();
        assertThat(id).matches("req_[0-9a-hjkmnp-tv-z]{26}");
        assertThat(body.get("status").asText()).isEqualTo("IN_QUEUE");
        assertThat(body.get("queue_position").isIntegralNumber()).isTrue();
        String base = r.base(); // the node that answered
        assertThat(body.get("response_url").asText()).isEqualTo(base + responsePath(id));
        assertThat(body.get("status_url").asText()).isEqualTo(base + statusPath(id));
        assertThat(body.get("cancel_url").asText()).isEqualTo(base + cancelPath(id));
        assertThat(r.header("X-Request-Id")).isEqualTo(id);
        assertThat(r.header("x-fal-request-id")).isEqualTo(id);
        assertThat(r.header("Content-Type")).startsWith("application/json");
    }

    @Test
    void urls_follow_the_forwarded_headers_of_a_proxy() {
        TestServer.Response r = server.submit("{\"prompt\":\"x\"}",
                "X-Forwarded-Proto", "https", "X-Forwarded-Host", "gen.example.com", "X-Forwarded-Prefix", "/api");
        String id = r.json().get("request_id").asText();
        assertThat(r.json().get("status_url").asText()).isEqualTo("https://gen.example.com/api" + statusPath(id));

        TestServer.Response injected = server.submit("{\"prompt\":\"x\"}", "X-Forwarded-Host", "evil.example.com/\"><script>");
        assertThat(injected.json().get("status_url").asText()).startsWith(injected.base() + "/v1/queue/");
    }

    @Test
    void a_completed_request_answers_status_200_with_logs_metrics_and_the_images() throws Exception {
        String id = server.submitOk("{\"prompt\":\"a cat\",\"aspect_ratio\":\"16:9\",\"num_images\":2}");
        JsonNode status = server.awaitCompleted(id);
        TestServer.Response plain = server.get(statusPath(id));
        assertThat(plain.status()).isEqualTo(200);
        assertThat(plain.json().has("logs")).isTrue();
        assertThat(plain.json().get("logs").isNull()).isTrue();
        assertThat(plain.json().has("queue_position")).isFalse();
        assertThat(status.get("logs").isArray()).isTrue();
        JsonNode line = status.get("logs").get(0);
        assertThat(line.get("source").asText()).isEqualTo("USER");
        assertThat(line.get("level").asText()).isIn("INFO", "WARN", "ERROR", "DEBUG");
        assertThat(line.get("timestamp").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
        assertThat(status.get("metrics").get("inference_time").isNumber()).isTrue();
        assertThat(status.has("error")).isFalse();

        TestServer.Response result = server.get(responsePath(id));
        assertThat(result.status()).isEqualTo(200);
        JsonNode images = result.json().get("images");
        assertThat(images).hasSize(2);
        assertThat(result.json().get("description").asText()).contains("preview");
        for (JsonNode image : images) {
            assertThat(image.get("content_type").asText()).isEqualTo("image/png");
            assertThat(image.get("width").asInt()).isEqualTo(1344);
            assertThat(image.get("height").asInt()).isEqualTo(768);
            assertThat(image.get("file_name").asText()).endsWith(".png");
            HttpResponse<byte[]> file = server.client.send(HttpRequest.newBuilder(URI.create(image.get("url").asText())).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(file.statusCode()).isEqualTo(200);
            assertThat(file.headers().firstValue("Content-Type")).contains("image/png");
            assertThat((long) file.body().length).isEqualTo(image.get("file_size").asLong());
            BufferedImage decoded = ImageIO.read(new ByteArrayInputStream(file.body()));
            assertThat(decoded.getWidth()).isEqualTo(1344);
            assertThat(decoded.getHeight()).isEqualTo(768);
        }
        // fal's clients fetch the result without /response
        TestServer.Response alias = server.get("/v1/queue/nano_banana/requests/" + id);
        assertThat(alias.status()).isEqualTo(200);
        assertThat(alias.json().get("images")).hasSize(2);
    }

    @Test
    void image_only_modality_gives_an_empty_description_and_formats_are_honoured() {
        String id = server.submitOk("{\"prompt\":\"x\",\"response_modalities\":[\"Image\"],\"output_format\":\"jpeg\","
                + "\"resolution\":\"768x1344\"}");
        server.awaitCompleted(id);
        JsonNode result = server.get(responsePath(id)).json();
        assertThat(result.get("description").asText()).isEmpty();
        JsonNode image = result.get("images").get(0);
        assertThat(image.get("content_type").asText()).isEqualTo("image/jpeg");
        assertThat(image.get("width").asInt()).isEqualTo(768);
        assertThat(image.get("height").asInt()).isEqualTo(1344);
    }

    @Test
    void sync_mode_puts_the_images_inline_as_data_uris() throws Exception {
        String id = server.submitOk("{\"prompt\":\"x\",\"sync_mode\":true}");
        server.awaitCompleted(id);
        JsonNode image = server.get(responsePath(id)).json().get("images").get(0);
        String url = image.get("url").asText();
        assertThat(url).startsWith("data:image/png;base64,");
        byte[] bytes = Base64.getDecoder().decode(url.substring(url.indexOf(',') + 1));
        assertThat((long) bytes.length).isEqualTo(image.get("file_size").asLong());
        assertThat(ImageIO.read(new ByteArrayInputStream(bytes)).getWidth()).isEqualTo(1024);
    }

    @Test
    void a_reference_image_decides_the_shape_when_no_ratio_is_given() throws Exception {
        BufferedImage tall = new BufferedImage(90, 160, BufferedImage.TYPE_INT_RGB);
        java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
        ImageIO.write(tall, "png", png);
        String uri = "data:image/png;base64," + Base64.getEncoder().encodeToString(png.toByteArray());
        String id = server.submitOk("{\"prompt\":\"x\",\"image_urls\":[\"" + uri + "\"]}");
        server.awaitCompleted(id);
        JsonNode image = server.get(responsePath(id)).json().get("images").get(0);
        assertThat(image.get("width").asInt()).isEqualTo(768);
        assertThat(image.get("height").asInt()).isEqualTo(1344);
    }

    @Test
    void the_response_of_an_unfinished_request_is_400_and_its_status_202() throws Exception {
        String id = server.submitOk("{\"prompt\":\"[hang] wait\"}");
        JsonNode running = server.awaitStatus(id, s -> s.get("status").asText().equals("IN_PROGRESS"), Duration.ofSeconds(10));
        assertThat(running.has("queue_position")).isFalse();
        assertThat(running.get("logs").isArray()).isTrue();
        TestServer.Response status = server.get(statusPath(id));
        assertThat(status.status()).isEqualTo(202);
        assertThat(status.json().has("logs")).isTrue();
        TestServer.Response response = server.get(responsePath(id));
        assertThat(response.status()).isEqualTo(400);
        assertThat(response.json().get("detail").asText()).isEqualTo("Request is still in progress");

        TestServer.Response cancel = server.put(cancelPath(id));
        assertThat(cancel.status()).isEqualTo(202);
        assertThat(cancel.json().get("status").asText()).isEqualTo("CANCELLATION_REQUESTED");
        JsonNode done = server.awaitCompleted(id);
        assertThat(done.get("error_type").asText()).isEqualTo("cancelled");
        TestServer.Response cancelled = server.get(responsePath(id));
        assertThat(cancelled.status()).isEqualTo(499);
        assertThat(cancelled.json().get("detail").asText()).isEqualTo("Request cancelled by the client.");
        TestServer.Response again = server.put(cancelPath(id));
        assertThat(again.status()).isEqualTo(400);
        assertThat(again.json().get("status").asText()).isEqualTo("ALREADY_COMPLETED");
    }

    @Test
    void a_content_policy_block_is_a_422_detail() {
        String id = server.submitOk("{\"prompt\":\"[content] something\"}");
        JsonNode status = server.awaitCompleted(id);
        assertThat(status.get("error_type").asText()).isEqualTo("content_policy_violation");
        assertThat(status.get("error").asText()).contains("blocked");
        TestServer.Response r = server.get(responsePath(id));
        assertThat(r.status()).isEqualTo(422);
        JsonNode detail = r.json().get("detail").get(0);
        assertThat(detail.get("type").asText()).isEqualTo("content_policy_violation");
        assertThat(detail.get("loc").get(0).asText()).isEqualTo("body");
        assertThat(detail.get("msg").asText()).contains("blocked");
        assertThat(provider.callsFor(id)).isEqualTo(1);
    }

    @Test
    void a_final_upstream_error_is_502_with_its_error_type() {
        String id = server.submitOk("{\"prompt\":\"[error] x\"}");
        server.awaitCompleted(id);
        TestServer.Response r = server.get(responsePath(id));
        assertThat(r.status()).isEqualTo(502);
        assertThat(r.json().get("error_type").asText()).isEqualTo("provider_error");
        assertThat(r.header("X-Fal-Error-Type")).isEqualTo("provider_error");
        assertThat(provider.callsFor(id)).isEqualTo(1);
    }

    @Test
    void a_retryable_failure_is_retried_then_ends_503_after_the_last_attempt() {
        String id = server.submitOk("{\"prompt\":\"[overloaded] x\"}");
        JsonNode status = server.awaitCompleted(id);
        assertThat(status.get("error_type").asText()).isEqualTo("provider_unavailable");
        assertThat(status.get("logs").toString()).contains("retrying in");
        TestServer.Response r = server.get(responsePath(id));
        assertThat(r.status()).isEqualTo(503);
        assertThat(r.header("X-Fal-Error-Type")).isEqualTo("provider_unavailable");
        assertThat(provider.callsFor(id)).isEqualTo(2);
    }

    @Test
    void a_transient_failure_is_retried_and_then_succeeds() {
        String id = server.submitOk("{\"prompt\":\"[flaky] x\"}");
        JsonNode status = server.awaitCompleted(id);
        assertThat(status.has("error")).isFalse();
        assertThat(server.get(responsePath(id)).status()).isEqualTo(200);
        assertThat(provider.callsFor(id)).isEqualTo(2);
    }

    @Test
    void an_unexpected_failure_is_500_without_internals() {
        String id = server.submitOk("{\"prompt\":\"[bug] x\"}");
        JsonNode status = server.awaitCompleted(id);
        assertThat(status.get("error_type").asText()).isEqualTo("internal_error");
        TestServer.Response r = server.get(responsePath(id));
        assertThat(r.status()).isEqualTo(500);
        assertThat(r.body()).doesNotContain("sk-do-not-leak").doesNotContain("IllegalStateException").doesNotContain("at io.");
    }

    @Test
    void a_start_timeout_fails_a_request_that_did_not_start_in_time() {
        // Occupy every worker slot, then submit with a short start timeout.
        java.util.List<String> blockers = new java.util.ArrayList<>();
        for (int i = 0; i < server.slots(); i++) {
            blockers.add(server.submitOk("{\"prompt\":\"[hang] blocker " + i + "\"}"));
        }
        try {
            TestServer.Response r = server.submit("{\"prompt\":\"late\"}", "X-Fal-Request-Start-Timeout", "0.3");
            String id = r.json().get("request_id").asText();
            JsonNode status = server.awaitCompleted(id);
            assertThat(status.get("error_type").asText()).isEqualTo("request_timeout");
            assertThat(status.get("metrics").get("inference_time").isNull()).isTrue();
            TestServer.Response result = server.get(responsePath(id));
            assertThat(result.status()).isEqualTo(504);
            assertThat(result.header("X-Fal-Request-Timeout-Type")).isEqualTo("user");
            assertThat(result.json().get("error_type").asText()).isEqualTo("request_timeout");
        } finally {
            blockers.forEach(id -> server.put(cancelPath(id)));
        }
    }

    @Test
    void cancelling_a_queued_request_ends_it_at_once_without_running() {
        java.util.List<String> blockers = new java.util.ArrayList<>();
        for (int i = 0; i < server.slots(); i++) {
            blockers.add(server.submitOk("{\"prompt\":\"[hang] blocker " + i + "\"}"));
        }
        try {
            for (String b : blockers) {
                server.awaitStatus(b, s -> s.get("status").asText().equals("IN_PROGRESS"), Duration.ofSeconds(10));
            }
            String id = server.submitOk("{\"prompt\":\"queued, then cancelled\"}");
            JsonNode queued = server.get(statusPath(id)).json();
            assertThat(queued.get("status").asText()).isEqualTo("IN_QUEUE");
            assertThat(queued.has("logs")).isFalse();

            TestServer.Response cancel = server.put(cancelPath(id));
            assertThat(cancel.status()).isEqualTo(202);
            assertThat(cancel.json().get("status").asText()).isEqualTo("CANCELLATION_REQUESTED");
            // It left the queue in the same step: COMPLETED now, never run.
            TestServer.Response status = server.get(statusPath(id));
            assertThat(status.status()).isEqualTo(200);
            assertThat(status.json().get("status").asText()).isEqualTo("COMPLETED");
            assertThat(status.json().get("error_type").asText()).isEqualTo("cancelled");
            assertThat(status.json().get("metrics").get("inference_time").isNull()).isTrue();
            assertThat(server.get(responsePath(id)).status()).isEqualTo(499);
            assertThat(provider.callsFor(id)).isZero();
        } finally {
            blockers.forEach(b -> server.put(cancelPath(b)));
        }
    }

    @Test
    void cancelling_a_running_request_interrupts_its_provider_call_and_ends_499() {
        String id = server.submitOk("{\"prompt\":\"[hang] running, then cancelled\"}");
        server.awaitStatus(id, s -> s.get("status").asText().equals("IN_PROGRESS"), Duration.ofSeconds(10));
        long sent = System.nanoTime();
        TestServer.Response cancel = server.put(cancelPath(id)); // on a cluster: very likely another node than the worker's
        assertThat(cancel.status()).isEqualTo(202);
        JsonNode status = server.awaitCompleted(id);
        System.out.printf("[%s] a running job's cancel took %.1f ms to end it%n", getClass().getSimpleName(),
                (System.nanoTime() - sent) / 1e6);
        assertThat(status.get("error_type").asText()).isEqualTo("cancelled");
        assertThat(provider.interrupted).as("the provider call was interrupted").contains(id);
        assertThat(server.get(responsePath(id)).status()).isEqualTo(499);
        assertThat(provider.callsFor(id)).isEqualTo(1);
    }

    @Test
    void unknown_ids_models_and_paths_are_404s_in_the_contract_shapes() {
        String unknown = "req_01jdx8c2m1w4n6q8s0t2v4x6z8";
        TestServer.Response status = server.get(statusPath(unknown));
        assertThat(status.status()).isEqualTo(404);
        assertThat(status.json().get("detail").asText()).isEqualTo("Request not found");
        assertThat(server.get(responsePath(unknown)).status()).isEqualTo(404);
        TestServer.Response cancel = server.put(cancelPath(unknown));
        assertThat(cancel.status()).isEqualTo(404);
        assertThat(cancel.json().get("status").asText()).isEqualTo("NOT_FOUND");
        assertThat(server.get(statusPath("not-an-id")).status()).isEqualTo(404);

        TestServer.Response model = server.submitTo("/v1/queue/flux", "{\"prompt\":\"x\"}");
        assertThat(model.status()).isEqualTo(404);
        assertThat(model.json().get("detail").asText()).isEqualTo("Unknown model: flux");

        String id = server.submitOk("{\"prompt\":\"x\"}");
        assertThat(server.get("/v1/queue/flux/requests/" + id + "/status").status()).isEqualTo(404);

        TestServer.Response nowhere = server.get("/v2/nothing");
        assertThat(nowhere.status()).isEqualTo(404);
        assertThat(nowhere.json().get("detail").asText()).isEqualTo("Not found");
        TestServer.Response method = server.send(server.request(statusPath(id)).DELETE().build());
        assertThat(method.status()).isEqualTo(405);
        assertThat(method.header("Allow")).isEqualTo("GET");
    }

    @Test
    void the_models_route_lists_each_model_with_its_providers_and_their_health() {
        TestServer.Response r = server.get("/v1/models");
        assertThat(r.status()).isEqualTo(200);
        JsonNode model = r.json().get("models").get(0);
        assertThat(model.get("id").asText()).isEqualTo("nano_banana");
        assertThat(model.get("healthy").asBoolean()).isTrue();
        JsonNode provider = model.get("providers").get(0);
        assertThat(provider.get("name").asText()).isEqualTo("scripted");
        assertThat(provider.get("healthy").asBoolean()).isTrue();
        assertThat(provider.get("circuit").asText()).isEqualTo("closed");
    }

    @Test
    void health_and_readiness_answer() {
        assertThat(server.get("/healthz").status()).isEqualTo(200);
        TestServer.Response ready = server.get("/readyz");
        assertThat(ready.status()).isEqualTo(200);
        assertThat(ready.json().get("checks").get("store").asText()).isEqualTo("ok");
    }
}
