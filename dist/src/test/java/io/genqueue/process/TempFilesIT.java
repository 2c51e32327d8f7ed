package io.genqueue.process;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Nothing left behind: the native libraries that SQLite's driver and the WebP writer bundle used to
 * be extracted into the temporary folder at every start, under a new name, and removed only by a
 * normal JVM exit, so every killed server left about 1.8 MB there for good. Ten starts of the
 * shipped jar with a temporary folder of their own, each storing a WebP image (both libraries in
 * use), half of them ended by SIGKILL and half by SIGTERM, must leave that folder as empty as they
 * found it.
 */
class TempFilesIT {

    private static final int STARTS = 10;

    @Test
    void ten_starts_killed_or_stopped_leave_no_file_in_the_temporary_folder() throws Exception {
        Path data = ServerProcess.newDataDir("tempfiles");
        Path tmp = Files.createDirectories(data.resolveSibling(data.getFileName() + "-tmp"));
        Map<String, String> env = Map.of("JAVA_TOOL_OPTIONS", "-Djava.io.tmpdir=" + tmp);
        String key = null;
        for (int start = 1; start <= STARTS; start++) {
            try (ServerProcess server = ServerProcess.serveHealthy(data, env)) {
                if (key == null) {
                    key = server.printedKey().orElseThrow(() -> new AssertionError("no key printed\n" + server.describe()));
                }
                Api api = server.api(key);
                String id = api.submitOk("{\"prompt\":\"start " + start + "\",\"output_format\":\"webp\"}");
                JsonNode status = api.awaitCompleted(id);
                assertThat(status.has("error")).as("the job of start " + start + ": " + status).isFalse();
                JsonNode image = api.getOk(Api.responsePath(id)).json().path("images").get(0);
                assertThat(image.path("content_type").asText()).as("WebP written (the native writer loaded)")
                        .isEqualTo("image/webp");
                assertThat(files(tmp)).as("the temporary folder while start " + start + " runs").isEmpty();
                if (start % 2 == 0) {
                    server.kill();
                } else {
                    assertThat(server.terminate(Duration.ofSeconds(60))).as("exit of a graceful stop").isIn(0, 143);
                }
            }
        }
        assertThat(files(tmp)).as("the temporary folder after " + STARTS + " starts").isEmpty();
        ServerProcess.deleteTree(tmp);
        ServerProcess.deleteTree(data);
    }

    private static List<String> files(Path dir) throws Exception {
        try (Stream<Path> all = Files.walk(dir)) {
            return all.filter(p -> !p.equals(dir)).map(p -> dir.relativize(p).toString()).sorted().toList();
        }
    }
}
