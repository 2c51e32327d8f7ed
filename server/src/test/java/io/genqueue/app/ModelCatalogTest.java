package io.genqueue.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.emulator.gemini.GeminiEmulator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The catalog through the API: each model's own rules at submit (its 422 messages), its own sizes in
 * the images it makes (the preview renderer, and Gemini's emulator for the pro model's tiers), its
 * record at {@code /v1/models/{model}}, and the settings that choose and extend the models.
 */
class ModelCatalogTest {

    static TestServer server;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        server = TestServer.start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static JsonNode image(String model, String body) {
        String id = server.submitOk(model, body);
        JsonNode status = server.awaitCompleted(model, id);
        assertThat(status.has("error")).as("%s", status).isFalse();
        return server.get("/v1/queue/" + model + "/requests/" + id + "/response").json().at("/images/0");
    }

    @Test
    void each_pro_tier_renders_at_its_own_size_and_nano_banana_keeps_its_table() {
        JsonNode twoK = image("nano_banana_pro", "{\"prompt\":\"a harbour\",\"aspect_ratio\":\"16:9\",\"image_size\":\"2K\"}");
        assertThat(List.of(twoK.get("width").asInt(), twoK.get("height").asInt())).containsExactly(2752, 1536);
        JsonNode fourK = image("nano_banana_pro", "{\"prompt\":\"a 4K preview is 4K\",\"aspect_ratio\":\"9:16\",\"image_size\":\"4K\","
                + "\"output_format\":\"jpeg\"}");
        assertThat(List.of(fourK.get("width").asInt(), fourK.get("height").asInt())).containsExactly(3072, 5504);
        JsonNode byDefault = image("nano_banana_pro", "{\"prompt\":\"the default tier\",\"aspect_ratio\":\"21:9\"}");
        assertThat(List.of(byDefault.get("width").asInt(), byDefault.get("height").asInt())).containsExactly(1584, 672);
        JsonNode byResolution = image("nano_banana_pro", "{\"prompt\":\"named by its size\",\"resolution\":\"1696x2528\"}");
        assertThat(List.of(byResolution.get("width").asInt(), byResolution.get("height").asInt())).containsExactly(1696, 2528);
        JsonNode flash = image("nano_banana", "{\"prompt\":\"the seed's size\",\"aspect_ratio\":\"21:9\",\"image_size\":\"1K\"}");
        assertThat(List.of(flash.get("width").asInt(), flash.get("height").asInt())).containsExactly(1536, 672);
    }

    @Test
    void each_model_refuses_by_its_own_rules() {
        TestServer.Response pro = server.submitTo("/v1/queue/nano_banana_pro",
                "{\"prompt\":\"x\",\"image_size\":\"8K\",\"aspect_ratio\":\"16:9\",\"resolution\":\"2048x2048\",\"num_images\":5}");
        assertThat(pro.status()).isEqualTo(422);
        assertThat(messages(pro)).containsExactlyInAnyOrder(
                "image_size: Input should be '1K', '2K' or '4K'",
                "resolution: resolution 2048x2048 does not match aspect_ratio 16:9 (which is 2752x1536)",
                "num_images: Input should be between 1 and 4");

        TestServer.Response tier = server.submitTo("/v1/queue/nano_banana_pro",
                "{\"prompt\":\"x\",\"image_size\":\"4K\",\"resolution\":\"2048x2048\"}");
        assertThat(messages(tier)).containsExactly("resolution: resolution 2048x2048 does not match image_size 4K (it is 2K)");

        TestServer.Response flash = server.submit("{\"prompt\":\"x\",\"image_size\":\"2K\",\"resolution\":\"2048x2048\"}");
        assertThat(flash.status()).isEqualTo(422);
        assertThat(messages(flash)).hasSize(2).contains("image_size: Input should be '1K'")
                .anyMatch(m -> m.startsWith("resolution: Input should be '1024x1024', '832x1248'"));

        String fifteen = urls(15);
        assertThat(messages(server.submitTo("/v1/queue/nano_banana_pro", "{\"prompt\":\"x\",\"image_urls\":" + fifteen + "}")))
                .containsExactly("image_urls: List should have at most 14 items (it has 15)");
        assertThat(server.submitTo("/v1/queue/nano_banana_pro", "{\"prompt\":\"x\",\"image_urls\":" + urls(14) + "}").status())
                .isEqualTo(200);
        assertThat(messages(server.submit("{\"prompt\":\"x\",\"image_urls\":" + urls(4) + "}")))
                .containsExactly("image_urls: List should have at most 3 items (it has 4)");
    }

