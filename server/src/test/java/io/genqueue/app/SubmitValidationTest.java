package io.genqueue.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Every rule of the submit body and headers, over HTTP, with the 422 detail shape. */
class SubmitValidationTest {

    static TestServer server;

    @BeforeAll
    static void start() {
        // No workers: nothing runs, so this suite only exercises the front door.
        server = TestServer.start(Map.of("GENQUEUE_WORKERS", "0", "GENQUEUE_MAX_BODY_BYTES", "65536"));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** The (loc, type) pairs of a 422 answer. */
    static List<String> violations(TestServer.Response r) {
        assertThat(r.status()).as(r.body()).isEqualTo(422);
        List<String> out = new ArrayList<>();
        for (JsonNode d : r.json().get("detail")) {
            assertThat(d.get("msg").asText()).isNotBlank();
            out.add(d.get("loc").toString() + " " + d.get("type").asText());
        }
        return out;
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{}                                              | [\"body\",\"prompt\"] missing",
            "{\"prompt\":null}                               | [\"body\",\"prompt\"] missing",
            "{\"prompt\":\"\"}                               | [\"body\",\"prompt\"] string_too_short",
            "{\"prompt\":\"   \\n\\t \"}                     | [\"body\",\"prompt\"] value_error",
            "{\"prompt\":42}                                 | [\"body\",\"prompt\"] string_type",
            "{\"prompt\":[\"a\"]}                            | [\"body\",\"prompt\"] string_type",
            "{\"prompt\":\"\\ud800\"}                        | [\"body\",\"prompt\"] string_unicode",
            "{\"prompt\":\"x\",\"image_urls\":\"http://a.b/c\"} | [\"body\",\"image_urls\"] list_type",
            "{\"prompt\":\"x\",\"image_urls\":[\"http://a/1\",\"http://a/2\",\"http://a/3\",\"http://a/4\"]} | [\"body\",\"image_urls\"] too_long",
            "{\"prompt\":\"x\",\"image_urls\":[\"ftp://a.b/c.png\"]}  | [\"body\",\"image_urls\",0] url_parsing",
            "{\"prompt\":\"x\",\"image_urls\":[\"file:///etc/passwd\"]} | [\"body\",\"image_urls\",0] url_parsing",
            "{\"prompt\":\"x\",\"image_urls\":[\"http://user:pw@a.b/c\"]} | [\"body\",\"image_urls\",0] url_parsing",
            "{\"prompt\":\"x\",\"image_urls\":[\"not a url\"]}      | [\"body\",\"image_urls\",0] url_parsing",
            "{\"prompt\":\"x\",\"image_urls\":[\"http:///nohost\"]}  | [\"body\",\"image_urls\",0] url_parsing",
            "{\"prompt\":\"x\",\"image_urls\":[7]}                  | [\"body\",\"image_urls\",0] string_type",
            "{\"prompt\":\"x\",\"image_urls\":[\"data:image/png;base64,!!!\"]} | [\"body\",\"image_urls\",0] image_invalid",
            "{\"prompt\":\"x\",\"image_urls\":[\"data:text/plain;base64,aGk=\"]} | [\"body\",\"image_urls\",0] image_invalid",
            "{\"prompt\":\"x\",\"image_urls\":[\"data:image/png;base64,aGVsbG8=\"]} | [\"body\",\"image_urls\",0] image_invalid",
            "{\"prompt\":\"x\",\"aspect_ratio\":\"2:1\"}     | [\"body\",\"aspect_ratio\"] enum",
            "{\"prompt\":\"x\",\"aspect_ratio\":1}           | [\"body\",\"aspect_ratio\"] enum",
            "{\"prompt\":\"x\",\"image_size\":\"2K\"}        | [\"body\",\"image_size\"] enum",
            "{\"prompt\":\"x\",\"resolution\":\"1000x1000\"} | [\"body\",\"resolution\"] enum",
            "{\"prompt\":\"x\",\"aspect_ratio\":\"16:9\",\"resolution\":\"1024x1024\"} | [\"body\",\"resolution\"] value_error",
            "{\"prompt\":\"x\",\"response_modalities\":[]}          | [\"body\",\"response_modalities\"] too_short",
            "{\"prompt\":\"x\",\"response_modalities\":\"Image\"}   | [\"body\",\"response_modalities\"] list_type",
            "{\"prompt\":\"x\",\"response_modalities\":[\"Text\"]}  | [\"body\",\"response_modalities\"] value_error",
            "{\"prompt\":\"x\",\"response_modalities\":[\"Audio\"]} | [\"body\",\"response_modalities\",0] enum",
            "{\"prompt\":\"x\",\"num_images\":0}             | [\"body\",\"num_images\"] range",
            "{\"prompt\":\"x\",\"num_images\":5}             | [\"body\",\"num_images\"] range",
            "{\"prompt\":\"x\",\"num_images\":1.5}           | [\"body\",\"num_images\"] int_type",
            "{\"prompt\":\"x\",\"num_images\":\"2\"}         | [\"body\",\"num_images\"] int_type",
            "{\"prompt\":\"x\",\"num_images\":99999999999999999999} | [\"body\",\"num_images\"] range",
            "{\"prompt\":\"x\",\"output_format\":\"gif\"}    | [\"body\",\"output_format\"] enum",
            "{\"prompt\":\"x\",\"seed\":-1}                  | [\"body\",\"seed\"] range",
            "{\"prompt\":\"x\",\"seed\":\"7\"}               | [\"body\",\"seed\"] int_type",
            "{\"prompt\":\"x\",\"sync_mode\":\"true\"}       | [\"body\",\"sync_mode\"] bool_type",
            "[]                                              | [\"body\"] model_attributes_type",
            "\"prompt\"                                      | [\"body\"] model_attributes_type",
    })
    void each_rule_is_reported_at_its_field(String body, String expected) {
        assertThat(violations(server.submit(body))).containsExactly(expected);
    }

    @Test
    void a_prompt_of_2500_code_points_passes_and_2501_fails() {
        String emoji = "\uD83C\uDF4C"; // one code point, two UTF-16 units
        assertThat(server.submit("{\"prompt\":\"" + emoji.repeat(2500) + "\"}").status()).isEqualTo(200);
        assertThat(violations(server.submit("{\"prompt\":\"" + "a".repeat(2501) + "\"}")))
                .containsExactly("[\"body\",\"prompt\"] string_too_long");
    }

    @Test
    void every_violation_is_reported_at_once() {
        String body = "{\"prompt\":\"\",\"image_urls\":[\"ftp://x\",\"http://ok.example/a.png\",5],\"aspect_ratio\":\"7:7\","
                + "\"num_images\":9,\"output_format\":\"bmp\",\"sync_mode\":1}";
        TestServer.Response r = server.submit(body, "X-Fal-Queue-Priority", "urgent", "X-Fal-Request-Start-Timeout", "soon");
        assertThat(violations(r)).containsExactlyInAnyOrder(
                "[\"body\",\"prompt\"] string_too_short",
                "[\"body\",\"image_urls\",0] url_parsing",
                "[\"body\",\"image_urls\",2] string_type",
                "[\"body\",\"aspect_ratio\"] enum",
                "[\"body\",\"num_images\"] range",
                "[\"body\",\"output_format\"] enum",
                "[\"body\",\"sync_mode\"] bool_type",
                "[\"header\",\"x-fal-queue-priority\"] enum",
                "[\"header\",\"x-fal-request-start-timeout\"] value_error");
    }

    @Test
    void unknown_fields_are_ignored_and_valid_values_of_every_field_pass() {
        String body = "{\"prompt\":\"a cat\",\"image_urls\":[\"https://example.com/a.png\"],\"aspect_ratio\":\"21:9\","
                + "\"image_size\":\"1K\",\"resolution\":\"1536x672\",\"response_modalities\":[\"Image\",\"Text\"],\"num_images\":4,"
                + "\"output_format\":\"jpeg\",\"seed\":2147483647,\"sync_mode\":false,\"safety_tolerance\":\"4\",\"future\":{\"x\":[1]}}";
        assertThat(server.submit(body).status()).isEqualTo(200);
        assertThat(server.submit("{\"prompt\":\"x\",\"resolution\":\"832x1248\",\"response_modalities\":[\"IMAGE\"]}").status())
                .isEqualTo(200);
    }

    @Test
    void a_valid_data_uri_reference_passes() throws Exception {
        java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
        javax.imageio.ImageIO.write(new java.awt.image.BufferedImage(4, 3, java.awt.image.BufferedImage.TYPE_INT_RGB), "png", png);
        String uri = "data:image/png;base64," + Base64.getEncoder().encodeToString(png.toByteArray());
        assertThat(server.submit("{\"prompt\":\"x\",\"image_urls\":[\"" + uri + "\"]}").status()).isEqualTo(200);
    }

    @Test
    void a_webhook_url_is_checked_with_the_rest_of_the_request() {
        TestServer.Response r = server.submitTo("/v1/queue/nano_banana?fal_webhook=ftp://example.com/hook", "{\"prompt\":\"\"}");
        assertThat(violations(r)).contains("[\"query\",\"fal_webhook\"] value_error").hasSize(2);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "{", "{\"prompt\":\"x\"", "{\"prompt\":\"x\"}}", "{\"prompt\":'x'}", "nul", "{\"prompt\":\"x\",}",
            "{\"prompt\":\"a\",\"prompt\":\"b\"}", "\u0000", "{\"prompt\":\"x\"} trailing"})
    void malformed_json_is_a_422_json_invalid(String body) {
        assertThat(violations(server.submit(body))).containsExactly("[\"body\"] json_invalid");
    }

