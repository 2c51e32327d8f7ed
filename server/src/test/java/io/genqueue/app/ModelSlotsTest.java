package io.genqueue.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.testing.Eventually;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Worker slots are shared with a cap per model ({@code slot_share}): with four slots,
 * {@code nano_banana_pro} (a share of 0.5) holds at most two, so while its provider stalls on every
 * call, {@code nano_banana}'s jobs keep running in the other two and all complete.
 */
class ModelSlotsTest {

    private static final int STALLED = 6;
    private static final int FAST = 60;

    @Test
    void a_stalled_model_holds_only_its_cap_and_the_other_model_completes_all_its_jobs() {
        ScriptedProvider provider = new ScriptedProvider();
        try (TestServer server = TestServer.start(Map.of("GENQUEUE_WORKERS", "4"), Clock.systemUTC(), provider)) {
            assertThat(server.app.worker().slotCaps()).containsEntry("nano_banana_pro", 2).containsEntry("nano_banana", 4);
            List<String> stalled = new ArrayList<>();
            for (int i = 0; i < STALLED; i++) {
                stalled.add(server.submitOk("nano_banana_pro", "{\"prompt\":\"[hang] stalled " + i + "\"}"));
            }
            Eventually.until(Duration.ofSeconds(20), "two pro jobs running", () -> count(server, stalled, "IN_PROGRESS") == 2);

            List<String> fast = new ArrayList<>();
            for (int i = 0; i < FAST; i++) {
                fast.add(server.submitOk("nano_banana", "{\"prompt\":\"[fast] quick " + i + "\"}"));
            }
            for (String id : fast) {
                JsonNode status = server.awaitCompleted(id);
                assertThat(status.has("error")).as("%s", status).isFalse();
            }
            // the pro model never held more than its cap: two still hang, the rest wait in the queue
            assertThat(count(server, stalled, "IN_PROGRESS")).isEqualTo(2);
            assertThat(count(server, stalled, "IN_QUEUE")).isEqualTo(STALLED - 2);
            assertThat(provider.interrupted).isEmpty();

            // the queued ones first, so that no cancelled slot is taken by a job about to be cancelled
            List<String> queuedFirst = new ArrayList<>(stalled.stream().filter(id -> status(server, id).equals("IN_QUEUE")).toList());
            stalled.stream().filter(id -> !queuedFirst.contains(id)).forEach(queuedFirst::add);
            for (String id : queuedFirst) {
                assertThat(server.put("/v1/queue/nano_banana_pro/requests/" + id + "/cancel").status()).isEqualTo(202);
            }
            for (String id : stalled) {
                assertThat(server.awaitCompleted("nano_banana_pro", id).get("error_type").asText()).isEqualTo("cancelled");
            }
        }
    }

    private static long count(TestServer server, List<String> ids, String status) {
        return ids.stream().filter(id -> status(server, id).equals(status)).count();
    }

    private static String status(TestServer server, String id) {
        return server.get("/v1/queue/nano_banana_pro/requests/" + id + "/status").json().get("status").asText();
    }
}
