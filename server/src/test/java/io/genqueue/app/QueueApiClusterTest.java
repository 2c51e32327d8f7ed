package io.genqueue.app;

import java.util.Map;
import org.junit.jupiter.api.BeforeAll;

/**
 * The queue API's whole contract suite against three nodes on one PostgreSQL and one S3 bucket:
 * each request goes to the next node in turn, so a request is submitted through one node, read,
 * fetched and cancelled through the others, and run by whichever claims it.
 */
class QueueApiClusterTest extends QueueApiTest {

    @BeforeAll
    static void start() { // hides QueueApiTest.start: the same tests, on a cluster
        server = TestServer.startCluster(Map.of("GENQUEUE_MAX_ATTEMPTS", "2", "GENQUEUE_RETRY_BASE", "10ms",
                "GENQUEUE_RETRY_MAX", "20ms"), provider, 3);
    }
}