    @Test
    void deeply_nested_json_is_refused_without_a_5xx() {
        String deep = "{\"prompt\":\"x\",\"extra\":" + "[".repeat(5000) + "]".repeat(5000) + "}";
        assertThat(violations(server.submit(deep))).containsExactly("[\"body\"] json_invalid");
    }

    @ParameterizedTest
    @ValueSource(strings = {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
            "application/json; charset=latin1", "application/jsonx"})
    void other_content_types_are_415(String type) {
        TestServer.Response r = server.send(server.request("/v1/queue/nano_banana").header("Content-Type", type)
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"x\"}")).build());
        assertThat(r.status()).isEqualTo(415);
        assertThat(r.json().get("detail").asText()).contains("application/json");
    }

    @Test
    void a_missing_content_type_is_415_and_json_with_utf8_charset_is_fine() {
        TestServer.Response none = server.send(server.request("/v1/queue/nano_banana")
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"x\"}")).build());
        assertThat(none.status()).isEqualTo(415);
        TestServer.Response utf8 = server.send(server.request("/v1/queue/nano_banana").header("Content-Type", "Application/JSON; charset=UTF-8")
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"x\"}")).build());
        assertThat(utf8.status()).isEqualTo(200);
    }

    @Test
    void a_body_over_the_limit_is_413_whether_or_not_its_length_is_declared() {
        // The raw client reads the answer while it still writes (as curl does): a server that refuses
        // a body before reading it may close the connection while the client is writing.
        String big = "{\"prompt\":\"x\",\"pad\":\"" + "a".repeat(70_000) + "\"}";
        String head = "POST /v1/queue/nano_banana HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + server.key
                + "\r\nContent-Type: application/json\r\n";
        RawHttp.Answer declared = answer(RawHttp.concat((head + "Content-Length: " + big.length() + "\r\n\r\n").getBytes(
                java.nio.charset.StandardCharsets.ISO_8859_1), big.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertThat(declared.status()).isEqualTo(413);
        assertThat(new String(declared.body(), java.nio.charset.StandardCharsets.UTF_8)).contains("65536");
        // A chunked body (no Content-Length) is counted as it arrives.
        String chunk = Integer.toHexString(big.length()) + "\r\n" + big + "\r\n0\r\n\r\n";
        RawHttp.Answer chunked = answer((head + "Transfer-Encoding: chunked\r\n\r\n" + chunk).getBytes(
                java.nio.charset.StandardCharsets.ISO_8859_1));
        assertThat(chunked.status()).isEqualTo(413);
    }

    private static RawHttp.Answer answer(byte[] request) {
        int port = java.net.URI.create(server.base).getPort();
        return switch (RawHttp.send(port, request, java.time.Duration.ofSeconds(10))) {
            case RawHttp.Answer a -> a;
            case RawHttp.TimedOut t -> throw new AssertionError("no answer in 10 s; received: " + t.received());
            case RawHttp.ClosedWithoutAnswer x -> throw new AssertionError("closed without an answer; received: " + x.received());
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "a-very-long-key-of-256-characters-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"})
    void a_bad_idempotency_key_is_refused(String key) {
        HttpRequest.Builder b = server.request("/v1/queue/nano_banana").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"x\"}"));
        try {
            b.header("Idempotency-Key", key);
        } catch (IllegalArgumentException e) {
            return; // the client itself refuses to send it; nothing to test
        }
        assertThat(violations(server.send(b.build()))).containsExactly("[\"header\",\"idempotency-key\"] value_error");
    }

    @Test
    void an_idempotency_key_returns_the_first_request_and_refuses_a_different_body() {
        HttpRequest first = server.request("/v1/queue/nano_banana").header("Content-Type", "application/json")
                .header("Idempotency-Key", "order-42").POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"same\"}")).build();
        TestServer.Response a = server.send(first);
        TestServer.Response b = server.send(first);
        assertThat(a.status()).isEqualTo(200);
        assertThat(b.status()).isEqualTo(200);
        assertThat(b.json().get("request_id")).isEqualTo(a.json().get("request_id"));
        // Whitespace and field order do not make a different request; a different value does.
        TestServer.Response reordered = server.submit("{ \"prompt\" : \"same\" }", "Idempotency-Key", "order-42");
        assertThat(reordered.json().get("request_id")).isEqualTo(a.json().get("request_id"));
        TestServer.Response conflict = server.submit("{\"prompt\":\"other\"}", "Idempotency-Key", "order-42");
        assertThat(conflict.status()).isEqualTo(409);
        assertThat(conflict.json().get("detail").asText()).contains("Idempotency-Key");
    }

    @Test
    void priority_and_start_timeout_headers_are_accepted() {
        TestServer.Response r = server.submit("{\"prompt\":\"x\"}", "X-Fal-Queue-Priority", "low", "X-Fal-Request-Start-Timeout", "30");
        assertThat(r.status()).isEqualTo(200);
        TestServer.Response old = server.submit("{\"prompt\":\"x\"}", "X-Fal-Request-Timeout", "-3");
        assertThat(violations(old)).containsExactly("[\"header\",\"x-fal-request-timeout\"] value_error");
    }
}
