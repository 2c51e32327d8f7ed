package io.genqueue.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.json.Json;
import io.genqueue.testing.Eventually;
import io.genqueue.webhook.FalReceiver;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Webhooks end to end: a real server delivers to a real receiver (a local HTTP server) that
 * verifies the signature from the JWKS alone, as fal's receivers do. Retries run with a first
 * retry of 50 ms and three tries, so no test sleeps through a backoff.
 */
class WebhookEndToEndTest {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String PROMPT = "{\"prompt\":\"a lighthouse\"}";

    private static TestServer server(WebhookReceiver receiver, String... more) {
        Map<String, String> env = new HashMap<>(Map.of(
                "GENQUEUE_FETCH_ALLOW", receiver.hostPort(),
                "GENQUEUE_WEBHOOK_FIRST_RETRY", "50ms",
                "GENQUEUE_WEBHOOK_TRIES", "3",
                "GENQUEUE_WEBHOOK_TIMEOUT", "500ms"));
        for (int i = 0; i < more.length; i += 2) {
            env.put(more[i], more[i + 1]);
        }
        return TestServer.start(env);
    }

    private static String submitWith(TestServer server, String webhook, String body) {
        TestServer.Response r = server.submitTo("/v1/queue/nano_banana?fal_webhook=" + URLEncoder.encode(webhook,
                StandardCharsets.UTF_8), body);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json().get("request_id").asText();
    }

    private static List<WebhookReceiver.Delivery> awaitDeliveries(WebhookReceiver receiver, int count) throws Exception {
        return Eventually.value(WAIT, count + " webhook deliveries", receiver::deliveries, d -> d.size() >= count);
    }

    /** The request's log lines, once {@code line} is among them (deliveries are logged after the receiver answered). */
    private static List<String> awaitLog(TestServer server, String id, String line) throws Exception {
        return Eventually.value(WAIT, "a log line containing '" + line + "'", () -> logs(server, id),
                lines -> lines.stream().anyMatch(l -> l.contains(line)));
    }

    private static List<String> logs(TestServer server, String id) {
        JsonNode logs = server.get(TestServer.statusPath(id) + "?logs=1").json().get("logs");
        if (logs == null || logs.isNull()) {
            return List.of(); // still queued: no log yet
        }
        return StreamSupport.stream(logs.spliterator(), false).map(l -> l.get("message").asText()).toList();
    }

    private static FalReceiver verifier(TestServer server) {
        return FalReceiver.trusting(server.get("/.well-known/jwks.json").body());
    }

    private static JsonNode json(byte[] body) throws Exception {
        return Json.parse(body);
    }

