package io.genqueue.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.genqueue.store.postgres.TestSchemas;
import io.genqueue.testing.Eventually;
import io.genqueue.testing.SettableClock;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code GET /metrics} on the real server over HTTP: the Prometheus text parsed and checked to move
 * by exactly what a known workload did, route templates as labels, the access modes and the port of
 * its own, and no secret in the text.
 */
class MetricsEndToEndTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    static PrometheusText scrape(TestServer server) {
        TestServer.Response r = server.get("/metrics");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.header("Content-Type")).startsWith("text/plain; version=0.0.4");
        return PrometheusText.parse(r.body());
    }

    private static HttpRequest withoutKey(String url) {
        return HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build();
    }

    @Test
    void a_known_workload_moves_the_request_provider_run_and_webhook_meters_by_exactly_its_amounts() throws Exception {
        ScriptedProvider provider = new ScriptedProvider();
        try (WebhookReceiver receiver = WebhookReceiver.start(500);
                TestServer server = TestServer.start(Map.of("GENQUEUE_FETCH_ALLOW", receiver.hostPort(),
                        "GENQUEUE_WEBHOOK_FIRST_RETRY", "50ms", "GENQUEUE_WEBHOOK_TIMEOUT", "500ms"), Clock.systemUTC(), provider)) {
            PrometheusText before = scrape(server);
            assertThat(before.value("genqueue_requests_submitted_total", "model", "nano_banana")).isZero();
            assertThat(before.names()).contains("genqueue_requests_completed_total", "genqueue_provider_calls_total");

            // 3 succeed (one with a webhook that fails once), 1 fails by content policy, 1 is cancelled while running
            String hooked = server.submitTo("/v1/queue/nano_banana?fal_webhook=" + URLEncoder.encode(receiver.url("/hook"),
                    StandardCharsets.UTF_8), "{\"prompt\":\"[fast] one\"}").json().get("request_id").asText();
            String two = server.submitOk("{\"prompt\":\"[fast] two\"}");
            String three = server.submitOk("{\"prompt\":\"[fast] three\"}");
            String blocked = server.submitOk("{\"prompt\":\"[content] four\"}");
            String hanging = server.submitOk("{\"prompt\":\"[hang] five\"}");
            assertThat(provider.hanging.await(30, TimeUnit.SECONDS)).as("the [hang] job is running").isTrue();
            assertThat(server.put(TestServer.cancelPath(hanging)).status()).isEqualTo(202);
            for (String id : new String[] {hooked, two, three, blocked, hanging}) {
                server.awaitCompleted(id);
            }

            PrometheusText after = Eventually.value(WAIT, "every outcome and the webhook counted", () -> scrape(server),
                    m -> m.sum("genqueue_requests_completed_total") == 5 && m.value("genqueue_webhook_deliveries_total",
                            "outcome", "delivered") == 1);
            assertThat(after.value("genqueue_requests_submitted_total", "model", "nano_banana")).isEqualTo(5);
            assertThat(after.value("genqueue_requests_completed_total", "model", "nano_banana", "outcome", "succeeded"))
                    .isEqualTo(3);
            assertThat(after.value("genqueue_requests_completed_total", "model", "nano_banana", "outcome", "failed",
                    "error_type", "content_policy_violation")).isEqualTo(1);
            assertThat(after.sum("genqueue_requests_completed_total", "outcome", "failed")).isEqualTo(1);
            assertThat(after.value("genqueue_requests_completed_total", "model", "nano_banana", "outcome", "cancelled"))
                    .isEqualTo(1);

            assertThat(after.value("genqueue_provider_calls_total", "provider", "scripted", "outcome", "succeeded")).isEqualTo(3);
            assertThat(after.value("genqueue_provider_calls_total", "provider", "scripted", "outcome", "rejected")).isEqualTo(1);
            assertThat(after.value("genqueue_provider_calls_total", "provider", "scripted", "outcome", "abandoned")).isEqualTo(1);
            assertThat(after.value("genqueue_provider_calls_total", "provider", "scripted", "outcome", "failed")).isZero();
            assertThat(after.value("genqueue_provider_call_seconds_count", "provider", "scripted")).isEqualTo(5);
            assertThat(after.value("genqueue_breaker_state", "provider", "scripted")).isZero();

            assertThat(after.value("genqueue_pickup_seconds_count")).isEqualTo(5);
            assertThat(after.value("genqueue_run_seconds_count")).isEqualTo(5);
            assertThat(after.value("genqueue_pickup_seconds_bucket", "le", "+Inf")).isEqualTo(5);

            assertThat(after.value("genqueue_webhook_deliveries_total", "outcome", "retried")).isEqualTo(1);
            assertThat(after.value("genqueue_webhook_deliveries_total", "outcome", "given_up")).isZero();

            assertThat(after.value("http_server_requests_seconds_count", "method", "POST", "uri", "/v1/queue/{model}",
                    "status", "200")).isEqualTo(5);
            assertThat(after.value("http_server_requests_seconds_count", "method", "PUT",
                    "uri", "/v1/queue/{model}/requests/{request_id}/cancel", "status", "202")).isEqualTo(1);
            assertThat(after.value("genqueue_rate_limited_total")).isZero();

            assertThat(after.names()).contains("jvm_memory_used_bytes", "jvm_threads_live_threads", "process_cpu_usage",
                    "process_uptime_seconds", "jvm_gc_live_data_size_bytes", "system_cpu_count");
        }
    }

    @Test
    void http_timings_are_labelled_by_route_template_never_by_raw_id_or_query() {
        try (TestServer server = TestServer.start(Map.of("GENQUEUE_WORKERS", "0"))) { // it stays queued
            String id = server.submitOk("{\"prompt\":\"x\"}");
            server.get(TestServer.statusPath(id) + "?logs=1");
            server.get(TestServer.statusPath(id));
            server.get("/v1/queue/nano_banana/requests/" + id);
            server.get("/no/such/" + id);
            assertThat(server.getWithoutKey(TestServer.statusPath(id)).status()).isEqualTo(401);

            PrometheusText m = scrape(server);
            String status = "/v1/queue/{model}/requests/{request_id}/status";
            assertThat(m.value("http_server_requests_seconds_count", "method", "GET", "uri", status, "status", "202")).isEqualTo(2);
            assertThat(m.value("http_server_requests_seconds_count", "method", "GET", "uri", status, "status", "401")).isEqualTo(1);
            assertThat(m.value("http_server_requests_seconds_count", "method", "GET", "uri", "/v1/queue/{model}/requests/{request_id}",
                    "status", "400")).isEqualTo(1); // not finished yet
            assertThat(m.value("http_server_requests_seconds_count", "method", "GET", "uri", "UNMATCHED", "status", "404"))
                    .isEqualTo(1);
            assertThat(m.matching("http_server_requests_seconds_count")).allSatisfy(s -> {
                assertThat(s.labels().get("uri")).doesNotContain(id).doesNotContain("?").doesNotContain("nano_banana");
                assertThat(s.labels().keySet()).containsExactlyInAnyOrder("method", "uri", "status");
            });
        }
    }

    @Test
    void the_metrics_text_holds_no_api_key() {
        try (TestServer server = TestServer.start()) {
            String other = server.newKey("team-b");
            server.submitOk("{\"prompt\":\"x\"}");
            server.send(HttpRequest.newBuilder(URI.create(server.base + "/v1/queue/nano_banana/requests/req_x/status"))
                    .header("Authorization", "Bearer " + other + "x").GET().build());
            String text = server.get("/metrics").body();
            assertThat(text).contains("genqueue_requests_submitted_total").doesNotContain(server.key).doesNotContain(other)
                    .doesNotContainIgnoringCase("bearer").doesNotContain("tenant=");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgresql"})
    void queue_depth_and_the_oldest_queued_age_come_from_the_store(String store) {
        SettableClock clock = new SettableClock();
        try (TestSchemas schemas = new TestSchemas()) {
            Map<String, String> env = new HashMap<>(Map.of("GENQUEUE_WORKERS", "0"));
            if (store.equals("postgresql")) {
                env.put("GENQUEUE_STORE", schemas.newSchemaUrl());
            }
            try (TestServer server = TestServer.start(env, clock, null)) {
                assertThat(scrape(server).value("genqueue_queue_depth", "model", "nano_banana", "state", "queued")).isZero();
                server.submitOk("{\"prompt\":\"one\"}");
                clock.advance(Duration.ofSeconds(30));
                server.submitOk("{\"prompt\":\"two\"}");
                server.submitOk("{\"prompt\":\"three\"}");
                clock.advance(Duration.ofSeconds(60)); // past the gauges' cache of the store's answer

                PrometheusText m = scrape(server);
                assertThat(m.value("genqueue_queue_depth", "model", "nano_banana", "state", "queued")).isEqualTo(3);
                assertThat(m.value("genqueue_queue_depth", "model", "nano_banana", "state", "running")).isZero();
                assertThat(m.value("genqueue_queue_oldest_age_seconds", "model", "nano_banana")).isEqualTo(90);

                clock.advance(Duration.ofSeconds(1)); // within the cache: the same answer, the age moves with the clock
                assertThat(scrape(server).value("genqueue_queue_oldest_age_seconds", "model", "nano_banana")).isEqualTo(91);
            }
        }
    }

    @Test
    void off_answers_404_and_records_nothing() {
        try (TestServer server = TestServer.start(Map.of("GENQUEUE_METRICS", "off"))) {
            server.submitOk("{\"prompt\":\"x\"}");
            TestServer.Response r = server.get("/metrics");
            assertThat(r.status()).isEqualTo(404);
            assertThat(r.json().get("detail").asText()).isEqualTo("Not found");
        }
    }

    @Test
    void its_own_port_serves_the_metrics_and_the_api_port_no_longer_does() {
        try (TestServer server = TestServer.start(Map.of("GENQUEUE_METRICS_PORT", "0"))) {
            server.submitOk("{\"prompt\":\"x\"}");
            int port = server.app.metricsPort();
            assertThat(port).isPositive().isNotEqualTo(server.app.port());
            assertThat(server.get("/metrics").status()).isEqualTo(404);

            TestServer.Response r = server.getWithoutKey("http://127.0.0.1:" + port + "/metrics");
            assertThat(r.status()).isEqualTo(200);
            assertThat(PrometheusText.parse(r.body()).value("genqueue_requests_submitted_total", "model", "nano_banana")).isEqualTo(1);
            // not the API's port, so not the OpenAPI document's: asked without TestServer's check
            java.net.http.HttpResponse<String> other = unchecked(withoutKey("http://127.0.0.1:" + port + "/v1/models"));
            assertThat(other.statusCode()).isEqualTo(404);
            assertThat(other.body()).isEqualTo("{\"detail\":\"Not found\"}");
        }
    }

    @Test
    void admin_mode_answers_401_without_a_key_403_to_a_key_that_is_not_an_admin_and_the_text_to_an_admin_key() {
        try (TestServer server = TestServer.start(Map.of("GENQUEUE_METRICS", "admin"))) {
            TestServer.Response none = server.getWithoutKey("/metrics");
            assertThat(none.status()).isEqualTo(401);
            assertThat(none.json().get("detail").asText()).startsWith("Missing API key");
            TestServer.Response plain = server.get("/metrics");
            assertThat(plain.status()).isEqualTo(403);
            assertThat(plain.json().get("detail").asText()).isEqualTo("Metrics need an admin key.");
            assertThat(plain.body()).doesNotContain("genqueue_");

            String admin = server.newKey("ops", "--admin");
            TestServer.Response scraped = server.send(server.request("/metrics", admin).GET().build());
            assertThat(scraped.status()).isEqualTo(200);
            assertThat(scraped.body()).contains("genqueue_requests_submitted_total").doesNotContain(admin);
        }
    }

    @Test
    void the_tenant_label_setting_adds_the_tenant_to_the_request_counters() {
        try (TestServer server = TestServer.start(Map.of("GENQUEUE_METRICS_TENANT_LABEL", "true"))) {
            server.submitOk("{\"prompt\":\"x\"}");
            PrometheusText m = scrape(server);
            assertThat(m.value("genqueue_requests_submitted_total", "model", "nano_banana", "tenant", "default")).isEqualTo(1);
            assertThat(m.matching("http_server_requests_seconds_count")).allSatisfy(s -> assertThat(s.labels()).doesNotContainKey("tenant"));
        }
    }

    private static java.net.http.HttpResponse<String> unchecked(java.net.http.HttpRequest request) {
        try (java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient()) {
            return client.send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
