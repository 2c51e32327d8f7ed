package io.genqueue.process;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code GENQUEUE_LOG_FORMAT=json} in the shipped jar, with its own {@code logback.xml}: every line
 * the server writes to standard output, from its start to its exit, is one JSON object.
 */
class LogsIT {

    @Test
    void with_json_every_line_of_the_shipped_server_from_start_to_exit_is_one_json_object() throws Exception {
        Path data = ServerProcess.newDataDir("logs-json");
        ServerProcess.Result made = ServerProcess.run(Map.of(), "keys", "create", "--tenant", "team-a", "--data-dir", data.toString());
        assertThat(made.code()).as(made.toString()).isZero();
        String key = made.lastLine();
        List<JsonNode> lines = new ArrayList<>();
        String id;
        try (ServerProcess server = ServerProcess.serveHealthy(data, Map.of("GENQUEUE_LOG_FORMAT", "json",
                "GENQUEUE_PREVIEW_DELAY_MS", "0"))) {
            Api api = server.api(key);
            id = api.submitOk("{\"prompt\":\"a lighthouse\"}");
            api.awaitCompleted(id);
            assertThat(server.terminate(Duration.ofSeconds(30))).as(server.describe()).isIn(0, 143);
            server.out.awaitClosed(Duration.ofSeconds(5));
            for (String line : server.out.text().lines().toList()) {
                try {
                    lines.add(Api.JSON.readTree(line));
                } catch (Exception e) {
                    throw new AssertionError("not a JSON line: " + line + "\n" + server.describe(), e);
                }
            }
        }
        assertThat(lines).allSatisfy(l -> assertThat(l.isObject()).isTrue());
        assertThat(lines).anySatisfy(l -> {
            assertThat(l.get("logger").asText()).isEqualTo("io.genqueue.app.Application");
            assertThat(l.get("message").asText()).startsWith("genqueue listening on");
        });
        assertThat(lines).anySatisfy(l -> {
            assertThat(l.get("logger").asText()).isEqualTo("io.genqueue.access");
            assertThat(l.get("route").asText()).isEqualTo("/v1/queue/{model}");
            assertThat(l.get("request_id").asText()).isEqualTo(id);
            assertThat(l.get("tenant").asText()).isEqualTo("team-a");
        });
        assertThat(lines).anySatisfy(l -> {
            assertThat(l.get("logger").asText()).isEqualTo("io.genqueue.jobs");
            assertThat(l.get("transition").asText()).isEqualTo("succeeded");
            assertThat(l.get("request_id").asText()).isEqualTo(id);
            assertThat(l.get("provider").asText()).isEqualTo("preview");
        });
        ServerProcess.deleteTree(data);
    }
}
