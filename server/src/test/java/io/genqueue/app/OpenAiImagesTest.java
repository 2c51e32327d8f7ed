package io.genqueue.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.image.ImageInfo;
import io.genqueue.image.ImageProbe;
import io.genqueue.testing.Eventually;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * OpenAI's images routes over plain HTTP and raw sockets, against the real server with a scripted
 * provider: the answers' shapes (every answer checked against the OpenAPI document), the mapping
 * onto the queue (the job is a queue request like any other), bad input of every kind (never a 5xx),
 * a client that leaves mid-wait (its job ends cancelled), and a wait that times out.
 */
class OpenAiImagesTest {

    static final String GENERATIONS = "/v1/images/generations";
    static final String EDITS = "/v1/images/edits";
    static final Duration BOUND = Duration.ofSeconds(20);

    static ScriptedProvider provider;
    static TestServer server;

    @BeforeAll
    static void start() {
        provider = new ScriptedProvider();
        server = TestServer.start(Map.of(), Clock.systemUTC(), provider);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static TestServer.Response generate(String json) {
        return server.send(server.request(GENERATIONS).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    static TestServer.Response edit(Multipart form) {
        return server.send(server.request(EDITS).header("Content-Type", "multipart/form-data; boundary=" + Multipart.BOUNDARY)
                .POST(HttpRequest.BodyPublishers.ofByteArray(form.bytes())).build());
    }

    static ImageInfo decoded(String b64) {
        return ImageProbe.probe(Base64.getDecoder().decode(b64), Long.MAX_VALUE);
    }

    static JsonNode error(TestServer.Response r) {
        JsonNode error = r.json().get("error");
        assertThat(error).as(r.body()).isNotNull();
        assertThat(error.has("param") && error.has("code") && error.has("type") && error.has("message")).isTrue();
        return error;
    }

    // ------------------------------------------------------------------ answers

    @Test
    void a_generation_waits_for_its_job_and_answers_the_images_inline() {
        TestServer.Response r = generate("{\"prompt\":\"a lighthouse openai-b64\",\"n\":2,\"size\":\"1344x768\"}");

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode body = r.json();
        assertThat(body.get("created").asLong()).isCloseTo(System.currentTimeMillis() / 1000, org.assertj.core.data.Offset.offset(60L));
        assertThat(body.get("data")).hasSize(2);
        for (JsonNode image : body.get("data")) {
            ImageInfo info = decoded(image.get("b64_json").asText());
            assertThat(info.width()).isEqualTo(1344);
            assertThat(info.height()).isEqualTo(768);
        }
        assertThat(body.get("output_format").asText()).isEqualTo("png");
        assertThat(body.get("size").asText()).isEqualTo("1344x768");
        assertThat(r.header("Connection")).isEqualTo("close");

        // the call was a queue request: the same id, completed, under the default model
        String id = r.header("X-Request-Id");
        JsonNode status = server.get(TestServer.statusPath(id)).json();
        assertThat(status.get("status").asText()).isEqualTo("COMPLETED");
        assertThat(status.has("error")).isFalse();
        assertThat(server.get(TestServer.responsePath(id)).json().get("images")).hasSize(2);
    }

    @Test
    void openai_sizes_map_to_the_nearest_ratio_and_auto_to_the_model_s_default() throws Exception {
        Map<String, String> expected = Map.of("1024x1024", "1024x1024", "1536x1024", "1248x832", "1024x1536", "832x1248",
                "auto", "1024x1024", "1536x672", "1536x672");
        for (var entry : expected.entrySet()) {
            TestServer.Response r = generate("{\"prompt\":\"sizes\",\"size\":\"" + entry.getKey() + "\",\"response_format\":\"url\"}");
            assertThat(r.status()).as(entry.getKey() + ": " + r.body()).isEqualTo(200);
            String url = r.json().at("/data/0/url").asText();
            HttpResponse<byte[]> file = server.client.send(HttpRequest.newBuilder(URI.create(url)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(file.statusCode()).isEqualTo(200);
            ImageInfo info = ImageProbe.probe(file.body(), Long.MAX_VALUE);
            assertThat(info.width() + "x" + info.height()).as(entry.getKey()).isEqualTo(entry.getValue());
        }
    }

    @Test
    void output_format_and_openai_s_fields_that_ask_for_nothing_else_are_accepted() {
        TestServer.Response r = generate("{\"model\":\"nano_banana\",\"prompt\":\"formats\",\"output_format\":\"jpeg\","
                + "\"quality\":\"high\",\"style\":\"vivid\",\"moderation\":\"low\",\"background\":\"opaque\","
                + "\"output_compression\":80,\"user\":\"u-1\",\"stream\":false,\"partial_images\":0,\"n\":null,\"future_field\":1}");

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(decoded(r.json().at("/data/0/b64_json").asText()).contentType()).isEqualTo("image/jpeg");
        assertThat(r.json().get("output_format").asText()).isEqualTo("jpeg");
    }

    @Test
    void an_edit_takes_its_files_as_reference_images() throws Exception {
        TestServer.Response r = edit(new Multipart().field("prompt", "make it blue openai-edit").field("response_format", "b64_json")
                .file("image[]", "tall.png", "image/png", png(300, 600)).file("image[]", "b.png", "application/octet-stream", png(20, 20)));

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        ImageInfo info = decoded(r.json().at("/data/0/b64_json").asText());
        // no size: the first reference image's shape decides (1:2 is nearest 9:16)
        assertThat(info.width() + "x" + info.height()).isEqualTo("768x1344");
        assertThat(edit(new Multipart().field("prompt", "one file").field("size", "1024x1024").file("image", "a.png", "image/png",
                png(30, 30))).status()).isEqualTo(200);
    }

    // ------------------------------------------------------------------ errors in OpenAI's shape

    @Test
    void invalid_fields_are_one_400_naming_openai_s_parameters() {
        TestServer.Response r = generate("{\"prompt\":\"x\",\"size\":\"999x999\",\"n\":9}");

        assertThat(r.status()).isEqualTo(400);
        JsonNode error = error(r);
        assertThat(error.get("type").asText()).isEqualTo("invalid_request_error");
        assertThat(error.get("param").asText()).isEqualTo("size");
        assertThat(error.get("message").asText()).contains("999x999").contains("auto, 1024x1024, 1536x1024, 1024x1536")
                .contains("1344x768").contains("n: Input should be between 1 and 4");

        assertThat(error(generate("{\"size\":\"auto\"}")).get("param").asText()).isEqualTo("prompt");
        assertThat(error(generate("{\"prompt\":\"x\",\"response_format\":\"file\"}")).get("param").asText()).isEqualTo("response_format");
        assertThat(error(generate("{\"prompt\":\"x\",\"output_format\":\"gif\"}")).get("param").asText()).isEqualTo("output_format");
        assertThat(error(generate("{\"prompt\":\"x\",\"stream\":true}")).get("message").asText()).contains("Streaming is not supported");
        assertThat(error(generate("{\"prompt\":\"x\",\"partial_images\":2}")).get("param").asText()).isEqualTo("partial_images");
        assertThat(error(generate("{\"prompt\":\"x\",\"background\":\"transparent\"}")).get("message").asText())
                .contains("transparent background is not supported");
        assertThat(error(generate("{\"prompt\":\"x\",\"quality\":\"ultra\"}")).get("param").asText()).isEqualTo("quality");
        assertThat(error(generate("{\"prompt\":\"x\",\"size\":1024}")).get("param").asText()).isEqualTo("size");
    }

    @Test
    void an_unknown_model_is_404_model_not_found() {
        TestServer.Response r = generate("{\"model\":\"dall-e-3\",\"prompt\":\"x\"}");

        assertThat(r.status()).isEqualTo(404);
        assertThat(error(r).get("code").asText()).isEqualTo("model_not_found");
        assertThat(error(r).get("message").asText()).contains("dall-e-3").contains("nano_banana");
    }

    @Test
    void a_bad_key_is_401_invalid_api_key() {
        TestServer.Response r = server.send(server.request(GENERATIONS, "gq_not-a-key").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"x\"}")).build());

        assertThat(r.status()).isEqualTo(401);
        assertThat(error(r).get("code").asText()).isEqualTo("invalid_api_key");
        assertThat(r.header("WWW-Authenticate")).isEqualTo("Bearer");
        assertThat(r.body()).doesNotContain("gq_not-a-key");
    }

    @Test
    void a_provider_s_content_refusal_is_400_content_policy_violation() {
        TestServer.Response r = generate("{\"prompt\":\"[content] something forbidden\"}");

        assertThat(r.status()).isEqualTo(400);
        JsonNode error = error(r);
        assertThat(error.get("code").asText()).isEqualTo("content_policy_violation");
        assertThat(error.get("type").asText()).isEqualTo("invalid_request_error");
        assertThat(error.get("message").asText()).contains("safety system").contains("SAFETY");
    }

    @Test
    void a_provider_s_failure_is_its_status_with_a_server_error() {
        TestServer.Response r = generate("{\"prompt\":\"[error] upstream says no\"}");

        assertThat(r.status()).isEqualTo(502);
        assertThat(error(r).get("type").asText()).isEqualTo("server_error");
        assertThat(error(r).get("code").asText()).isEqualTo("provider_error");
        assertThat(r.header("X-Fal-Error-Type")).isNull();
    }

    @Test
    void the_keys_limits_apply_as_to_any_submit() {
        String limited = server.newKey("openai-limited", "--rate", "1/s", "--burst", "1");
        List<Integer> statuses = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            TestServer.Response r = server.send(server.request(GENERATIONS, limited).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"[fast] limited\"}")).build());
            statuses.add(r.status());
            if (r.status() == 429) {
                assertThat(error(r).get("type").asText()).isEqualTo("requests");
                assertThat(r.header("Retry-After")).isNotNull();
            }
        }
        assertThat(statuses).contains(200, 429);
    }