    @Test
    void the_models_route_shows_each_record_and_one_model_by_id() {
        JsonNode all = server.getWithoutKey("/v1/models").json().get("models");
        assertThat(all.findValuesAsText("id")).contains("nano_banana", "nano_banana_pro");

        TestServer.Response one = server.getWithoutKey("/v1/models/nano_banana_pro");
        assertThat(one.status()).isEqualTo(200);
        JsonNode pro = one.json();
        assertThat(pro.get("image_sizes").toString()).isEqualTo("[\"1K\",\"2K\",\"4K\"]");
        assertThat(pro.get("max_reference_images").asInt()).isEqualTo(14);
        assertThat(pro.get("output_sizes")).hasSize(30);
        assertThat(pro.get("price_per_image").decimalValue()).isEqualByComparingTo("0.134");
        assertThat(pro.at("/parameters/properties/image_size/enum").toString()).isEqualTo("[\"1K\",\"2K\",\"4K\"]");
        assertThat(pro.at("/parameters/properties/image_urls/maxItems").asInt()).isEqualTo(14);
        assertThat(pro.at("/parameters/required/0").asText()).isEqualTo("prompt");
        assertThat(pro.at("/aspect_ratios/8/aspect_ratio").asText()).isEqualTo("16:9");
        assertThat(pro.at("/aspect_ratios/8/resolution").asText()).isEqualTo("1376x768");
        assertThat(pro.at("/providers/0/name").asText()).isEqualTo("preview");

        JsonNode flash = server.getWithoutKey("/v1/models/nano_banana").json();
        assertThat(flash.at("/parameters/properties/image_size/enum").toString()).isEqualTo("[\"1K\"]");
        assertThat(flash.at("/parameters/properties/image_urls/maxItems").asInt()).isEqualTo(3);

        TestServer.Response unknown = server.getWithoutKey("/v1/models/flux");
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.json().get("detail").asText()).isEqualTo("Unknown model: flux");
    }

    @Test
    void pro_on_gemini_sends_its_tier_and_gets_googles_size_while_nano_banana_sends_none() {
        String key = "AIzaSyCatalog";
        try (GeminiEmulator gemini = GeminiEmulator.start("127.0.0.1", 0, key);
                TestServer configured = TestServer.start(Map.of("GEMINI_API_KEY", key, "GENQUEUE_GEMINI_BASE_URL",
                        gemini.baseUrl().toString()), Clock.systemUTC(), TestServer.CONFIGURED)) {
            String pro = configured.submitOk("nano_banana_pro", "{\"prompt\":\"catalog-pro\",\"aspect_ratio\":\"4:3\",\"image_size\":\"2K\"}");
            String flash = configured.submitOk("nano_banana", "{\"prompt\":\"catalog-flash\",\"aspect_ratio\":\"4:3\"}");
            configured.awaitCompleted("nano_banana_pro", pro);
            configured.awaitCompleted(flash);

            JsonNode proImage = configured.get("/v1/queue/nano_banana_pro/requests/" + pro + "/response").json().at("/images/0");
            assertThat(List.of(proImage.get("width").asInt(), proImage.get("height").asInt())).containsExactly(2400, 1792);
            GeminiEmulator.Exchange proCall = gemini.requests().stream().filter(e -> e.body().contains("catalog-pro")).findFirst()
                    .orElseThrow();
            assertThat(proCall.target()).contains("/models/gemini-3-pro-image-preview:generateContent");
            assertThat(proCall.json().at("/generationConfig/imageConfig/imageSize").asText()).isEqualTo("2K");

            JsonNode flashImage = configured.get(TestServer.responsePath(flash)).json().at("/images/0");
            assertThat(List.of(flashImage.get("width").asInt(), flashImage.get("height").asInt())).containsExactly(1184, 864);
            GeminiEmulator.Exchange flashCall = gemini.requests().stream().filter(e -> e.body().contains("catalog-flash")).findFirst()
                    .orElseThrow();
            assertThat(flashCall.target()).contains("/models/gemini-2.5-flash-image:generateContent");
            assertThat(flashCall.json().at("/generationConfig/imageConfig").has("imageSize")).isFalse();

            JsonNode providers = configured.getWithoutKey("/v1/models/nano_banana_pro").json().get("providers");
            assertThat(providers.get(0).get("name").asText()).isEqualTo("gemini");
            assertThat(providers.get(0).get("upstream_model").asText()).isEqualTo("gemini-3-pro-image-preview");
        }
    }

    @Test
    void the_served_models_are_a_setting_and_a_catalog_file_adds_one() throws Exception {
        Path file = dir.resolve("catalog.json");
        Files.writeString(file, "{\"models\": [" + square("\"max_reference_images\": 1") + "]}");
        try (TestServer only = TestServer.start(Map.of("GENQUEUE_CATALOG", file.toString(), "GENQUEUE_MODELS", "square_only,nano_banana_pro"))) {
            assertThat(only.submit("{\"prompt\":\"x\"}").status()).isEqualTo(404); // nano_banana is not served
            String id = only.submitOk("square_only", "{\"prompt\":\"a square\"}");
            only.awaitCompleted("square_only", id);
            JsonNode image = only.get("/v1/queue/square_only/requests/" + id + "/response").json().at("/images/0");
            assertThat(List.of(image.get("width").asInt(), image.get("height").asInt())).containsExactly(640, 640);
            assertThat(messages(only.submitTo("/v1/queue/square_only", "{\"prompt\":\"x\",\"aspect_ratio\":\"16:9\"}")))
                    .containsExactly("aspect_ratio: Input should be '1:1'");
            assertThat(only.getWithoutKey("/v1/models").json().get("models").findValuesAsText("id"))
                    .containsExactly("nano_banana_pro", "square_only");
        }
    }

    @Test
    void a_bad_catalog_file_stops_the_start_naming_the_model_and_the_field() throws Exception {
        Path file = dir.resolve("bad.json");
        Files.writeString(file, "{\"models\": [" + square("\"max_reference_images\": -1").replace("square_only", "broken") + "]}");
        assertThatThrownBy(() -> Settings.load(Map.of(), null, Map.of("GENQUEUE_CATALOG", file.toString())))
                .isInstanceOf(Settings.InvalidSettings.class)
                .hasMessageContaining("model 'broken': field 'max_reference_images': should be a whole number from 0 to 64");
        assertThatThrownBy(() -> Settings.load(Map.of(), null, Map.of("GENQUEUE_MODELS", "nano_banana,flux")))
                .hasMessageContaining("GENQUEUE_MODELS: names flux, which no catalog has");
    }

    /** A catalog entry of a model that makes 640x640 squares on Gemini, with its reference image limit given. */
    private static String square(String maxReferences) {
        return "{\"id\": \"square_only\", \"description\": \"squares\", \"source\": \"this test\", "
                + "\"fields\": [\"prompt\", \"aspect_ratio\", \"image_urls\"], \"aspect_ratios\": [\"1:1\"], "
                + "\"image_sizes\": [\"1K\"], \"sizes\": {\"1K\": {\"1:1\": \"640x640\"}}, " + maxReferences + ", "
                + "\"num_images\": {\"min\": 1, \"max\": 1}, \"output_formats\": [\"png\"], "
                + "\"providers\": [{\"provider\": \"gemini\", \"model\": \"gemini-square\"}], \"slot_share\": 1, "
                + "\"price_per_image\": 0.02}";
    }

    private static List<String> messages(TestServer.Response r) {
        assertThat(r.status()).as(r.body()).isEqualTo(422);
        List<String> out = new ArrayList<>();
        for (JsonNode d : r.json().get("detail")) {
            out.add(d.at("/loc/1").asText() + ": " + d.get("msg").asText());
        }
        return out;
    }

    private static String urls(int n) {
        List<String> urls = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            urls.add("\"https://images.example.com/" + i + ".png\"");
        }
        return "[" + String.join(",", urls) + "]";
    }
}
