package io.genqueue.emulator.openrouter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genqueue.emulator.EmulatorImages;
import io.genqueue.emulator.Scenarios;
import io.genqueue.image.ImageData;
import io.genqueue.image.ImageProbe;
import io.genqueue.image.OutputFormat;
import io.genqueue.json.Json;
import io.genqueue.testing.TestImages;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Base64;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The emulator's own checks, with raw requests: it must refuse what the real API refuses. */
class OpenRouterEmulatorTest {

    /** The model genqueue asks OpenRouter for (OpenRouterProvider.DEFAULT_MODEL in the server). */
    private static final String MODEL = "google/gemini-2.5-flash-image";

    private static final String KEY = "sk-or-v1-emulator-test";
    private static final String PNG = dataUrl("image/png", EmulatorImages.render(30, 20, "ref", 0, OutputFormat.PNG));

    private static OpenRouterEmulator emulator;
    private static HttpClient client;

    @BeforeAll
    static void start() {
        emulator = OpenRouterEmulator.start("127.0.0.1", 0, KEY);
        client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    }

    @AfterAll
    static void stop() {
        emulator.close();
        client.close();
    }

    @Test
    void answers_a_valid_request_in_the_openrouter_shape() throws Exception {
        HttpResponse<String> response = post(body(b -> { }), "Bearer " + KEY, null);

        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode answer = Json.parse(response.body().getBytes());
        assertThat(answer.path("id").asText()).startsWith("gen-");
        assertThat(answer.path("model").asText()).isEqualTo(MODEL);
        JsonNode choice = answer.path("choices").path(0);
        assertThat(choice.path("finish_reason").asText()).isEqualTo("stop");
        assertThat(choice.path("message").path("content").asText()).isNotEmpty();
        String url = choice.path("message").path("images").path(0).path("image_url").path("url").asText();
        assertThat(url).startsWith("data:image/png;base64,");
        ImageData image = ImageProbe.verify(Base64.getDecoder().decode(url.substring(url.indexOf(',') + 1)), 10_000_000);
        assertThat(image.info().width()).isEqualTo(1248); // 3:2
        assertThat(image.info().height()).isEqualTo(832);
        assertThat(answer.path("usage").path("completion_tokens_details").path("image_tokens").asInt()).isEqualTo(1290);
    }

    @Test
    void without_a_ratio_the_first_image_shape_sets_the_size() throws Exception {
        String wide = dataUrl("image/png", EmulatorImages.render(160, 90, "wide", 0, OutputFormat.PNG));
        HttpResponse<String> response = post(body(b -> {
            b.remove("image_config");
            content(b).addObject().put("type", "image_url").putObject("image_url").put("url", wide);
        }), "Bearer " + KEY, null);

        assertThat(response.statusCode()).isEqualTo(200);
        String url = Json.parse(response.body().getBytes())
                .path("choices").path(0).path("message").path("images").path(0).path("image_url").path("url").asText();
        ImageData image = ImageProbe.verify(Base64.getDecoder().decode(url.substring(url.indexOf(',') + 1)), 10_000_000);
        assertThat(image.info().width()).isEqualTo(1344); // 16:9
        assertThat(image.info().height()).isEqualTo(768);
    }

    @Test
    void refuses_a_missing_or_wrong_key() throws Exception {
        assertError(post(body(b -> { }), null, null), 401, "No auth credentials found");
        assertError(post(body(b -> { }), "Bearer sk-or-v1-wrong", null), 401, "User not found.");
        assertError(post(body(b -> { }), KEY, null), 401, "No auth credentials found"); // no "Bearer"
    }

    @Test
    void refuses_malformed_json() throws Exception {
        assertError(post("{\"model\": ", "Bearer " + KEY, null), 400, "Invalid JSON");
        assertError(post("[1,2]", "Bearer " + KEY, null), 400, "must be a JSON object");
    }

    @Test
    void refuses_unknown_and_retired_models() throws Exception {
        assertError(post(body(b -> b.put("model", "google/gemini-9-imaginary")), "Bearer " + KEY, null),
                400, "google/gemini-9-imaginary is not a valid model ID");
        assertError(post(body(b -> b.put("model", "google/gemini-2.5-flash-image-preview")), "Bearer " + KEY, null),
                404, "No endpoints found for google/gemini-2.5-flash-image-preview");
    }

    @Test
    void refuses_more_than_three_images() throws Exception {
        HttpResponse<String> response = post(body(b -> {
            for (int i = 0; i < 4; i++) {
                content(b).addObject().put("type", "image_url").putObject("image_url").put("url", PNG);
            }
        }), "Bearer " + KEY, null);

        assertError(response, 400, "at most 3 images");
    }

