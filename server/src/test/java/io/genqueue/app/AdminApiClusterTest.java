package io.genqueue.app;

import io.genqueue.testing.SettableClock;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;

/**
 * The admin API on two processes sharing one PostgreSQL schema, each request going to the next
 * process in turn: a key made, changed or revoked through one process is made, changed or revoked
 * for the other at its next request, and the usage is the whole cluster's.
 */
class AdminApiClusterTest extends AdminApiTest {

    @BeforeAll
    static void start() { // hides AdminApiTest.start: the same tests, on a cluster
        clock = new SettableClock(Instant.parse("2025-03-01T10:00:00Z"));
        server = TestServer.startCluster(Map.of("GENQUEUE_WORKERS", "0"), null, 2, clock);
        admin = server.newKey("ops", "--admin");
    }
}
