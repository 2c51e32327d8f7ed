package io.genqueue.app;

import io.genqueue.testing.SettableClock;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;

/**
 * The key limits on three processes sharing one PostgreSQL schema, each request going to the next
 * process in turn: the rate is one bucket for the cluster, and max-queued and daily images stay
 * exact when concurrent submits are spread over all of them.
 */
class KeyLimitsClusterTest extends KeyLimitsTest {

    @BeforeAll
    static void start() { // hides KeyLimitsTest.start: the same tests, on a cluster
        clock = new SettableClock(Instant.parse("2025-03-01T10:00:00Z"));
        starter = env -> TestServer.startCluster(env, null, 3, clock);
        server = starter.apply(Map.of("GENQUEUE_WORKERS", "0"));
    }
}
