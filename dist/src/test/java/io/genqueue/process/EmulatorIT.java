package io.genqueue.process;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * What the README promises: each emulator starts on its own with one command, and a genqueue
 * started with nothing but settings pointing at it generates through it as if through the real
 * provider.
 */
class EmulatorIT {

    private static final Pattern BASE_URL = Pattern.compile("emulator on (http://\\S+)");

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "gemini, GEMINI_API_KEY, AIzaSy-emulated",
            "openrouter, OPENROUTER_API_KEY, sk-or-v1-emulator",
            "fal, FAL_KEY, fal-emulated-key"})
    void the_whole_service_runs_against_an_emulator_started_by_one_command(String provider, String keySetting, String key)
            throws Exception {
        Process emulator = new ProcessBuilder(ServerProcess.command("emulate", provider, "--port", "0")).start();
        ServerProcess.Output out = ServerProcess.Output.capture(emulator.getInputStream(), provider + " emulator");
        ServerProcess.Output.capture(emulator.getErrorStream(), provider + " emulator stderr");
        Path data = ServerProcess.newDataDir("emulated-" + provider);
        try {
            Matcher m = out.await(BASE_URL, Duration.ofSeconds(60));
            String baseUrl = m.group(1);
            Map<String, String> env = Map.of(
                    "GENQUEUE_PROVIDERS", provider,
                    keySetting, key,
                    "GENQUEUE_" + provider.toUpperCase(java.util.Locale.ROOT) + "_BASE_URL", baseUrl);
            try (ServerProcess server = ServerProcess.serveHealthy(data, env)) {
                Api api = server.api(server.printedKey().orElseThrow());
                String id = api.submitOk("{\"prompt\":\"a paper boat on a pond\",\"aspect_ratio\":\"3:4\"}");
                JsonNode status = api.awaitCompleted(id);
                assertThat(status.has("error")).as(status.toString()).isFalse();
                JsonNode image = api.getOk(Api.responsePath(id)).json().get("images").get(0);
                assertThat(image.get("width").asInt()).isEqualTo(864);
                assertThat(image.get("height").asInt()).isEqualTo(1184);
                HttpResponse<byte[]> file = api.download(image.get("url").asText());
                assertThat(file.statusCode()).isEqualTo(200);
                assertThat(file.body().length).isEqualTo(image.get("file_size").asInt());
                assertThat(status.toString()).contains("with " + provider).doesNotContain(key);
            }
        } finally {
            emulator.destroy();
            emulator.waitFor(10, TimeUnit.SECONDS);
            ServerProcess.deleteTree(data);
        }
    }
}
