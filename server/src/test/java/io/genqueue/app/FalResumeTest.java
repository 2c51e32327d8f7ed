package io.genqueue.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.emulator.EmulatorImages;
import io.genqueue.emulator.fal.FalEmulator;
import io.genqueue.image.OutputFormat;
import io.genqueue.json.Json;
import io.genqueue.provider.ProviderSettings;
import io.genqueue.provider.fal.FalProvider;
import io.genqueue.testing.Eventually;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A job whose fal request is still running when the server stops gracefully is resumed by the next
 * start: the new process polls the same upstream request (kept with the job) and pays for no second one.
 */
class FalResumeTest {

    private static final String FAL_KEY = "fal-resume-test-key";

    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private FalEmulator emulator;
    private Path dir;

    @BeforeEach
    void start() throws IOException {
        emulator = FalEmulator.start("127.0.0.1", 0, FAL_KEY).slowFor(Duration.ofSeconds(2));
        dir = Files.createTempDirectory("genqueue-fal-resume");
    }

    @AfterEach
    void stop() {
        emulator.close();
    }

    private Embedded server() {
        FalProvider fal = new FalProvider(new ProviderSettings(emulator.baseUrl(), FAL_KEY, FalProvider.DEFAULT_MODEL,
                Duration.ofSeconds(2), Duration.ofSeconds(30)));
        return Embedded.start(Map.of(
                "GENQUEUE_DATA_DIR", dir.toString(),
                "GENQUEUE_PORT", "0",
                "GENQUEUE_HOST", "127.0.0.1",
                "GENQUEUE_WORKERS", "2",
                "GENQUEUE_SHUTDOWN_GRACE", "0s"), Clock.systemUTC(), fal);
    }

    @Test
    void a_graceful_restart_resumes_the_upstream_request_without_a_second_submit() throws Exception {
        String prompt = "a lighthouse at dusk [emulate:slow]";
        Embedded first = server();
        String key = first.firstKey();
        String base1 = "http://127.0.0.1:" + first.port();
        String id;
        try {
            HttpResponse<String> submitted = send(HttpRequest.newBuilder(URI.create(base1 + "/v1/queue/nano_banana"))
                    .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"" + prompt + "\"}")));
            assertThat(submitted.statusCode()).isEqualTo(200);
            id = Json.parse(submitted.body().getBytes()).get("request_id").asText();
            assertThat(emulator.awaitSubmits(1, Duration.ofSeconds(10))).as("the job reached fal").isTrue();
            // The adapter polls only after the ticket is stored with the job.
            assertThat(emulator.awaitStatusPolls(1, Duration.ofSeconds(10))).isTrue();
        } finally {
            first.close();
        }
        assertThat(emulator.cancels()).as("a shutdown leaves the upstream request running").isZero();

        try (Embedded second = server()) {
            String base2 = "http://127.0.0.1:" + second.port();
            JsonNode status = awaitCompleted(base2, key, id);
            assertThat(status.has("error")).as("status: " + status).isFalse();
            assertThat(status.get("logs").toString()).contains("fal: resuming upstream request");

            JsonNode result = Json.parse(send(get(base2 + "/v1/queue/nano_banana/requests/" + id + "/response", key))
                    .body().getBytes());
            JsonNode image = result.get("images").get(0);
            assertThat(image.get("width").asInt()).isEqualTo(1024);
            HttpResponse<byte[]> file = client.send(get(image.get("url").asText(), key).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(file.body()).isEqualTo(EmulatorImages.render(1024, 1024, prompt, 0, OutputFormat.PNG));
        }
        assertThat(emulator.submits()).as("one upstream request for the job, across the restart").isEqualTo(1);
        assertThat(emulator.cancels()).isZero();
    }

    private JsonNode awaitCompleted(String base, String key, String id) throws Exception {
        return Eventually.value(Duration.ofSeconds(30), id + " completed",
                () -> Json.parse(send(get(base + "/v1/queue/nano_banana/requests/" + id + "/status?logs=1", key)).body().getBytes()),
                status -> status.get("status").asText().equals("COMPLETED"));
    }

    private static HttpRequest.Builder get(String url, String key) {
        return HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + key).GET();
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return client.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
