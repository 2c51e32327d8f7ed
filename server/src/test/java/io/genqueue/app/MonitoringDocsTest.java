package io.genqueue.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.json.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Grafana dashboard and the Prometheus alert rules in {@code docs/} name only metrics the server
 * really exposes: every name they use is in {@code /metrics} after a small workload.
 */
class MonitoringDocsTest {

    private static final Pattern METRIC = Pattern.compile("\\b(?:genqueue|http_server|jvm|process|system)_[a-z0-9_]+\\b");
    private static TestServer server;
    private static Set<String> exposed;

    @BeforeAll
    static void startAndRunAWorkload() {
        server = TestServer.start(java.util.Map.of(), java.time.Clock.systemUTC(), new ScriptedProvider());
        server.awaitCompleted(server.submitOk("{\"prompt\":\"[fast] one\"}"));
        server.awaitCompleted(server.submitOk("{\"prompt\":\"[error] two\"}"));
        exposed = MetricsEndToEndTest.scrape(server).names();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"grafana-dashboard.json", "prometheus-alerts.yml"})
    void every_metric_the_file_names_is_exposed(String file) throws Exception {
        String text = Files.readString(Path.of("..", "docs", file), StandardCharsets.UTF_8); // the tests run in server/
        if (file.endsWith(".json")) {
            JsonNode dashboard = Json.mapper().readTree(text);
            assertThat(dashboard.get("panels")).isNotEmpty();
        }
        Set<String> named = new TreeSet<>();
        Matcher m = METRIC.matcher(text);
        while (m.find()) {
            named.add(m.group());
        }
        assertThat(named).as("metrics named in docs/" + file).contains("genqueue_queue_oldest_age_seconds",
                "genqueue_breaker_state", "genqueue_requests_completed_total");
        assertThat(exposed).containsAll(named);
    }
}
