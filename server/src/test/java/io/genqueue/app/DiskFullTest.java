package io.genqueue.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.queue.LogCapture;
import io.genqueue.testing.Eventually;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The server on a filesystem of its own (a 16 MB tmpfs), filled while jobs run and then freed: every
 * accepted request completes successfully once space returns, none ends {@code internal_error},
 * and while free space is below {@code GENQUEUE_MIN_FREE_DISK} submits and {@code /readyz} answer
 * 503 saying why, and the metric and one log line say so.
 */
class DiskFullTest {

    private static final String JOB = "{\"prompt\":\"a lighthouse in the fog\"}";

    @Test
    void jobs_wait_out_a_full_disk_and_every_accepted_request_succeeds_once_space_returns() {
        try (LogCapture logs = new LogCapture();
                SmallDisk disk = SmallDisk.mount(16);
                TestServer server = TestServer.start(Map.of(
                        "GENQUEUE_DATA_DIR", disk.path().resolve("data").toString(),
                        "GENQUEUE_MIN_FREE_DISK", "4MB",
                        "GENQUEUE_WORKERS", "2",
                        "GENQUEUE_PREVIEW_DELAY_MS", "1000",
                        "GENQUEUE_RETRY_BASE", "100ms",
                        "GENQUEUE_RETRY_MAX", "1s"))) {
            assertThat(server.getWithoutKey("/readyz").json().at("/checks/disk").asText()).isEqualTo("ok");
            List<String> accepted = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                accepted.add(server.submitOk(JOB));
            }
            server.awaitStatus(accepted.get(0), s -> !s.get("status").asText().equals("IN_QUEUE"), Duration.ofSeconds(30));

            disk.fill(); // the first jobs are in their provider call: they meet a full disk when they store
            assertThat(disk.usable()).isLessThan(4L << 20);

            TestServer.Response ready = Eventually.value(Duration.ofSeconds(30), "/readyz answers 503",
                    () -> server.getWithoutKey("/readyz"), r -> r.status() == 503);
            assertThat(ready.json().get("status").asText()).isEqualTo("unavailable");
            assertThat(ready.json().at("/checks/disk").asText()).isEqualTo("low");
            assertThat(ready.json().get("reason").asText()).contains("GENQUEUE_MIN_FREE_DISK");

            TestServer.Response refused = server.submit(JOB);
            assertThat(refused.status()).isEqualTo(503);
            assertThat(refused.header("Retry-After")).isNotBlank();
            assertThat(refused.json().get("detail").asText()).contains("disk space");
            assertThat(server.getWithoutKey("/metrics").body()).contains("genqueue_disk_low 1.0");

            Eventually.until(Duration.ofSeconds(30), "a running job met the full disk",
                    () -> logs.output().contains("storage failed"));

            disk.free();
            Eventually.until(Duration.ofSeconds(30), "/readyz answers 200 again", () -> server.getWithoutKey("/readyz").status() == 200);
            accepted.add(server.submitOk(JOB));
            assertThat(server.getWithoutKey("/metrics").body()).contains("genqueue_disk_low 0.0");

            List<String> logged = new ArrayList<>();
            for (String id : accepted) {
                JsonNode done = server.awaitStatus(id, s -> s.get("status").asText().equals("COMPLETED"), Duration.ofSeconds(90));
                assertThat(done.path("error_type").isMissingNode() || done.path("error_type").isNull())
                        .as("%s ended without an error: %s", id, done).isTrue();
                TestServer.Response result = server.get(TestServer.responsePath(id));
                assertThat(result.status()).as(result.body()).isEqualTo(200);
                String url = result.json().at("/images/0/url").asText();
                assertThat(server.getWithoutKey(url).status()).isEqualTo(200);
                done.get("logs").forEach(line -> logged.add(line.get("message").asText()));
            }
            assertThat(logged).as("the images a job made before the disk filled were stored, not made again")
                    .anyMatch(m -> m.contains("made before storage failed"));
            assertThat(logs.lines().stream().filter(l -> l.contains("below GENQUEUE_MIN_FREE_DISK")))
                    .as("one line when the disk went low, not one per request").hasSize(1);
        }
    }
}
