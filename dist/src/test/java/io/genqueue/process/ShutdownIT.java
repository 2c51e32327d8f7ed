package io.genqueue.process;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.testing.Eventually;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * SIGTERM: the server stops claiming, gives running jobs the grace period, puts the rest back in
 * the queue without counting their attempt, and exits; the next start runs them. A job that ends
 * within the grace period is recorded as done, not requeued.
 */
class ShutdownIT {

    @Test
    void jobs_still_running_after_the_grace_period_go_back_to_the_queue_uncounted() throws Exception {
        Path data = ServerProcess.newDataDir("shutdown-requeue");
        Map<String, String> env = Map.of(
                "GENQUEUE_WORKERS", "2",
                "GENQUEUE_PREVIEW_DELAY_MS", "3000",
                "GENQUEUE_SHUTDOWN_GRACE", "1s");
        String key;
        List<String> ids = new ArrayList<>();
        List<String> interrupted;
        try (ServerProcess server = ServerProcess.serveHealthy(data, env)) {
            key = server.printedKey().orElseThrow();
            Api api = server.api(key);
            for (int i = 0; i < 4; i++) {
                ids.add(api.submitOk("{\"prompt\":\"shutdown " + i + "\",\"output_format\":\"jpeg\"}"));
            }
            Map<String, String> states = awaitStates(api, ids, 2, Duration.ofSeconds(20));
            interrupted = ids.stream().filter(id -> states.get(id).equals("IN_PROGRESS")).toList();
            assertThat(states.values()).as("the other two wait").containsOnly("IN_PROGRESS", "IN_QUEUE");

            long start = System.nanoTime();
            int code = server.terminate(Duration.ofSeconds(30));
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("[ShutdownIT] SIGTERM with 2 jobs 3 s from done and a 1 s grace: exit %d after %.2f s%n", code, seconds);
            assertThat(code).as(server.describe()).isIn(0, 143);
            assertThat(seconds).as("exit within the grace plus a few seconds").isLessThan(1 + 4);
            assertThat(server.out.text()).as(server.describe()).contains("2 job(s) still running after 1 s; putting them back in the queue");
        }

        Map<String, String> restart = new HashMap<>(env);
        restart.put("GENQUEUE_PREVIEW_DELAY_MS", "100");
        try (ServerProcess server = ServerProcess.serveHealthy(data, restart)) {
            assertThat(server.printedKey()).as("no new key on a later start").isEmpty();
            Api api = server.api(key);
            for (String id : ids) {
                JsonNode status = api.awaitCompleted(id);
                List<String> log = messages(status);
                assertThat(status.has("error")).as(id + " succeeded: " + status).isFalse();
                assertThat(api.getOk(Api.responsePath(id)).status()).isEqualTo(200);
                assertThat(log.stream().filter(m -> m.startsWith("Generated"))).as("log of " + id).hasSize(1);
                assertThat(log).as("log of " + id).noneMatch(m -> m.contains("stopped responding"));
                if (interrupted.contains(id)) {
                    assertThat(log).as("log of interrupted " + id)
                            .contains("Interrupted by a server shutdown; back in the queue.")
                            // the attempt was given back: the rerun is attempt 1 again
                            .filteredOn(m -> m.startsWith("Attempt ")).hasSize(2).allMatch(m -> m.startsWith("Attempt 1 started"));
                } else {
                    assertThat(log).as("log of queued " + id).noneMatch(m -> m.startsWith("Interrupted"))
                            .filteredOn(m -> m.startsWith("Attempt ")).hasSize(1).allMatch(m -> m.startsWith("Attempt 1 started"));
                }
            }
            assertThat(server.terminate(Duration.ofSeconds(30))).isIn(0, 143);
        }
    }

