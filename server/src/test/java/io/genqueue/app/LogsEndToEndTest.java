package io.genqueue.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.json.Json;
import io.genqueue.queue.JobLines;
import io.genqueue.queue.LogCapture;
import io.genqueue.store.postgres.TestSchemas;
import io.genqueue.testing.Eventually;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The server's log over a known workload on the real server over HTTP: with
 * {@code GENQUEUE_LOG_FORMAT=json} every line is one JSON object; one access line per request, by
 * route template; one line per job transition with its state and attempt; and no key and no query
 * string anywhere in the output. With the default, lines stay text.
 */
class LogsEndToEndTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String ACCESS = "io.genqueue.access";
    private static final String STATUS = "/v1/queue/{model}/requests/{request_id}/status";
    private static final String CANCEL = "/v1/queue/{model}/requests/{request_id}/cancel";

    private static List<JsonNode> parsed(LogCapture logs) {
        List<JsonNode> out = new ArrayList<>();
        for (String line : logs.lines()) {
            JsonNode json;
            try {
                json = Json.parse(line.getBytes(StandardCharsets.UTF_8));
            } catch (Exception e) {
                throw new AssertionError("not one JSON object: " + line, e);
            }
            assertThat(json.isObject()).as(line).isTrue();
            for (String key : List.of("timestamp", "level", "logger", "thread", "message")) {
                assertThat(json.hasNonNull(key)).as(key + " in " + line).isTrue();
            }
            out.add(json);
        }
        return out;
    }

    private static List<JsonNode> of(List<JsonNode> lines, String logger, Predicate<JsonNode> which) {
        return lines.stream().filter(l -> l.get("logger").asText().equals(logger)).filter(which).toList();
    }

    private static Predicate<JsonNode> field(String name, String value) {
        return l -> l.hasNonNull(name) && l.get(name).asText().equals(value);
    }

    private static List<String> transitions(List<JsonNode> lines, String id) {
        return of(lines, JobLines.LOGGER, field("request_id", id)).stream()
                .map(l -> l.get("transition").asText() + ":" + l.get("state").asText() + ":" + l.get("attempt").asInt()).toList();
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgresql"})
    void json_lines_carry_one_access_line_per_request_and_one_line_per_job_transition(String store) throws Exception {
        ScriptedProvider provider = new ScriptedProvider();
        try (TestSchemas schemas = new TestSchemas(); LogCapture logs = new LogCapture()) {
            Map<String, String> env = new HashMap<>(Map.of("GENQUEUE_LOG_FORMAT", "json", "GENQUEUE_FETCH_ALLOW", "127.0.0.1:1",
                    "GENQUEUE_RETRY_BASE", "10ms", "GENQUEUE_RETRY_MAX", "10ms"));
            if (store.equals("postgresql")) {
                env.put("GENQUEUE_STORE", schemas.newSchemaUrl());
            }
            try (TestServer server = TestServer.start(env, Clock.systemUTC(), provider)) {
                String hook = "http://127.0.0.1:1/hook?token=SECRET";
                String ok = server.submitTo("/v1/queue/nano_banana?fal_webhook=" + URLEncoder.encode(hook, StandardCharsets.UTF_8),
                        "{\"prompt\":\"[fast] one\"}").json().get("request_id").asText();
                String blocked = server.submitOk("{\"prompt\":\"[content] two\"}");
                String flaky = server.submitOk("{\"prompt\":\"[flaky] three\"}");
                String hanging = server.submitOk("{\"prompt\":\"[hang] four\"}");
                assertThat(provider.hanging.await(30, TimeUnit.SECONDS)).as("the [hang] job is running").isTrue();
                assertThat(server.put(TestServer.cancelPath(hanging)).status()).isEqualTo(202);
                for (String id : List.of(ok, blocked, flaky, hanging)) {
                    server.awaitCompleted(id); // status reads, with ?logs=1
                }
                int statusReads = Eventually.value(WAIT, "every job's last line logged",
                        () -> parsed(logs), l -> of(l, JobLines.LOGGER, field("transition", "cancelled")).size() == 1
                                && of(l, JobLines.LOGGER, field("transition", "succeeded")).size() == 2).size();
                assertThat(statusReads).isPositive();
                TestServer.Response unauthorized = server.send(HttpRequest.newBuilder(URI.create(server.base
                        + TestServer.statusPath(ok) + "?logs=1")).header("Authorization", "Bearer " + server.key + "x").GET().build());
                assertThat(unauthorized.status()).isEqualTo(401);
                assertThat(server.get("/no/such/" + ok + "?token=SECRET").status()).isEqualTo(404);

                List<JsonNode> lines = Eventually.value(WAIT, "the last access line written", () -> parsed(logs),
                        l -> of(l, ACCESS, field("route", "UNMATCHED")).size() == 1);
                List<JsonNode> access = of(lines, ACCESS, l -> true);
                List<JsonNode> submits = of(access, ACCESS, field("route", "/v1/queue/{model}"));
                assertThat(submits).hasSize(4).allSatisfy(l -> {
                    assertThat(l.get("method").asText()).isEqualTo("POST");
                    assertThat(l.get("status").asInt()).isEqualTo(200);
                    assertThat(l.get("tenant").asText()).isEqualTo("default");
                    assertThat(l.get("duration_ms").isNumber()).isTrue();
                    assertThat(l.get("level").asText()).isEqualTo("INFO");
                });
                assertThat(submits.stream().map(l -> l.get("request_id").asText()))
                        .containsExactlyInAnyOrder(ok, blocked, flaky, hanging);
                List<JsonNode> cancels = of(access, ACCESS, field("route", CANCEL));
                assertThat(cancels).singleElement().satisfies(l -> {
                    assertThat(l.get("method").asText()).isEqualTo("PUT");
                    assertThat(l.get("status").asInt()).isEqualTo(202);
                    assertThat(l.get("request_id").asText()).isEqualTo(hanging);
                });
                List<JsonNode> statuses = of(access, ACCESS, field("route", STATUS));
                assertThat(statuses).as("every status read, each once").hasSizeGreaterThanOrEqualTo(5)
                        .allSatisfy(l -> assertThat(l.get("method").asText()).isEqualTo("GET"));
                assertThat(of(statuses, ACCESS, field("status", "401"))).singleElement().satisfies(l -> {
                    assertThat(l.get("request_id").asText()).isEqualTo(ok);
                    assertThat(l.get("tenant").isNull()).as("no tenant before a key is accepted").isTrue();
                });
                assertThat(of(statuses, ACCESS, field("status", "200")).stream().map(l -> l.get("request_id").asText()))
                        .containsExactlyInAnyOrder(ok, blocked, flaky, hanging);
                assertThat(of(access, ACCESS, field("route", "UNMATCHED"))).singleElement().satisfies(l -> {
                    assertThat(l.get("status").asInt()).isEqualTo(404);
                    assertThat(l.get("request_id").isNull()).isTrue();
                });
                assertThat(access).as("one line per request, nothing else").hasSize(submits.size() + cancels.size()
                        + statuses.size() + 1);
                assertThat(access).allSatisfy(l -> assertThat(l.get("route").asText()).doesNotContain("nano_banana")
                        .doesNotContain("?").doesNotContain("req_"));

                // Lines of one job come from the threads that saw each transition commit: a worker woken by
                // the commit may log its start before the thread that committed logs its line, so the
                // attempt, not the order, tells them apart.
                assertThat(transitions(lines, ok)).containsExactlyInAnyOrder("submitted:queued:0", "started:running:1",
                        "succeeded:succeeded:1");
                assertThat(transitions(lines, blocked)).containsExactlyInAnyOrder("submitted:queued:0", "started:running:1",
                        "failed:failed:1");
                assertThat(transitions(lines, flaky)).containsExactlyInAnyOrder("submitted:queued:0", "started:running:1",
                        "retried:queued:1", "started:running:2", "succeeded:succeeded:2");
                assertThat(transitions(lines, hanging)).containsExactlyInAnyOrder("submitted:queued:0", "started:running:1",
                        "cancelled:cancelled:1");
                JsonNode succeeded = of(lines, JobLines.LOGGER, field("request_id", ok).and(field("transition", "succeeded"))).get(0);
                assertThat(succeeded.get("tenant").asText()).isEqualTo("default");
                assertThat(succeeded.get("model").asText()).isEqualTo("nano_banana");
                assertThat(succeeded.get("provider").asText()).isEqualTo("scripted");
                assertThat(succeeded.get("queued_ms").isIntegralNumber()).isTrue();
                assertThat(succeeded.get("run_ms").isIntegralNumber()).isTrue();
                JsonNode failed = of(lines, JobLines.LOGGER, field("request_id", blocked).and(field("transition", "failed"))).get(0);
                assertThat(failed.get("error_type").asText()).isEqualTo("content_policy_violation");
                JsonNode retried = of(lines, JobLines.LOGGER, field("request_id", flaky).and(field("transition", "retried"))).get(0);
                assertThat(retried.get("error_type").asText()).isEqualTo("provider_unavailable");

                assertThat(logs.output()).doesNotContain("SECRET").doesNotContain(server.key).doesNotContainIgnoringCase("bearer")
                        .doesNotContain("fal_webhook");
            }
        }
    }

    @Test
    void a_cancel_of_a_queued_job_is_its_line_and_text_stays_the_default_format() {
        try (LogCapture logs = new LogCapture(); TestServer server = TestServer.start(Map.of("GENQUEUE_WORKERS", "0"))) {
            String id = server.submitOk("{\"prompt\":\"x\"}");
            assertThat(server.put(TestServer.cancelPath(id)).status()).isEqualTo(202);
            assertThat(logs.fields(JobLines.LOGGER)).containsExactly(
                    Map.of("transition", "submitted", "state", "queued", "request_id", id, "tenant", "default",
                            "model", "nano_banana", "attempt", 0),
                    Map.of("transition", "cancelled", "state", "cancelled", "request_id", id, "tenant", "default",
                            "model", "nano_banana", "attempt", 0));
            List<String> lines = Eventually.value(WAIT, "the cancel's access line", logs::lines,
                    l -> l.stream().anyMatch(s -> s.contains(CANCEL)));
            assertThat(lines).allSatisfy(l -> assertThat(l).doesNotStartWith("{"));
            assertThat(lines).contains("INFO  io.genqueue.access - PUT " + CANCEL + " 202 "
                    + lines.stream().filter(l -> l.contains(CANCEL)).findFirst().orElseThrow()
                            .replaceAll(".* 202 ([0-9.]+) ms .*", "$1") + " ms request " + id + " tenant default");
            assertThat(lines).anyMatch(l -> l.startsWith("INFO  io.genqueue.jobs - job " + id + " cancelled (tenant default, "
                    + "model nano_banana) while queued"));
        }
    }

    @Test
    void access_lines_off_leave_the_job_lines_and_nothing_of_the_access_lines_is_written() {
        try (LogCapture logs = new LogCapture()) {
            String id;
            try (TestServer server = TestServer.start(Map.of("GENQUEUE_WORKERS", "0", "GENQUEUE_ACCESS_LOG", "false"))) {
                id = server.submitOk("{\"prompt\":\"x\"}");
                server.get(TestServer.statusPath(id));
                assertThat(server.get("/no/such/path").status()).isEqualTo(404);
            } // stopped: every answer sent, so every line it would write is written
            assertThat(logs.fields(JobLines.LOGGER)).singleElement()
                    .satisfies(l -> assertThat(l).containsEntry("transition", "submitted").containsEntry("request_id", id));
            assertThat(logs.fields(ACCESS)).isEmpty();
        }
        try (LogCapture logs = new LogCapture(); TestServer server = TestServer.start(Map.of("GENQUEUE_WORKERS", "0"))) {
            assertThat(server.get("/no/such/path").status()).isEqualTo(404);
            Eventually.until(WAIT, "the next server's access line, on again by default",
                    () -> logs.fields(ACCESS).size() == 1);
        }
    }
}
