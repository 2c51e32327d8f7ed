package io.genqueue.app;

import java.util.Map;
import org.junit.jupiter.api.BeforeAll;

/**
 * The status stream's suite on three nodes sharing PostgreSQL and S3: a stream opened on one node
 * follows a job submitted through another and run by any, woken by the store's notifications.
 */
class StatusStreamClusterTest extends StatusStreamTest {

    @BeforeAll
    static void start() { // hides StatusStreamTest.start: the same tests, on a cluster
        server = TestServer.startCluster(Map.of("GENQUEUE_WORKERS", "1", "GENQUEUE_STREAM_KEEPALIVE", "200ms"), provider, 3);
    }
}
