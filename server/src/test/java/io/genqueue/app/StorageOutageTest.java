package io.genqueue.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.blob.s3.S3ProxyServer;
import io.genqueue.queue.LogCapture;
import io.genqueue.store.postgres.TestSchemas;
import io.genqueue.testing.Eventually;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The distributed stores failing under running jobs: PostgreSQL refusing writes, the S3 bucket
 * unreachable. Jobs wait (back in the queue, or their outcome recorded once the store takes it);
 * nothing is marked failed for it, and every accepted request completes successfully once the
 * storage is back.
 */
class StorageOutageTest {

    private static final String JOB = "{\"prompt\":\"a harbour at dawn\"}";

    @Test
    void jobs_wait_while_postgresql_refuses_writes_and_all_succeed_once_it_takes_them_again() {
        String db = "gq_ro_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        TestSchemas.execute("CREATE DATABASE " + db);
        try (LogCapture logs = new LogCapture();
                TestServer server = TestServer.start(Map.of(
                        "GENQUEUE_STORE", "postgresql://postgres@127.0.0.1:5432/" + db,
                        "GENQUEUE_STORE_POLL", "200ms",
                        "GENQUEUE_WORKERS", "2",
                        "GENQUEUE_LEASE", "1s",
                        "GENQUEUE_PREVIEW_DELAY_MS", "1000"))) {
            List<String> accepted = submitAndAwaitOneRunning(server, 6);

            readOnly(db, true);
            Eventually.until(Duration.ofSeconds(30), "a finished run could not record its outcome",
                    () -> logs.output().contains("recording its outcome failed"));
            TestServer.Response refused = server.submit(JOB);
            assertThat(refused.status()).as("a submit the store cannot keep is not accepted: " + refused.body()).isEqualTo(503);

            readOnly(db, false);
            assertAllSucceeded(server, accepted);
        } finally {
            TestSchemas.execute("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
        }
    }

    @Test
    void jobs_wait_while_the_bucket_is_unreachable_and_all_succeed_once_it_answers() {
        try (TestSchemas schemas = new TestSchemas();
                S3ProxyServer s3 = S3ProxyServer.start();
                TcpRelay relay = TcpRelay.to(s3.endpoint())) {
            s3.createBucket("outage");
            try (LogCapture logs = new LogCapture();
                    TestServer server = TestServer.start(Map.ofEntries(
                            Map.entry("GENQUEUE_STORE", schemas.newSchemaUrl()),
                            Map.entry("GENQUEUE_STORE_POLL", "200ms"),
                            Map.entry("GENQUEUE_BLOBS", "s3://outage/images"),
                            Map.entry("GENQUEUE_S3_ENDPOINT", relay.endpoint().toString()),
                            Map.entry("GENQUEUE_S3_REGION", "us-east-1"),
                            Map.entry("GENQUEUE_S3_PATH_STYLE", "true"),
                            Map.entry("GENQUEUE_S3_ACCESS_KEY", S3ProxyServer.ACCESS_KEY),
                            Map.entry("GENQUEUE_S3_SECRET_KEY", S3ProxyServer.SECRET_KEY),
                            Map.entry("GENQUEUE_WORKERS", "2"),
                            Map.entry("GENQUEUE_RETRY_BASE", "100ms"),
                            Map.entry("GENQUEUE_RETRY_MAX", "1s"),
                            Map.entry("GENQUEUE_PREVIEW_DELAY_MS", "1000")))) {
                List<String> accepted = submitAndAwaitOneRunning(server, 6);

                relay.cut();
                Eventually.until(Duration.ofSeconds(30), "/readyz says the blob store is failing", () -> {
                    TestServer.Response ready = server.getWithoutKey("/readyz");
                    return ready.status() == 503 && ready.json().at("/checks/blobs").asText().equals("failing");
                });
                Eventually.until(Duration.ofSeconds(30), "a run could not store its images",
                        () -> logs.output().contains("storage failed"));
                accepted.add(server.submitOk(JOB)); // the store still takes submits: they wait in the queue

                relay.restore();
                List<String> logged = assertAllSucceeded(server, accepted);
                assertThat(logged).as("the images made while the bucket was down were kept and stored, not made again")
                        .anyMatch(m -> m.contains("made before storage failed"));
            }
        }
    }

    private static List<String> submitAndAwaitOneRunning(TestServer server, int jobs) {
        List<String> accepted = new ArrayList<>();
        for (int i = 0; i < jobs; i++) {
            accepted.add(server.submitOk(JOB));
        }
        server.awaitStatus(accepted.get(0), s -> !s.path("status").asText("IN_QUEUE").equals("IN_QUEUE"), Duration.ofSeconds(30));
        return accepted;
    }

    /** Every job completed with its images; returns the lines of their logs. */
    private static List<String> assertAllSucceeded(TestServer server, List<String> accepted) {
        List<String> logged = new ArrayList<>();
        for (String id : accepted) {
            JsonNode done = server.awaitStatus(id, s -> s.path("status").asText().equals("COMPLETED"), Duration.ofSeconds(90));
            assertThat(done.path("error_type").isMissingNode() || done.path("error_type").isNull())
                    .as("%s ended without an error: %s", id, done).isTrue();
            TestServer.Response result = server.get(TestServer.responsePath(id));
            assertThat(result.status()).as(result.body()).isEqualTo(200);
            assertThat(server.getWithoutKey(result.json().at("/images/0/url").asText()).status()).isEqualTo(200);
            done.get("logs").forEach(line -> logged.add(line.get("message").asText()));
        }
        return logged;
    }

    /**
     * Makes the database refuse (or take again) every write: new sessions start read-only, and
     * every session open now is ended, so the service's pools reconnect under the new default.
     */
    private static void readOnly(String db, boolean on) {
        TestSchemas.execute("ALTER DATABASE " + db + " SET default_transaction_read_only = " + (on ? "on" : "off"));
        TestSchemas.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + db + "'");
    }
}
