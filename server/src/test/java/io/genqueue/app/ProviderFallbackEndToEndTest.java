package io.genqueue.app;

import static io.genqueue.app.TestServer.responsePath;
import static io.genqueue.app.TestServer.statusPath;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.emulator.gemini.GeminiEmulator;
import io.genqueue.emulator.openrouter.OpenRouterEmulator;
import java.time.Clock;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Providers configured only by settings, as an operator would: Gemini first with a key the Gemini
 * emulator refuses, OpenRouter second. Requests fall back and succeed; the job's log says why; the
 * models route shows both providers; no key appears in any answer.
 */
class ProviderFallbackEndToEndTest {

    static final String WRONG_GEMINI_KEY = "AIzaSy-wrong-key-for-the-test";
    static final String OPENROUTER_KEY = "sk-or-v1-fallback-test";
    static GeminiEmulator gemini;
    static OpenRouterEmulator openrouter;
    static TestServer server;

    @BeforeAll
    static void start() {
        gemini = GeminiEmulator.start("127.0.0.1", 0, "AIzaSy-the-right-key");
        openrouter = OpenRouterEmulator.start("127.0.0.1", 0, OPENROUTER_KEY);
        server = TestServer.start(Map.of(
                "GENQUEUE_PROVIDERS", "gemini,openrouter",
                "GEMINI_API_KEY", WRONG_GEMINI_KEY,
                "OPENROUTER_API_KEY", OPENROUTER_KEY,
                "GENQUEUE_GEMINI_BASE_URL", gemini.baseUrl().toString(),
                "GENQUEUE_OPENROUTER_BASE_URL", openrouter.baseUrl(),
                "GENQUEUE_PROVIDER_TIMEOUT", "20s"), Clock.systemUTC(), TestServer.CONFIGURED);
    }

    @AfterAll
    static void stop() {
        server.close();
        openrouter.close();
        gemini.close();
    }

    @Test
    void a_refused_key_falls_back_to_the_next_provider_and_the_log_says_so() {
        String id = server.submitOk("{\"prompt\":\"a red kite over the sea\",\"aspect_ratio\":\"16:9\"}");
        server.awaitCompleted(id);

        TestServer.Response result = server.get(responsePath(id));
        assertThat(result.status()).as(result.body()).isEqualTo(200);
        JsonNode image = result.json().get("images").get(0);
        assertThat(image.get("width").asInt()).isEqualTo(1344);
        assertThat(image.get("height").asInt()).isEqualTo(768);
        assertThat(gemini.calls()).isPositive();
        assertThat(openrouter.calls()).isPositive();

        String logs = server.get(statusPath(id) + "?logs=1").json().get("logs").toString();
        assertThat(logs).contains("gemini: ").contains("falling back to openrouter").contains("with openrouter");
        assertThat(logs).doesNotContain(WRONG_GEMINI_KEY).doesNotContain(OPENROUTER_KEY);
    }

    @Test
    void the_models_route_lists_both_providers_in_order() {
        JsonNode providers = server.get("/v1/models").json().get("models").get(0).get("providers");
        assertThat(providers).hasSize(2);
        assertThat(providers.get(0).get("name").asText()).isEqualTo("gemini");
        assertThat(providers.get(1).get("name").asText()).isEqualTo("openrouter");
        assertThat(providers.toString()).doesNotContain(WRONG_GEMINI_KEY).doesNotContain(OPENROUTER_KEY);
    }
}