    @Test
    void refuses_unsupported_or_mislabelled_images_and_plain_urls() throws Exception {
        byte[] gif = TestImages.gif(8, 8);
        assertError(post(withImage(dataUrl("image/gif", gif)), "Bearer " + KEY, null), 400, "unsupported image type image/gif");
        byte[] jpeg = EmulatorImages.render(8, 8, "j", 0, OutputFormat.JPEG);
        assertError(post(withImage(dataUrl("image/png", jpeg)), "Bearer " + KEY, null), 400,
                "declared image/png but the data is image/jpeg");
        assertError(post(withImage("data:image/png;base64,bm90IGFuIGltYWdl"), "Bearer " + KEY, null), 400, "image 0");
        assertError(post(withImage("https://example.com/cat.png"), "Bearer " + KEY, null), 400, "data: URLs");
    }

    @Test
    void refuses_bad_modalities_ratios_and_streaming() throws Exception {
        assertError(post(body(b -> b.putArray("modalities").add("image")), "Bearer " + KEY, null), 400, "modalities");
        assertError(post(body(b -> b.remove("modalities")), "Bearer " + KEY, null), 400, "modalities");
        assertError(post(body(b -> b.putObject("image_config").put("aspect_ratio", "7:5")), "Bearer " + KEY, null),
                400, "aspect_ratio must be one of 1:1");
        assertError(post(body(b -> b.put("stream", true)), "Bearer " + KEY, null), 400, "stream");
        assertError(post(body(b -> b.put("seed", "abc")), "Bearer " + KEY, null), 400, "seed");
        assertError(post(body(b -> b.putArray("messages")), "Bearer " + KEY, null), 400, "messages");
    }

    @Test
    void accepts_camel_case_image_config() throws Exception {
        HttpResponse<String> response = post(body(b -> {
            b.remove("image_config");
            b.putObject("imageConfig").put("aspectRatio", "1:1");
        }), "Bearer " + KEY, null);

        assertThat(response.statusCode()).isEqualTo(200);
    }

    @Test
    void answers_other_paths_and_methods_like_the_real_api() throws Exception {
        HttpResponse<String> images = client.send(HttpRequest.newBuilder(URI.create(emulator.baseUrl() + "/v1/images/generations"))
                .header("Authorization", "Bearer " + KEY).POST(HttpRequest.BodyPublishers.ofString(body(b -> { }))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertError(images, 404, "Not Found");
        HttpResponse<String> get = client.send(HttpRequest.newBuilder(URI.create(emulator.baseUrl() + "/v1/chat/completions"))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        assertError(get, 405, "Method Not Allowed");
    }

    @Test
    void picks_the_scenario_from_the_header() throws Exception {
        HttpResponse<String> response = post(body(b -> { }), "Bearer " + KEY, "rate_limit");

        assertError(response, 429, "Rate limit exceeded");
        assertThat(response.headers().firstValue("Retry-After")).hasValue("7");
    }

    @Test
    void names_the_known_scenarios_for_an_unknown_one() throws Exception {
        assertError(post(body(b -> { }), "Bearer " + KEY, "no_such_thing"), 400, "known: ok, image_only");
    }

    @Test
    void drop_closes_the_connection_without_an_answer() {
        assertThatThrownBy(() -> post(body(b -> { }), "Bearer " + KEY, "drop")).isInstanceOf(IOException.class);
    }

    @Test
    void records_what_arrived() throws Exception {
        int before = emulator.calls();
        post(body(b -> { }), "Bearer " + KEY, "bad_request");

        assertThat(emulator.calls()).isEqualTo(before + 1);
        OpenRouterEmulator.Received last = emulator.received().getLast();
        assertThat(last.header("x-emulator-scenario")).isEqualTo("bad_request");
        assertThat(last.json().path("model").asText()).isEqualTo(MODEL);
    }

    private static HttpResponse<String> post(String body, String authorization, String scenario) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(emulator.baseUrl() + "/v1/chat/completions"))
                .timeout(Duration.ofSeconds(20))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        if (scenario != null) {
            request.header(Scenarios.HEADER, scenario);
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void assertError(HttpResponse<String> response, int status, String says) throws Exception {
        assertThat(response.statusCode()).isEqualTo(status);
        JsonNode error = Json.parse(response.body().getBytes()).path("error");
        assertThat(error.path("code").asInt()).isEqualTo(status);
        assertThat(error.path("message").asText()).contains(says);
    }

    /** A valid request, changed by {@code edit}. */
    private static String body(Consumer<ObjectNode> edit) {
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        body.put("model", MODEL);
        body.putArray("messages").addObject().put("role", "user").putArray("content")
                .addObject().put("type", "text").put("text", "a red kite over a beach");
        body.putArray("modalities").add("image").add("text");
        body.putObject("image_config").put("aspect_ratio", "3:2");
        edit.accept(body);
        return Json.writeString(body);
    }

    private static String withImage(String url) {
        return body(b -> content(b).addObject().put("type", "image_url").putObject("image_url").put("url", url));
    }

    private static ArrayNode content(ObjectNode body) {
        return (ArrayNode) body.path("messages").path(0).path("content");
    }

    private static String dataUrl(String type, byte[] bytes) {
        return "data:" + type + ";base64," + Base64.getEncoder().encodeToString(bytes);
    }
}