    @Test
    void a_completed_request_is_delivered_signed_with_the_response_as_payload() throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.start();
                TestServer server = server(receiver)) {
            String id = submitWith(server, receiver.url("/hook?token=s3cret"), PROMPT);

            WebhookReceiver.Delivery delivery = awaitDeliveries(receiver, 1).getFirst();

            assertThat(delivery.target()).isEqualTo("/hook?token=s3cret");
            assertThat(delivery.header("Content-Type")).startsWith("application/json");
            JsonNode body = json(delivery.body());
            assertThat(body.get("request_id").asText()).isEqualTo(id);
            assertThat(body.get("gateway_request_id").asText()).isEqualTo(id);
            assertThat(body.get("status").asText()).isEqualTo("OK");
            assertThat(body.has("error")).isFalse();
            JsonNode response = server.get(TestServer.responsePath(id)).json();
            assertThat(body.get("payload").get("images").size()).isEqualTo(1);
            assertThat(body.get("payload").get("images").get(0).get("file_name"))
                    .isEqualTo(response.get("images").get(0).get("file_name"));
            assertThat(server.get(body.get("payload").get("images").get(0).get("url").asText()).status()).isEqualTo(200);

            assertThat(delivery.header("X-Fal-Webhook-Request-Id")).isEqualTo(id);
            assertThat(delivery.header("X-Fal-Webhook-User-Id")).isEqualTo("default");
            FalReceiver verifier = verifier(server);
            long now = Instant.now().getEpochSecond();
            assertThat(verifier.accepts(delivery.headers(), delivery.body(), now)).isTrue();
            byte[] changed = delivery.body().clone();
            changed[changed.length - 2] ^= 1;
            assertThat(verifier.accepts(delivery.headers(), changed, now)).isFalse();

            List<String> lines = awaitLog(server, id, "Webhook delivered to 127.0.0.1: 200 in ");
            assertThat(String.join("\n", lines)).doesNotContain("s3cret").doesNotContain("token");
        }
    }

    /**
     * A request that ends while its server stops (within the shutdown grace, after the HTTP API
     * closed) is still delivered: rendering its payload does not need the API to take requests, so
     * no try is spent on a failure of our own. A second job that outlasts the grace keeps the
     * worker, and so the deliverer, running for a while after the first one ends.
     */
    @Test
    void a_request_that_ends_while_the_server_stops_is_delivered_without_a_failed_try() throws Exception {
        ScriptedProvider provider = new ScriptedProvider();
        try (WebhookReceiver receiver = WebhookReceiver.start()) {
            Map<String, String> env = new HashMap<>(Map.of(
                    "GENQUEUE_FETCH_ALLOW", receiver.hostPort(),
                    "GENQUEUE_WEBHOOK_FIRST_RETRY", "50ms",
                    "GENQUEUE_WEBHOOK_TRIES", "3",
                    "GENQUEUE_SHUTDOWN_GRACE", "3s"));
            TestServer first = TestServer.start(env, java.time.Clock.systemUTC(), provider);
            String id = submitWith(first, receiver.url("/hook"), "{\"prompt\":\"[slow] a lighthouse\"}");
            first.submit("{\"prompt\":\"[hang] a long one\"}");
            provider.hanging.await();
            first.close(); // the API closes at once; the slow job ends within the grace, the hanging one is stopped at its end

            env.put("GENQUEUE_SHUTDOWN_GRACE", "0s");
            try (TestServer second = TestServer.restart(first, env, java.time.Clock.systemUTC(), provider)) {
                awaitDeliveries(receiver, 1);
                List<String> lines = awaitLog(second, id, "Webhook delivered to 127.0.0.1: 200 in ");
                assertThat(lines).noneMatch(l -> l.contains("could not be prepared")).noneMatch(l -> l.contains("failed"));
                assertThat(json(receiver.deliveries().getFirst().body()).get("request_id").asText()).isEqualTo(id);
            }
        }
    }

    @Test
    void a_failed_request_is_delivered_as_an_error_with_the_error_body_as_payload() throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.start();
                TestServer server = server(receiver)) {
            String id = submitWith(server, receiver.url("/hook"),
                    "{\"prompt\":\"x\",\"image_urls\":[\"http://169.254.169.254/latest/meta-data/\"]}");

            JsonNode body = json(awaitDeliveries(receiver, 1).getFirst().body());

            assertThat(body.get("request_id").asText()).isEqualTo(id);
            assertThat(body.get("status").asText()).isEqualTo("ERROR");
            assertThat(body.get("error").asText()).isEqualTo("Invalid status code: 422");
            assertThat(body.get("payload")).isEqualTo(server.get(TestServer.responsePath(id)).json());
            assertThat(body.get("payload").get("detail").get(0).get("type").asText()).isEqualTo("image_fetch_failed");
        }
    }

    @Test
    void a_cancelled_request_is_delivered_as_an_error() throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.start();
                TestServer server = server(receiver, "GENQUEUE_WORKERS", "0")) {
            String id = submitWith(server, receiver.url("/hook"), PROMPT);
            assertThat(server.put(TestServer.cancelPath(id)).status()).isEqualTo(202);

            JsonNode body = json(awaitDeliveries(receiver, 1).getFirst().body());

            assertThat(body.get("status").asText()).isEqualTo("ERROR");
            assertThat(body.get("error").asText()).isEqualTo("Invalid status code: 499");
            assertThat(body.get("payload")).isEqualTo(server.get(TestServer.responsePath(id)).json());
        }
    }

    @Test
    void a_sync_mode_request_is_delivered_with_its_images_inline() throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.start();
                TestServer server = server(receiver)) {
            submitWith(server, receiver.url("/hook"), "{\"prompt\":\"inline\",\"sync_mode\":true}");

            JsonNode body = json(awaitDeliveries(receiver, 1).getFirst().body());

            assertThat(body.get("payload").get("images").get(0).get("url").asText()).startsWith("data:image/png;base64,");
        }
    }

    @Test
    void a_receiver_that_answers_500_twice_gets_the_third_try_with_the_same_request_id() throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.start(500, 500);
                TestServer server = server(receiver)) {
            String id = submitWith(server, receiver.url("/hook"), PROMPT);

            List<WebhookReceiver.Delivery> deliveries = awaitDeliveries(receiver, 3);

            assertThat(deliveries).extracting(d -> d.header("X-Fal-Webhook-Request-Id")).containsOnly(id);
            List<String> lines = awaitLog(server, id, "Webhook delivered to");
            assertThat(lines).anyMatch(l -> l.startsWith("Webhook to 127.0.0.1 failed: 500; try 2 of 3 in "))
                    .anyMatch(l -> l.startsWith("Webhook to 127.0.0.1 failed: 500; try 3 of 3 in "));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {503, 404, WebhookReceiver.REDIRECT, WebhookReceiver.STALL})
    void a_receiver_that_keeps_failing_is_tried_three_times_then_given_up(int answer) throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.start(answer, answer, answer, answer);
                TestServer server = server(receiver)) {
            String id = submitWith(server, receiver.url("/hook"), PROMPT);

            List<String> lines = awaitLog(server, id, "given up after 3 tries");

            assertThat(receiver.deliveries()).hasSize(3).extracting(WebhookReceiver.Delivery::target).containsOnly("/hook");
            String reason = switch (answer) {
                case WebhookReceiver.REDIRECT -> "302";
                case WebhookReceiver.STALL -> "timed out";
                default -> String.valueOf(answer);
            };
            assertThat(lines).filteredOn(l -> l.startsWith("Webhook to 127.0.0.1 failed: "))
                    .hasSize(2).allMatch(l -> l.contains(reason));
        }
    }

    @Test
    void a_receiver_that_is_down_gets_the_delivery_when_it_comes_back() throws Exception {
        WebhookReceiver gone = WebhookReceiver.start();
        String hostPort = gone.hostPort();
        gone.close();
        int port = Integer.parseInt(hostPort.substring(hostPort.indexOf(':') + 1));
        try (TestServer server = TestServer.start(Map.of("GENQUEUE_FETCH_ALLOW", hostPort, "GENQUEUE_WEBHOOK_FIRST_RETRY", "300ms",
                "GENQUEUE_WEBHOOK_TRIES", "10", "GENQUEUE_WEBHOOK_TIMEOUT", "500ms"))) {
            String id = submitWith(server, "http://" + hostPort + "/hook", PROMPT);
            awaitLog(server, id, "Webhook to 127.0.0.1 failed: connection refused");

            try (WebhookReceiver back = WebhookReceiver.onPort(port)) {
                awaitDeliveries(back, 1);
                awaitLog(server, id, "Webhook delivered to 127.0.0.1: 200");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"ftp://example.com/hook", "not a url", "http://127.0.0.1:1/hook", "http://10.0.0.7/hook",
        "http://169.254.169.254/latest", "http://[::1]/hook", "http://[fd00::1]/hook", "http://[::ffff:127.0.0.1]/hook",
        "http://user:pw@example.com/hook", ""})
    void a_webhook_url_that_cannot_be_used_is_refused_at_submit(String url) throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.start();
                TestServer server = server(receiver)) {
            TestServer.Response r = server.submitTo("/v1/queue/nano_banana?fal_webhook=" + URLEncoder.encode(url,
                    StandardCharsets.UTF_8), PROMPT);

            assertThat(r.status()).as(r.body()).isEqualTo(422);
            assertThat(r.json().get("detail").get(0).get("loc").toString()).isEqualTo("[\"query\",\"fal_webhook\"]");
        }
    }

    @Test
    void a_name_that_resolves_to_a_refused_address_is_refused_at_each_delivery() throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.start();
                TestServer server = server(receiver)) {
            // a name passes the submit's check; it resolves to 127.0.0.1, allowed only on the receiver's port
            String id = submitWith(server, "http://localhost:1/hook", PROMPT);

            List<String> lines = awaitLog(server, id, "given up after 3 tries");

            assertThat(lines).filteredOn(l -> l.startsWith("Webhook to localhost failed: ")).hasSize(2)
                    .allMatch(l -> l.contains("non-public address"));
            assertThat(receiver.deliveries()).isEmpty();
        }
    }
}
