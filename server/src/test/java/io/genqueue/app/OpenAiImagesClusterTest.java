package io.genqueue.app;

import java.util.Map;
import org.junit.jupiter.api.BeforeAll;

/**
 * OpenAI's images routes' whole suite against three nodes on one PostgreSQL and one S3 bucket: a
 * call waits on one node for a job any node may run (its end learnt from the store's notifications),
 * its links are presigned bucket links, and a client leaving cancels the job wherever it runs.
 */
class OpenAiImagesClusterTest extends OpenAiImagesTest {

    @BeforeAll
    static void start() { // hides OpenAiImagesTest.start: the same tests, on a cluster
        provider = new ScriptedProvider();
        server = TestServer.startCluster(Map.of(), provider, 3);
    }
}
