package io.genqueue.app;

import static io.genqueue.app.TestServer.responsePath;
import static io.genqueue.app.TestServer.statusPath;
import static org.assertj.core.api.Assertions.assertThat;

import io.genqueue.testing.SettableClock;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Results and images are kept for the retention period, then answer 410 and are gone from disk. */
class RetentionTest {

    @Test
    void after_retention_the_response_is_410_and_the_files_are_gone() throws Exception {
        SettableClock clock = new SettableClock(Instant.now());
        try (TestServer server = TestServer.start(Map.of("GENQUEUE_RETENTION", "7d", "GENQUEUE_LINK_TTL", "1h"), clock,
                new ScriptedProvider())) {
            String id = server.submitOk("{\"prompt\":\"kept for a week\",\"num_images\":2}");
            server.awaitCompleted(id);
            String url = server.get(responsePath(id)).json().get("images").get(0).get("url").asText();
            assertThat(fetch(server, url)).isEqualTo(200);
            assertThat(Files.list(server.dataDir.resolve("images").resolve(id))).hasSize(2);

            clock.advance(Duration.ofDays(6));
            assertThat(server.app.worker().sweepRetention()).isZero();
            assertThat(server.get(responsePath(id)).status()).isEqualTo(200);
            assertThat(fetch(server, url)).as("links expire on their own").isEqualTo(403);

            clock.advance(Duration.ofDays(1).plusSeconds(1));
            assertThat(server.app.worker().sweepRetention()).isEqualTo(1);
            TestServer.Response gone = server.get(responsePath(id));
            assertThat(gone.status()).isEqualTo(410);
            assertThat(gone.json().get("detail").asText()).contains("retention");
            assertThat(Files.exists(server.dataDir.resolve("images").resolve(id))).isFalse();
            TestServer.Response status = server.get(statusPath(id));
            assertThat(status.status()).isEqualTo(200);
            assertThat(status.json().get("status").asText()).isEqualTo("COMPLETED");
            assertThat(server.app.worker().sweepRetention()).isZero();
        }
    }

    private static int fetch(TestServer server, String url) throws Exception {
        return server.client.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
