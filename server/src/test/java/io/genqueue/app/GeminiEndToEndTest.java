package io.genqueue.app;

import static io.genqueue.app.TestServer.responsePath;
import static io.genqueue.app.TestServer.statusPath;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.emulator.gemini.GeminiEmulator;
import io.genqueue.provider.ProviderSettings;
import io.genqueue.provider.gemini.GeminiProvider;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The whole service with the Gemini provider against the Gemini emulator: a client's request
 * travels through the queue, the adapter and real sockets to the emulator, and the client gets
 * the emulator's images and text, or its refusal, through the queue API.
 */
class GeminiEndToEndTest {

    static final String KEY = "AIzaSyEndToEnd";
    static GeminiEmulator emulator;
    static TestServer server;

    @BeforeAll
    static void start() {
        emulator = GeminiEmulator.start("127.0.0.1", 0, KEY);
        GeminiProvider gemini = new GeminiProvider(new ProviderSettings(emulator.baseUrl(), KEY, GeminiProvider.DEFAULT_MODEL,
                Duration.ofSeconds(2), Duration.ofSeconds(20)));
        server = TestServer.start(Map.of("GENQUEUE_MAX_ATTEMPTS", "2", "GENQUEUE_RETRY_BASE", "10ms",
                "GENQUEUE_RETRY_MAX", "20ms"), Clock.systemUTC(), gemini);
    }

    @AfterAll
    static void stop() {
        server.close();
        emulator.close();
    }

    @Test
    void a_request_comes_back_with_the_emulators_images_and_text() throws Exception {
        String id = server.submitOk("{\"prompt\":\"a lighthouse in a storm e2e-ok\",\"aspect_ratio\":\"4:3\",\"num_images\":2}");
        server.awaitCompleted(id);

        TestServer.Response result = server.get(responsePath(id));
        assertThat(result.status()).isEqualTo(200);
        List<GeminiEmulator.Exchange> calls = emulator.requests().stream()
                .filter(e -> e.body().contains("e2e-ok")).toList();
        assertThat(calls).hasSize(2);
        JsonNode images = result.json().get("images");
        assertThat(images).hasSize(2);
        for (int i = 0; i < 2; i++) {
            JsonNode image = images.get(i);
            assertThat(image.get("content_type").asText()).isEqualTo("image/png");
            assertThat(image.get("width").asInt()).isEqualTo(1184);
            assertThat(image.get("height").asInt()).isEqualTo(864);
            HttpResponse<byte[]> file = server.client.send(HttpRequest.newBuilder(URI.create(image.get("url").asText())).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(file.statusCode()).isEqualTo(200);
            assertThat(file.headers().firstValue("Content-Type")).contains("image/png");
            assertThat(file.body()).isEqualTo(calls.get(i).images().get(0));
        }
        String text = "Here is your image of \"a lighthouse in a storm e2e-ok\", at 4:3.";
        assertThat(result.json().get("description").asText()).isEqualTo(text + "\n\n" + text);
        assertThat(calls.get(0).json().at("/generationConfig/imageConfig/aspectRatio").asText()).isEqualTo("4:3");
    }

    @Test
    void a_blocked_prompt_fails_as_a_content_policy_violation_without_a_retry() {
        String id = server.submitOk("{\"prompt\":\"[emulate:prompt_blocked] something forbidden e2e-blocked\"}");
        JsonNode status = server.awaitCompleted(id);

        assertThat(status.get("error_type").asText()).isEqualTo("content_policy_violation");
        assertThat(status.get("error").asText()).contains("gemini").contains("PROHIBITED_CONTENT").doesNotContain(KEY);
        TestServer.Response result = server.get(responsePath(id));
        assertThat(result.status()).isEqualTo(422);
        assertThat(result.json().at("/detail/0/type").asText()).isEqualTo("content_policy_violation");
        assertThat(emulator.requests().stream().filter(e -> e.body().contains("e2e-blocked"))).hasSize(1);
        assertThat(server.get(statusPath(id)).status()).isEqualTo(200);
    }

    @Test
    void an_overloaded_model_is_retried_then_fails_as_unavailable() {
        String id = server.submitOk("{\"prompt\":\"[emulate:overloaded] a busy day e2e-busy\"}");
        JsonNode status = server.awaitCompleted(id);

        assertThat(status.get("error_type").asText()).isEqualTo("provider_unavailable");
        assertThat(status.get("error").asText()).contains("503 UNAVAILABLE").contains("gave up after 2 attempts");
        assertThat(server.get(responsePath(id)).status()).isEqualTo(503);
        assertThat(emulator.requests().stream().filter(e -> e.body().contains("e2e-busy"))).hasSize(2);
    }
}
