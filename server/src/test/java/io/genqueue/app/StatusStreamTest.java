package io.genqueue.app;

import static io.genqueue.app.TestServer.cancelPath;
import static io.genqueue.app.TestServer.statusPath;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.json.Json;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The status stream: an event on connect and at each change, keep-alives, and the end after COMPLETED. */
class StatusStreamTest {

    static ScriptedProvider provider = new ScriptedProvider();
    static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(Map.of("GENQUEUE_WORKERS", "1", "GENQUEUE_STREAM_KEEPALIVE", "200ms"), Clock.systemUTC(), provider);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** What one stream delivered, in order: data events (parsed) and comment lines. */
    record Stream(String contentType, List<JsonNode> events, List<String> comments) {
        List<String> statuses() {
            return events.stream().map(e -> e.get("status").asText()).toList();
        }
    }

    private static Stream read(String id) throws Exception {
        return read(id, (stream, line) -> { });
    }

    /** Reads a whole stream, calling {@code onLine} after each line with what was read so far. */
    private static Stream read(String id, java.util.function.BiConsumer<Stream, String> onLine) throws Exception {
        HttpResponse<InputStream> r = server.client.send(server.request(statusPath(id) + "/stream").GET().build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.statusCode()).isEqualTo(200);
        Stream stream = new Stream(r.headers().firstValue("Content-Type").orElse(""), new ArrayList<>(), new ArrayList<>());
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (line.startsWith("data: ")) {
                    stream.events().add(Json.mapper().readTree(line.substring(6)));
                } else if (line.startsWith(":")) {
                    stream.comments().add(line);
                }
                onLine.accept(stream, line);
            }
        }
        return stream;
    }

    @Test
    void a_stream_follows_a_request_from_the_queue_to_completed_and_then_ends() throws Exception {
        List<String> blockers = new java.util.ArrayList<>();
        for (int i = 0; i < server.slots(); i++) {
            blockers.add(server.submitOk("{\"prompt\":\"[hang] blocker " + i + "\"}"));
        }
        for (String blocker : blockers) {
            server.awaitStatus(blocker, s -> s.get("status").asText().equals("IN_PROGRESS"), java.time.Duration.ofSeconds(10));
        }
        String id = server.submitOk("{\"prompt\":\"[slow] followed\"}");
        // Free every slot once the stream has shown the job queued and kept the line alive.
        Stream stream = read(id, (sofar, line) -> {
            if (line.equals(": keep-alive") && sofar.comments().size() == 1) {
                assertThat(sofar.statuses()).containsExactly("IN_QUEUE");
                blockers.forEach(blocker -> server.put(cancelPath(blocker)));
            }
        });
        assertThat(stream.contentType()).startsWith("text/event-stream");
        assertThat(stream.statuses()).containsExactly("IN_QUEUE", "IN_PROGRESS", "COMPLETED");
        assertThat(stream.events().get(0).get("queue_position").asLong()).isZero();
        assertThat(stream.events().get(1).has("logs")).isTrue();
        assertThat(stream.events().get(2).get("metrics").has("inference_time")).isTrue();
    }

    @Test
    void a_stream_of_a_completed_request_sends_one_event_and_ends() throws Exception {
        String id = server.submitOk("{\"prompt\":\"done\"}");
        server.awaitCompleted(id);
        Stream stream = read(id);
        assertThat(stream.statuses()).containsExactly("COMPLETED");
    }

    @Test
    void a_stream_of_an_unknown_request_is_a_404_in_json() {
        TestServer.Response r = server.get(statusPath("req_01jdx8c2m1w4n6q8s0t2v4x6z8") + "/stream");
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.json().get("detail").asText()).isEqualTo("Request not found");
    }
}