    @Test
    void a_job_that_finishes_within_the_grace_period_is_recorded_as_completed() throws Exception {
        Path data = ServerProcess.newDataDir("shutdown-finish");
        Map<String, String> env = Map.of(
                "GENQUEUE_WORKERS", "2",
                "GENQUEUE_PREVIEW_DELAY_MS", "1500",
                "GENQUEUE_SHUTDOWN_GRACE", "20s");
        String key;
        List<String> ids = new ArrayList<>();
        List<String> running;
        String waiting;
        Instant sigterm;
        try (ServerProcess server = ServerProcess.serveHealthy(data, env)) {
            key = server.printedKey().orElseThrow();
            Api api = server.api(key);
            for (int i = 0; i < 3; i++) {
                ids.add(api.submitOk("{\"prompt\":\"grace " + i + "\",\"output_format\":\"jpeg\"}"));
            }
            Map<String, String> states = awaitStates(api, ids, 2, Duration.ofSeconds(20));
            running = ids.stream().filter(id -> states.get(id).equals("IN_PROGRESS")).toList();
            waiting = ids.stream().filter(id -> !running.contains(id)).findFirst().orElseThrow();

            sigterm = Instant.now();
            long start = System.nanoTime();
            int code = server.terminate(Duration.ofSeconds(40));
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("[ShutdownIT] SIGTERM with 2 jobs under 1.5 s from done and a 20 s grace: exit %d after %.2f s%n",
                    code, seconds);
            assertThat(code).as(server.describe()).isIn(0, 143);
            assertThat(seconds).as("the stop waits for the jobs, not for the whole grace").isLessThan(10);
            assertThat(server.out.text()).doesNotContain("putting them back in the queue");
        }

        Map<String, String> restart = new HashMap<>(env);
        restart.put("GENQUEUE_PREVIEW_DELAY_MS", "100");
        try (ServerProcess server = ServerProcess.serveHealthy(data, restart)) {
            Api api = server.api(key);
            for (String id : running) {
                JsonNode status = api.status(id);
                assertThat(status.path("status").asText()).as("finished in the grace period: " + status).isEqualTo("COMPLETED");
                assertThat(status.has("error")).as(status.toString()).isFalse();
                List<String> log = messages(status);
                assertThat(log).as("log of " + id).noneMatch(m -> m.startsWith("Interrupted"))
                        .filteredOn(m -> m.startsWith("Attempt ")).hasSize(1);
                JsonNode generated = lines(status).stream().filter(l -> l.path("message").asText().startsWith("Generated"))
                        .reduce((a, b) -> {
                            throw new AssertionError("two 'Generated' lines in " + status);
                        }).orElseThrow(() -> new AssertionError("no 'Generated' line in " + status));
                assertThat(Instant.parse(generated.path("timestamp").asText())).as("finished after the SIGTERM").isAfter(sigterm);
                assertThat(api.getOk(Api.responsePath(id)).status()).isEqualTo(200);
            }
            JsonNode status = api.awaitCompleted(waiting);
            assertThat(status.has("error")).as(status.toString()).isFalse();
            assertThat(messages(status)).as("the queued job did not start during the shutdown")
                    .filteredOn(m -> m.startsWith("Attempt ")).hasSize(1);
            assertThat(server.terminate(Duration.ofSeconds(30))).isIn(0, 143);
        }
    }

    /** Polls until exactly {@code running} of the jobs are in progress; returns every job's status. */
    private static Map<String, String> awaitStates(Api api, List<String> ids, int running, Duration timeout) {
        return Eventually.value(timeout, running + " job(s) in progress", () -> {
            Map<String, String> states = new HashMap<>();
            for (String id : ids) {
                states.put(id, api.status(id).path("status").asText());
            }
            return states;
        }, states -> states.values().stream().filter("IN_PROGRESS"::equals).count() == running);
    }

    private static List<JsonNode> lines(JsonNode status) {
        List<JsonNode> lines = new ArrayList<>();
        status.path("logs").forEach(lines::add);
        return lines;
    }

    private static List<String> messages(JsonNode status) {
        return lines(status).stream().map(l -> l.path("message").asText()).toList();
    }
}