    // ------------------------------------------------------------------ malformed bodies, never a 5xx

    @Test
    void malformed_json_bodies_are_400s_in_openai_s_shape() {
        for (String body : List.of("{", "[]", "\"text\"", "", "{\"prompt\":\"x\"} trailing", "{\"prompt\":\"\\ud800\"}")) {
            TestServer.Response r = generate(body);
            assertThat(r.status()).as(body).isEqualTo(400);
            assertThat(error(r).get("type").asText()).isEqualTo("invalid_request_error");
        }
        TestServer.Response form = server.send(server.request(GENERATIONS).header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("prompt=x")).build());
        assertThat(form.status()).isEqualTo(400);
        assertThat(error(form).get("message").asText()).contains("application/json");
    }

    @Test
    void malformed_multipart_bodies_are_400s_never_5xx() {
        String head = "POST " + EDITS + " HTTP/1.1\nHost: localhost\nAuthorization: Bearer " + server.key + "\n";
        byte[] good = new Multipart().field("prompt", "p").file("image", "a.png", "image/png", pngUnchecked(8, 8)).bytes();
        List<byte[]> requests = List.of(
                raw(head + "Content-Type: multipart/form-data\n", "--x\r\n\r\nhello\r\n--x--\r\n".getBytes()), // no boundary
                raw(head + "Content-Type: multipart/form-data; boundary=" + Multipart.BOUNDARY + "\n",
                        java.util.Arrays.copyOf(good, good.length / 2)), // cut short
                raw(head + "Content-Type: multipart/form-data; boundary=other\n", good), // another boundary
                raw(head + "Content-Type: multipart/form-data; boundary=" + Multipart.BOUNDARY + "\n",
                        ("--" + Multipart.BOUNDARY + "\r\nX-No-Disposition: 1\r\n\r\nv\r\n--" + Multipart.BOUNDARY + "--\r\n").getBytes()),
                raw(head + "Content-Type: multipart/form-data; boundary=" + Multipart.BOUNDARY + "\n",
                        ("--" + Multipart.BOUNDARY + "\r\nContent-Disposition: form-data; name=\"prompt\"\r\nno blank line").getBytes()),
                raw(head + "Content-Type: application/json\n", "{\"prompt\":\"json to the form route\"}".getBytes()),
                raw(head + "Content-Type: multipart/form-data; boundary=" + Multipart.BOUNDARY + "\n", new byte[0]));
        for (byte[] request : requests) {
            RawHttp.Result result = RawHttp.send(server.app.port(), request, BOUND);
            assertThat(result).isInstanceOf(RawHttp.Answer.class);
            RawHttp.Answer answer = (RawHttp.Answer) result;
            assertThat(answer.status()).as(answer.toString()).isEqualTo(400);
            assertThat(answer.bodyText()).contains("\"error\"").contains("invalid_request_error");
        }
    }

    @Test
    void an_edit_s_files_are_held_to_the_reference_image_rules() throws Exception {
        JsonNode none = error(edit(new Multipart().field("prompt", "no image")));
        assertThat(none.get("param").asText()).isEqualTo("image");

        Multipart four = new Multipart().field("prompt", "too many");
        for (int i = 0; i < 4; i++) {
            four.file("image[]", i + ".png", "image/png", png(10, 10));
        }
        JsonNode tooMany = error(edit(four));
        assertThat(tooMany.get("param").asText()).isEqualTo("image");
        assertThat(tooMany.get("message").asText()).contains("at most 3");

        JsonNode notImage = error(edit(new Multipart().field("prompt", "text file")
                .file("image", "notes.txt", "text/plain", "just text".getBytes(StandardCharsets.UTF_8))));
        assertThat(notImage.get("param").asText()).isEqualTo("image");

        JsonNode mask = error(edit(new Multipart().field("prompt", "masked").file("image", "a.png", "image/png", png(10, 10))
                .file("mask", "m.png", "image/png", png(10, 10))));
        assertThat(mask.get("param").asText()).isEqualTo("mask");

        JsonNode n = error(edit(new Multipart().field("prompt", "n as text").field("n", "many").file("image", "a.png", "image/png",
                png(10, 10))));
        assertThat(n.get("param").asText()).isEqualTo("n");
    }

    @Test
    void an_edit_may_carry_images_past_the_submit_body_limit_but_not_past_the_image_limit() throws Exception {
        byte[] noisy = noisyPng(800, 600); // incompressible: well over the 1 MiB submit limit
        assertThat(noisy.length).isGreaterThan(1024 * 1024);
        assertThat(edit(new Multipart().field("prompt", "a big reference").file("image", "big.png", "image/png", noisy)).status())
                .isEqualTo(200);

        try (TestServer small = TestServer.start(Map.of("GENQUEUE_FETCH_MAX_BYTES", "65536"), Clock.systemUTC(), provider)) {
            TestServer.Response r = small.send(small.request(EDITS).header("Content-Type", "multipart/form-data; boundary="
                    + Multipart.BOUNDARY).POST(HttpRequest.BodyPublishers.ofByteArray(new Multipart().field("prompt", "too big")
                    .file("image", "big.png", "image/png", noisyPng(200, 200)).bytes())).build());
            assertThat(r.status()).isEqualTo(400);
            assertThat(error(r).get("param").asText()).isEqualTo("image");
            assertThat(error(r).get("message").asText()).isEqualTo("image: file 1 (big.png) is larger than 64 KiB");
        }
    }

    @Test
    void a_wrong_method_is_405_in_openai_s_shape() {
        TestServer.Response r = server.get(GENERATIONS);

        assertThat(r.status()).isEqualTo(405);
        assertThat(r.header("Allow")).isEqualTo("POST");
        assertThat(error(r).get("type").asText()).isEqualTo("invalid_request_error");
        assertThat(server.get("/v1/queue/nano_banana").json().get("detail").asText()).contains("not allowed");
    }

    @Test
    void a_body_over_the_limit_is_413_in_openai_s_shape() {
        byte[] big = new byte[1024 * 1024 + 10];
        java.util.Arrays.fill(big, (byte) ' ');
        TestServer.Response r = server.send(server.request(GENERATIONS).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(big)).build());

        assertThat(r.status()).isEqualTo(413);
        assertThat(error(r).get("type").asText()).isEqualTo("invalid_request_error");
    }

    // ------------------------------------------------------------------ the wait

    @Test
    void a_client_that_closes_its_connection_mid_wait_cancels_its_job() throws Exception {
        Set<String> before = Set.copyOf(provider.calls.keySet());
        byte[] body = "{\"prompt\":\"[hang] until the client leaves\"}".getBytes(StandardCharsets.UTF_8);
        String id;
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.app.port())) {
            OutputStream out = socket.getOutputStream();
            out.write(raw("POST " + GENERATIONS + " HTTP/1.1\nHost: localhost\nAuthorization: Bearer " + server.key
                    + "\nContent-Type: application/json\n", body));
            out.flush();
            id = Eventually.value(BOUND, "the job running", () -> provider.calls.keySet().stream()
                    .filter(k -> !before.contains(k)).findFirst().orElse(null), k -> k != null);
        } // closed mid-wait

        JsonNode status = server.awaitCompleted(id);
        assertThat(status.get("error_type").asText()).isEqualTo("cancelled");
        Eventually.value(BOUND, "the provider call interrupted", () -> provider.interrupted.contains(id), b -> b);
    }

    @Test
    void a_wait_past_the_timeout_is_504_and_cancels_the_job() {
        ScriptedProvider hanging = new ScriptedProvider();
        try (TestServer short_ = TestServer.start(Map.of("GENQUEUE_OPENAI_TIMEOUT", "1s"), Clock.systemUTC(), hanging)) {
            TestServer.Response r = short_.send(short_.request(GENERATIONS).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"[hang] forever\"}")).build());

            assertThat(r.status()).isEqualTo(504);
            assertThat(error(r).get("code").asText()).isEqualTo("timeout");
            assertThat(r.header("x-should-retry")).isEqualTo("false");
            String id = r.header("X-Request-Id");
            assertThat(short_.awaitCompleted(id).get("error_type").asText()).isEqualTo("cancelled");
        }
    }

    @Test
    void a_job_cancelled_through_the_queue_api_ends_the_call_with_499() {
        Set<String> before = Set.copyOf(provider.calls.keySet());
        var call = java.util.concurrent.CompletableFuture.supplyAsync(() -> generate("{\"prompt\":\"[hang] cancelled elsewhere\"}"));
        String id = Eventually.value(BOUND, "the job running", () -> provider.calls.keySet().stream()
                .filter(k -> !before.contains(k)).findFirst().orElse(null), k -> k != null);

        assertThat(server.put(TestServer.cancelPath(id)).status()).isEqualTo(202);
        TestServer.Response r = call.join();
        assertThat(r.status()).isEqualTo(499);
        assertThat(error(r).get("code").asText()).isEqualTo("cancelled");
    }

    // ------------------------------------------------------------------ helpers

    static byte[] raw(String head, byte[] body) {
        return RawHttp.concat(RawHttp.crlf(head + "Content-Length: " + body.length + "\n\n"), body);
    }

    static byte[] png(int w, int h) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB), "png", out);
        return out.toByteArray();
    }

    static byte[] noisyPng(int w, int h) throws Exception {
        BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        java.util.Random random = new java.util.Random(42);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                image.setRGB(x, y, random.nextInt());
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "png", out);
        return out.toByteArray();
    }

    static byte[] pngUnchecked(int w, int h) {
        try {
            return png(w, h);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A multipart/form-data body, as a browser or OpenAI's SDKs send one. */
    static final class Multipart {
        static final String BOUNDARY = "gq-test-boundary-7MA4YWxkTrZu0gW";
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Multipart field(String name, String value) {
            write("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n");
            write(value);
            write("\r\n");
            return this;
        }

        Multipart file(String name, String fileName, String type, byte[] bytes) {
            write("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"" + name + "\"; filename=\"" + fileName
                    + "\"\r\nContent-Type: " + type + "\r\n\r\n");
            out.writeBytes(bytes);
            write("\r\n");
            return this;
        }

        byte[] bytes() {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            all.writeBytes(out.toByteArray());
            all.writeBytes(("--" + BOUNDARY + "--\r\n").getBytes(StandardCharsets.UTF_8));
            return all.toByteArray();
        }

        private void write(String s) {
            out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
        }
    }
}
