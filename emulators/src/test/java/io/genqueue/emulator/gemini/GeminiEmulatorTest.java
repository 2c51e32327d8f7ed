package io.genqueue.emulator.gemini;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.json.Json;
import io.genqueue.testing.TestImages;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Base64;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The emulator's own contract, with raw HTTP requests: it refuses what the real API refuses, in
 * Google's error envelope, accepts both field spellings, and answers in camelCase with images of
 * the model's sizes.
 */
class GeminiEmulatorTest {

    static final String KEY = "AIzaSyEmulatorTest";
    static final String PATH = "/v1beta/models/gemini-2.5-flash-image:generateContent";
    static GeminiEmulator emulator;
    static final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() {
        emulator = GeminiEmulator.start("127.0.0.1", 0, KEY);
    }

    @AfterAll
    static void stop() {
        emulator.close();
    }

    record Answer(int status, JsonNode json) {
        String message() {
            return json.at("/error/message").asText();
        }

        String rpcStatus() {
            return json.at("/error/status").asText();
        }
    }

    static Answer post(String path, String body, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(emulator.baseUrl() + path))
                .timeout(Duration.ofSeconds(20))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        HttpResponse<byte[]> r = client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
        return new Answer(r.statusCode(), Json.parse(r.body()));
    }

    static Answer post(String body) throws IOException, InterruptedException {
        return post(PATH, body, "x-goog-api-key", KEY);
    }

    static String prompt(String text) {
        return "{\"contents\":[{\"parts\":[{\"text\":\"" + text + "\"}]}]}";
    }

    static String inline(String mime, byte[] bytes) {
        return "{\"inline_data\":{\"mime_type\":\"" + mime + "\",\"data\":\"" + Base64.getEncoder().encodeToString(bytes)
                + "\"}}";
    }

    static void assertInvalid(Answer a, String messagePart) {
        assertThat(a.status()).isEqualTo(400);
        assertThat(a.rpcStatus()).isEqualTo("INVALID_ARGUMENT");
        assertThat(a.json().at("/error/code").asInt()).isEqualTo(400);
        assertThat(a.message()).contains(messagePart);
    }

    @Test
    void a_plain_prompt_gets_text_and_a_1024_square_png_in_camel_case_with_usage() throws Exception {
        Answer a = post(prompt("a red apple"));

        assertThat(a.status()).isEqualTo(200);
        JsonNode parts = a.json().at("/candidates/0/content/parts");
        assertThat(parts.get(0).get("text").asText()).contains("a red apple");
        JsonNode image = parts.get(1).get("inlineData");
        assertThat(image.get("mimeType").asText()).isEqualTo("image/png");
        var decoded = TestImages.decode(Base64.getDecoder().decode(image.get("data").asText()));
        assertThat(decoded.getWidth()).isEqualTo(1024);
        assertThat(decoded.getHeight()).isEqualTo(1024);
        assertThat(a.json().at("/candidates/0/finishReason").asText()).isEqualTo("STOP");
        assertThat(a.json().at("/candidates/0/content/role").asText()).isEqualTo("model");
        JsonNode usage = a.json().get("usageMetadata");
        JsonNode imageTokens = usage.get("candidatesTokensDetails").get(1);
        assertThat(imageTokens.get("modality").asText()).isEqualTo("IMAGE");
        assertThat(imageTokens.get("tokenCount").asInt()).isEqualTo(1290);
        assertThat(usage.get("totalTokenCount").asInt())
                .isEqualTo(usage.get("promptTokenCount").asInt() + usage.get("candidatesTokenCount").asInt());
        assertThat(a.json().get("modelVersion").asText()).isEqualTo("gemini-2.5-flash-image");
        assertThat(a.json().toString()).doesNotContain("inline_data", "mime_type", "finish_reason", "usage_metadata");
    }

    @Test
    void snake_case_and_camel_case_requests_are_both_accepted() throws Exception {
        byte[] png = TestImages.encode(40, 30, "png");
        String snake = "{\"contents\":[{\"role\":\"user\",\"parts\":[" + inline("image/png", png) + ",{\"text\":\"a\"}]}],"
                + "\"generation_config\":{\"response_modalities\":[\"Image\"],\"image_config\":{\"aspect_ratio\":\"3:2\"}}}";
        String camel = "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\""
                + Base64.getEncoder().encodeToString(png) + "\"}},{\"text\":\"a\"}]}],"
                + "\"generationConfig\":{\"responseModalities\":[\"IMAGE\"],\"imageConfig\":{\"aspectRatio\":\"3:2\"}}}";

        for (String body : new String[] {snake, camel}) {
            Answer a = post(body);
            assertThat(a.status()).isEqualTo(200);
            JsonNode parts = a.json().at("/candidates/0/content/parts");
            assertThat(parts).hasSize(1); // image only, as asked
            var image = TestImages.decode(Base64.getDecoder().decode(parts.get(0).at("/inlineData/data").asText()));
            assertThat(image.getWidth()).isEqualTo(1248);
            assertThat(image.getHeight()).isEqualTo(832);
        }
    }

    @Test
    void without_an_aspect_ratio_the_first_input_images_shape_is_snapped() throws Exception {
        String body = "{\"contents\":[{\"parts\":[" + inline("image/jpeg", TestImages.encode(90, 200, "jpeg")) + ","
                + inline("image/png", TestImages.encode(200, 90, "png")) + ",{\"text\":\"tall\"}]}]}";

        Answer a = post(body);

        var image = TestImages.decode(Base64.getDecoder().decode(a.json().at("/candidates/0/content/parts/1/inlineData/data")
                .asText()));
        assertThat(image.getWidth()).isEqualTo(768); // 90:200 is nearest to 9:16
        assertThat(image.getHeight()).isEqualTo(1344);
    }

    @Test
    void unknown_fields_are_refused_with_googles_wording() throws Exception {
        assertInvalid(post("{\"contents\":[{\"parts\":[{\"text\":\"a\"}]}],\"size\":\"1024x1024\"}"),
                "Invalid JSON payload received. Unknown name \"size\": Cannot find field.");
        Answer nested = post("{\"contents\":[{\"parts\":[{\"text\":\"a\"}]}],"
                + "\"generationConfig\":{\"imageConfig\":{\"aspectRatio\":\"1:1\",\"n\":2}}}");
        assertInvalid(nested, "Unknown name \"n\" at 'generation_config.image_config': Cannot find field.");
        JsonNode violation = nested.json().at("/error/details/0");
        assertThat(violation.get("@type").asText()).isEqualTo("type.googleapis.com/google.rpc.BadRequest");
        assertThat(violation.at("/fieldViolations/0/field").asText()).isEqualTo("generation_config.image_config");
        assertInvalid(post("{\"contents\":[{\"parts\":[{\"text\":\"a\"}]}],"
                + "\"generationConfig\":{\"imageConfig\":{\"outputMimeType\":\"image/jpeg\"}}}"), "Unknown name \"outputMimeType\"");
    }

    static Stream<Arguments> malformed() {
        return Stream.of(
                Arguments.of("wrong type of text", "{\"contents\":[{\"parts\":[{\"text\":5}]}]}",
                        "Invalid value at 'contents[0].parts[0].text' (TYPE_STRING), 5"),
                Arguments.of("no contents", "{}",
                        "contents is not specified"),
                Arguments.of("empty parts", "{\"contents\":[{\"parts\":[]}]}",
                        "contents.parts must not be empty"),
                Arguments.of("part without data", "{\"contents\":[{\"parts\":[{}]}]}",
                        "required oneof field 'data'"),
                Arguments.of("not JSON", "{\"contents\":",
                        "Invalid JSON payload received."),
                Arguments.of("bad aspect ratio", "{\"contents\":[{\"parts\":[{\"text\":\"a\"}]}],\"generationConfig\":{\"imageConfig\":{\"aspectRatio\":\"7:3\"}}}",
                        "Unsupported aspect ratio: 7:3"),
                Arguments.of("text-only modality", "{\"contents\":[{\"parts\":[{\"text\":\"a\"}]}],\"generationConfig\":{\"responseModalities\":[\"TEXT\"]}}",
                        "does not support the requested response modalities"),
                Arguments.of("unknown modality", "{\"contents\":[{\"parts\":[{\"text\":\"a\"}]}],\"generationConfig\":{\"responseModalities\":[\"VIDEO\"]}}",
                        "Invalid value at 'generation_config.response_modalities[0]'"),
                Arguments.of("two candidates", "{\"contents\":[{\"parts\":[{\"text\":\"a\"}]}],\"generationConfig\":{\"candidateCount\":2}}",
                        "Multiple candidates is not enabled"),
                Arguments.of("both spellings at once", "{\"contents\":[{\"parts\":[{\"text\":\"a\"}]}],\"generationConfig\":{},\"generation_config\":{}}",
                        "Multiple values for field \"generation_config\""),
                Arguments.of("bad base64", "{\"contents\":[{\"parts\":[{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"%%%\"}}]}]}",
                        "Base64 decoding failed"),
                Arguments.of("bytes that are no image", "{\"contents\":[{\"parts\":[{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"aGVsbG8=\"}}]}]}",
                        "Provided image is not valid."));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void malformed_requests_are_400_invalid_argument(String what, String body, String message) throws Exception {
        assertInvalid(post(body), message);
    }

    @Test
    void unsupported_mime_types_and_a_fourth_image_are_refused() throws Exception {
        byte[] gif = TestImages.encode(10, 10, "gif");
        assertInvalid(post("{\"contents\":[{\"parts\":[" + inline("image/gif", gif) + ",{\"text\":\"a\"}]}]}"),
                "Unsupported MIME type: image/gif");

        String png = inline("image/png", TestImages.encode(10, 10, "png"));
        assertInvalid(post("{\"contents\":[{\"parts\":[" + png + "," + png + "," + png + "," + png + ",{\"text\":\"a\"}]}]}"),
                "at most 3 images");
        assertThat(post("{\"contents\":[{\"parts\":[" + png + "," + png + "," + png + ",{\"text\":\"a\"}]}]}").status())
                .isEqualTo(200);
    }

    @Test
    void keys_are_checked_like_the_real_api() throws Exception {
        Answer none = post(PATH, prompt("a"));
        assertThat(none.status()).isEqualTo(403);
        assertThat(none.rpcStatus()).isEqualTo("PERMISSION_DENIED");

        Answer wrong = post(PATH, prompt("a"), "x-goog-api-key", "AIzaSyNotTheKey");
        assertInvalid(wrong, "API key not valid");
        assertThat(wrong.json().at("/error/details/0/reason").asText()).isEqualTo("API_KEY_INVALID");
        assertThat(wrong.json().toString()).doesNotContain("AIzaSyNotTheKey");

        assertThat(post(PATH + "?key=" + KEY, prompt("a")).status()).isEqualTo(200);
    }

    @Test
    void an_unknown_model_or_path_is_404() throws Exception {
        Answer model = post("/v1beta/models/gemini-2.5-flash-image-preview:generateContent", prompt("a"), "x-goog-api-key", KEY);
        assertThat(model.status()).isEqualTo(404);
        assertThat(model.rpcStatus()).isEqualTo("NOT_FOUND");
        assertThat(model.message()).contains("models/gemini-2.5-flash-image-preview is not found");

        assertThat(post("/v1/other", prompt("a"), "x-goog-api-key", KEY).status()).isEqualTo(404);
    }

    @Test
    void the_scenario_header_picks_the_answer_and_an_unknown_scenario_is_named() throws Exception {
        Answer overloaded = post(PATH, prompt("a"), "x-goog-api-key", KEY, "X-Emulator-Scenario", "overloaded");
        assertThat(overloaded.status()).isEqualTo(503);
        assertThat(overloaded.rpcStatus()).isEqualTo("UNAVAILABLE");
        assertThat(emulator.lastRequest().scenario()).isEqualTo("overloaded");

        Answer limited = post(prompt("[emulate:rate_limit] a"));
        assertThat(limited.status()).isEqualTo(429);
        JsonNode retry = limited.json().at("/error/details/2");
        assertThat(retry.get("@type").asText()).isEqualTo("type.googleapis.com/google.rpc.RetryInfo");
        assertThat(retry.get("retryDelay").asText()).isEqualTo("7.5s");

        Answer blocked = post(prompt("[emulate:prompt_blocked] a"));
        assertThat(blocked.status()).isEqualTo(200);
        assertThat(blocked.json().has("candidates")).isFalse();
        assertThat(blocked.json().at("/promptFeedback/blockReason").asText()).isEqualTo("PROHIBITED_CONTENT");

        assertInvalid(post(PATH, prompt("a"), "x-goog-api-key", KEY, "X-Emulator-Scenario", "nonsense"),
                "Unknown emulator scenario \"nonsense\"");
    }
}
