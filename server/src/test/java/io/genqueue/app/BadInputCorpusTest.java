package io.genqueue.app;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.json.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.Charset;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A corpus of hostile and broken input against the real server, for the contract's "errors
 * everywhere": whatever a client sends, the answer is not a 5xx, it arrives in bounded time, it is
 * JSON with a {@code detail} (the cancel route: {@code {"status": ...}}), it carries no stack trace
 * and none of the data directory's secrets; and afterwards the server still does its job.
 *
 * <p>Input a well-behaved client can send goes through the JDK client; everything else (broken
 * framing, lying lengths, raw bytes in headers, garbage request lines) through {@link RawHttp}, one
 * fresh connection per case. The validation rules themselves are {@link SubmitValidationTest}'s.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BadInputCorpusTest {

    /** How long any answer may take. */
    static final Duration BOUND = Duration.ofSeconds(10);
    /** The server's request deadline in this suite (GENQUEUE_REQUEST_TIMEOUT). */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(3);
    /**
     * How long a client that stops sending mid-request may be kept waiting before the server answers
     * or closes: the request deadline, its sweep interval (1 s) and a margin.
     */
    static final Duration STALLED_BOUND = REQUEST_TIMEOUT.plusSeconds(5);
    static final String SUBMIT = "/v1/queue/nano_banana";
    static final String VALID = "{\"prompt\":\"a cat\",\"image_urls\":[\"https://example.com/a.png\"],\"num_images\":2}";
    static final String SMALL = "{\"prompt\":\"a cat\"}";
    static final String UNKNOWN_ID = "req_01jdx8c2m1w4n6q8s0t2v4x6z8";
    static final int MAX_BODY = 1 << 20;
    /** {@code GET /} is the playground, a public page: a target that normalises to {@code /} gets it, and nothing else. */
    static final byte[] PLAYGROUND_PAGE = playgroundPage();
    static final List<String> TRACE_MARKERS = List.of("at io.", "at java.", "Exception", ".java:");

    static TestServer server;
    static int port;
    static String auth;
    /** The link secret as the data directory holds it (hex text), and its bytes. */
    static String secretText;
    static byte[] secret;
    /** A completed job with images, another one, and a genuine signed link to the first one's image. */
    static String jobA;
    static String jobB;
    static String imageKey;
    static String signedQuery;
    /** Every request id the corpus got accepted: each must still complete and answer. */
    static final List<String> accepted = new CopyOnWriteArrayList<>();
    static ExecutorService background;
    static final Map<String, Future<RawHttp.Result>> stalled = new LinkedHashMap<>();

    @BeforeAll
    static void start() throws Exception {
        // Reference images of accepted cases point at hosts that may not answer: fail them fast.
        server = TestServer.start(Map.of("GENQUEUE_FETCH_TIMEOUT", "2s",
                "GENQUEUE_REQUEST_TIMEOUT", REQUEST_TIMEOUT.toSeconds() + "s"));
        port = URI.create(server.base).getPort();
        auth = "Authorization: Bearer " + server.key + "\n";
        secretText = Files.readString(server.dataDir.resolve("link-secret"), ISO_8859_1).strip();
        secret = HexFormat.of().parseHex(secretText);
        jobA = server.submitOk("{\"prompt\":\"a\",\"num_images\":2}");
        jobB = server.submitOk("{\"prompt\":\"b\"}");
        server.awaitCompleted(jobA);
        server.awaitCompleted(jobB);
        String url = server.get(TestServer.responsePath(jobA)).json().get("images").get(0).get("url").asText();
        imageKey = url.substring(url.indexOf("/files/") + "/files/".length(), url.indexOf('?'));
        signedQuery = url.substring(url.indexOf('?') + 1);
        assertThat(imageKey).isEqualTo(jobA + "/a1-0.png");

        // Clients that stop sending and keep the connection open cost a read timeout each: they
        // run in the background while the corpus runs, and are judged at the end.
        background = Executors.newVirtualThreadPerTaskExecutor();
        stalled.put("Content-Length longer than the body, then silence",
                background.submit(() -> RawHttp.send(port, submitRaw("", bytes(SMALL), "Content-Length: 1000\n"), STALLED_BOUND)));
        stalled.put("request head never finished, then silence",
                background.submit(() -> RawHttp.send(port, RawHttp.crlf("POST " + SUBMIT + " HTTP/1.1\nHost: localhost\n" + auth),
                        STALLED_BOUND)));
    }

    @AfterAll
    static void stop() {
        if (background != null) {
            background.shutdownNow();
        }
        if (server != null) {
            server.close();
        }
    }

    // ================================================================= the cases

    /**
     * One hostile request, as raw bytes (sent on a fresh connection, which the client half-closes
     * after sending when {@code halfClose}) or as a JDK client request; the statuses that are right
     * (empty: any below 500); and the HTTP layer's own protocol refusals tolerated for it (505 for a
     * version, 501 for a transfer coding), which are reported rather than failed.
     */
    record Case(String name, byte[] raw, boolean halfClose, HttpRequest request, Set<Integer> statuses, boolean cancelRoute,
            Set<Integer> protocolRefusals) {

        static Case raw(String name, byte[] raw, Integer... statuses) {
            return new Case(name, raw, false, null, Set.of(statuses), false, Set.of());
        }

        /** A client that sends this much, then stops sending and says so (it half-closes the connection). */
        static Case halfClosed(String name, byte[] raw, Integer... statuses) {
            return new Case(name, raw, true, null, Set.of(statuses), false, Set.of());
        }

        static Case client(String name, HttpRequest request, Integer... statuses) {
            return new Case(name, null, false, request, Set.of(statuses), false, Set.of());
        }

        Case onCancelRoute() {
            return new Case(name, raw, halfClose, request, statuses, true, protocolRefusals);
        }

        Case tolerating(Integer... refusals) {
            return new Case(name, raw, halfClose, request, statuses, cancelRoute, Set.of(refusals));
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** What came back, from either kind of client. */
    record Reply(int status, String contentType, byte[] body) {
        String text() {
            String s = new String(body, UTF_8);
            return s.length() <= 400 ? s : s.substring(0, 400) + "...";
        }
    }

    // ----------------------------------------------------------- JSON bodies

    @Order(1)
    @ParameterizedTest(name = "{0}")
    @MethodSource
    void every_prefix_of_a_valid_body_is_a_422_json_invalid(Case c) {
        JsonNode json = answer(c);
        assertThat(json.get("detail").get(0).get("type").asText()).isEqualTo("json_invalid");
        assertThat(json.get("detail").get(0).get("loc").toString()).isEqualTo("[\"body\"]");
    }

    static Stream<Case> every_prefix_of_a_valid_body_is_a_422_json_invalid() {
        byte[] valid = bytes(VALID);
        return IntStream.range(0, valid.length).mapToObj(n -> body("prefix of " + n + " bytes: " + VALID.substring(0, n),
                Arrays.copyOf(valid, n), 422));
    }

    @Order(2)
    @ParameterizedTest(name = "{0}")
    @MethodSource
    void hostile_json_bodies(Case c) {
        answer(c);
    }

    static Stream<Case> hostile_json_bodies() {
        List<Case> cases = new ArrayList<>();
        // invalid UTF-8 inside strings (written byte for byte: a char below 256 is that byte)
        cases.add(body("byte 0xFF in the prompt", latin1("{\"prompt\":\"a \u00ff cat\"}"), 422));
        cases.add(body("truncated 2-byte sequence", latin1("{\"prompt\":\"a \u00c3\"}"), 422));
        cases.add(body("bad continuation byte", latin1("{\"prompt\":\"\u00c3\u0028\"}"), 422));
        cases.add(body("overlong encoding of /", latin1("{\"prompt\":\"\u00c0\u00af\"}"), 422));
        cases.add(body("UTF-8 encoded surrogate", latin1("{\"prompt\":\"\u00ed\u00a0\u0080\"}")));
        cases.add(body("code point above U+10FFFF", latin1("{\"prompt\":\"\u00f4\u0090\u0080\u0080\"}"), 422));
        cases.add(body("5-byte sequence", latin1("{\"prompt\":\"\u00f8\u0088\u0080\u0080\u0080\"}"), 422));
        cases.add(body("invalid UTF-8 in a key", latin1("{\"pr\u00ffompt\":\"x\"}"), 422));
        cases.add(body("invalid UTF-8 in aspect_ratio", latin1("{\"prompt\":\"x\",\"aspect_ratio\":\"1:1\u00fe\"}"), 422));
        cases.add(body("invalid UTF-8 in an image url", latin1("{\"prompt\":\"x\",\"image_urls\":[\"https://ex\u00ffample.com/a.png\"]}"), 422));
        cases.add(body("invalid UTF-8 outside strings", latin1("{\"prompt\":\"x\"\u00ff}"), 422));
        // byte order marks and other encodings
        cases.add(body("UTF-8 BOM", concat(new byte[] {(byte) 0xef, (byte) 0xbb, (byte) 0xbf}, bytes(SMALL))));
        cases.add(body("UTF-8 BOM twice", concat(new byte[] {(byte) 0xef, (byte) 0xbb, (byte) 0xbf, (byte) 0xef, (byte) 0xbb, (byte) 0xbf},
                bytes(SMALL)), 422));
        cases.add(body("BOM only", new byte[] {(byte) 0xef, (byte) 0xbb, (byte) 0xbf}, 422));
        cases.add(body("UTF-16LE with BOM", concat(new byte[] {(byte) 0xff, (byte) 0xfe}, SMALL.getBytes(Charset.forName("UTF-16LE")))));
        cases.add(body("UTF-16BE without BOM", SMALL.getBytes(Charset.forName("UTF-16BE"))));
        cases.add(body("UTF-32BE", SMALL.getBytes(Charset.forName("UTF-32BE"))));
        cases.add(body("UTF-16LE BOM before UTF-8 text", concat(new byte[] {(byte) 0xff, (byte) 0xfe}, bytes(SMALL))));
        cases.add(body("BOM inside the prompt", bytes("{\"prompt\":\"\ufeffa cat\"}")));
        cases.add(body("BOM as the whole prompt", bytes("{\"prompt\":\"\ufeff\"}")));
        // NUL bytes
        cases.add(body("raw NUL in the prompt", latin1("{\"prompt\":\"a\u0000cat\"}"), 422));
        cases.add(body("raw NUL before the body", latin1("\u0000" + SMALL), 422));
        cases.add(body("raw NUL after the body", latin1(SMALL + "\u0000"), 422));
        cases.add(body("raw NUL in a key", latin1("{\"pro\u0000mpt\":\"x\"}"), 422));
        cases.add(body("1000 NUL bytes", new byte[1000], 422));
        cases.add(body("escaped NUL in the prompt", bytes("{\"prompt\":\"a\\u0000cat\"}")));
        cases.add(body("escaped NUL as the whole prompt", bytes("{\"prompt\":\"\\u0000\"}")));
        cases.add(body("escaped NUL in aspect_ratio", bytes("{\"prompt\":\"x\",\"aspect_ratio\":\"1:1\\u0000\"}"), 422));
        cases.add(body("escaped NUL in an image url", bytes("{\"prompt\":\"x\",\"image_urls\":[\"https://example.com/\\u0000.png\"]}")));
        cases.add(body("escaped NUL in a key", bytes("{\"prompt\\u0000\":\"x\",\"prompt\":\"y\"}")));
        // lone surrogates as escapes
        cases.add(body("lone high surrogate as the prompt", bytes("{\"prompt\":\"\\ud800\"}")));
        cases.add(body("lone low surrogate as the prompt", bytes("{\"prompt\":\"\\udfff\"}")));
        cases.add(body("surrogates in the wrong order", bytes("{\"prompt\":\"a \\udc00\\ud800 b\"}")));
        cases.add(body("high surrogate then NUL", bytes("{\"prompt\":\"\\ud800\\u0000\"}")));
        cases.add(body("lone surrogate in aspect_ratio", bytes("{\"prompt\":\"x\",\"aspect_ratio\":\"\\ud800\"}"), 422));
        cases.add(body("lone surrogate in output_format", bytes("{\"prompt\":\"x\",\"output_format\":\"png\\udfff\"}"), 422));
        cases.add(body("lone surrogate in response_modalities", bytes("{\"prompt\":\"x\",\"response_modalities\":[\"Image\\ud800\"]}"), 422));
        cases.add(body("lone surrogate in an image url", bytes("{\"prompt\":\"x\",\"image_urls\":[\"https://example.com/\\ud800.png\"]}")));
        cases.add(body("lone surrogate in a data URI", bytes("{\"prompt\":\"x\",\"image_urls\":[\"data:image/png\\ud800;base64,AAAA\"]}")));
        cases.add(body("lone surrogate in a key", bytes("{\"prompt\":\"x\",\"\\ud800\":1}")));
        cases.add(body("lone surrogate in an unknown field", bytes("{\"prompt\":\"x\",\"extra\":\"\\udbff\"}")));
        cases.add(body("truncated unicode escape", bytes("{\"prompt\":\"\\ud8\"}"), 422));
        cases.add(body("invalid escape", bytes("{\"prompt\":\"\\x41\"}"), 422));
        // numbers
        for (String field : List.of("num_images", "seed", "extra")) {
            for (String number : List.of("1e999999", "-1e999999", "1e-999999", "-0", "-0.0", "2.0", "2.5", "9223372036854775808",
                    "-9223372036854775809", "1" + "0".repeat(399), "-" + "9".repeat(400), "0." + "0".repeat(398) + "1",
                    "1E+2147483648", "NaN", "Infinity", "-Infinity", "0x10", "01", "+1", ".5", "1.", "1e", "--1")) {
                cases.add(body(field + " = " + (number.length() > 24 ? number.substring(0, 12) + "...(" + number.length() + " chars)" : number),
                        bytes("{\"prompt\":\"x\",\"" + field + "\":" + number + "}")));
            }
        }
        // huge strings, at and around the body limit
        cases.add(body("prompt of nearly 1 MiB", bytes("{\"prompt\":\"" + "a".repeat(MAX_BODY - 20) + "\"}"), 422));
        cases.add(body("unknown field of nearly 1 MiB", bytes("{\"prompt\":\"x\",\"pad\":\"" + "a".repeat(MAX_BODY - 40) + "\"}"), 200));
        cases.add(body("body of exactly 1 MiB", bytes(padTo("{\"prompt\":\"x\",\"pad\":\"%s\"}", MAX_BODY)), 200));
        // Refused before it is read: the server may close while the client still writes, so these go
        // through the raw client, which reads the answer while it writes (as curl does).
        cases.add(oversize("body of 1 MiB + 1 byte", bytes(padTo("{\"prompt\":\"x\",\"pad\":\"%s\"}", MAX_BODY + 1))));
        cases.add(oversize("body of 4 MiB", bytes(padTo("{\"prompt\":\"x\",\"pad\":\"%s\"}", 4 * MAX_BODY))));
        cases.add(body("1 MiB of unicode escapes", bytes("{\"prompt\":\"x\",\"pad\":\"" + "\\u00e9".repeat((MAX_BODY - 40) / 6) + "\"}"), 200));
        cases.add(body("prompt of 2500 four-byte characters", bytes("{\"prompt\":\"" + "\ud83d\ude00".repeat(2500) + "\"}"), 200));
        cases.add(body("prompt of 250k two-byte characters", bytes("{\"prompt\":\"" + "\u00e9".repeat(250_000) + "\"}"), 422));
        cases.add(body("image url of nearly 1 MiB", bytes("{\"prompt\":\"x\",\"image_urls\":[\"https://example.com/"
                + "a".repeat(MAX_BODY - 80) + "\"]}")));
        cases.add(body("data URI of nearly 1 MiB that is no image", bytes("{\"prompt\":\"x\",\"image_urls\":[\"data:image/png;base64,"
                + "QUFB".repeat((MAX_BODY - 80) / 4) + "\"]}")));
        cases.add(body("data URI of nearly 1 MiB of bad base64", bytes("{\"prompt\":\"x\",\"image_urls\":[\"data:image/png;base64,"
                + "!@#$".repeat((MAX_BODY - 80) / 4) + "\"]}")));
        cases.add(body("aspect_ratio of 500 KB", bytes("{\"prompt\":\"x\",\"aspect_ratio\":\"" + "9".repeat(500_000) + "\"}"), 422));
        cases.add(body("key of 500 KB", bytes("{\"prompt\":\"x\",\"" + "k".repeat(500_000) + "\":1}")));
        // deep nesting
        int deep = 10_000;
        cases.add(body("10k nested arrays", bytes("{\"prompt\":\"x\",\"extra\":" + "[".repeat(deep) + "]".repeat(deep) + "}"), 422));
        cases.add(body("10k nested objects", bytes("{\"prompt\":\"x\",\"extra\":" + "{\"a\":".repeat(deep) + "1" + "}".repeat(deep) + "}"), 422));
        cases.add(body("10k nested arrays as the body", bytes("[".repeat(deep) + "]".repeat(deep)), 422));
        cases.add(body("10k unclosed arrays", bytes("{\"prompt\":\"x\",\"extra\":" + "[".repeat(deep)), 422));
        cases.add(body("10k nested arrays as the prompt", bytes("{\"prompt\":" + "[".repeat(deep) + "]".repeat(deep) + "}"), 422));
        cases.add(body("10k nested arrays in image_urls", bytes("{\"prompt\":\"x\",\"image_urls\":" + "[".repeat(deep) + "]".repeat(deep) + "}"),
                422));
        cases.add(body("200k nested arrays", bytes("[".repeat(200_000)), 422));
        // many keys, many elements, duplicates
        StringBuilder many = new StringBuilder("{\"prompt\":\"x\"");
        for (int i = 0; many.length() < MAX_BODY - 40; i++) {
            many.append(",\"k").append(i).append("\":0");
        }
        cases.add(body("about 80k distinct keys", bytes(many.append('}').toString())));
        cases.add(body("80k keys in a nested object", bytes(many.toString().replaceFirst("^\\{\"prompt\":\"x\",", "{\"prompt\":\"x\",\"o\":{")
                .replaceFirst("}$", "}}"))));
        cases.add(body("10k image urls", bytes("{\"prompt\":\"x\",\"image_urls\":[" + String.join(",",
                Collections.nCopies(10_000, "\"https://example.com/a.png\"")) + "]}"), 422));
        cases.add(body("10k response modalities", bytes("{\"prompt\":\"x\",\"response_modalities\":[" + String.join(",",
                Collections.nCopies(10_000, "\"Image\"")) + "]}")));
        cases.add(body("100k-element unknown array", bytes("{\"prompt\":\"x\",\"extra\":[" + "0,".repeat(100_000) + "0]}")));
        cases.add(body("duplicate prompt", bytes("{\"prompt\":\"a\",\"prompt\":\"a\"}"), 422));
        cases.add(body("duplicate num_images", bytes("{\"prompt\":\"a\",\"num_images\":1,\"num_images\":9}"), 422));
        cases.add(body("duplicate keys in an unknown object", bytes("{\"prompt\":\"a\",\"o\":{\"k\":1,\"k\":2}}"), 422));
        cases.add(body("10k duplicates of one key", bytes("{\"prompt\":\"a\"" + ",\"k\":0".repeat(10_000) + "}"), 422));
        cases.add(body("keys that differ only in case", bytes("{\"prompt\":\"a\",\"Prompt\":\"b\",\"PROMPT\":\"c\"}"), 200));
        // not an object, not JSON
        for (String other : List.of("[]", "\"x\"", "1", "null", "true", "[{\"prompt\":\"x\"}]", "{}", " ", "\r\n\t", "{}{}",
                SMALL + SMALL, "/* c */" + SMALL, "{'prompt':'x'}", "{prompt:\"x\"}", "{\"prompt\":\"x\",}", "{\"prompt\" \"x\"}",
                "{\"prompt\":\"unterminated}", "\"" + "\\".repeat(1001), "{\"prompt\":\"x\"}\n// trailing comment")) {
            cases.add(body("body " + shorten(printable(other)), bytes(other)));
        }
        return cases.stream();
    }

    @Order(3)
    @ParameterizedTest(name = "{0}")
    @MethodSource
    void every_field_with_every_wrong_type(Case c) {
        String field = c.name().substring(0, c.name().indexOf(' '));
        JsonNode json = answer(c);
        if (json.has("detail")) {
            List<String> locs = new ArrayList<>();
            json.get("detail").forEach(d -> locs.add(d.get("loc").toString()));
            assertThat(locs).as("the 422 names the field").anyMatch(loc -> loc.startsWith("[\"body\",\"" + field + "\""));
        }
    }

    static Stream<Case> every_field_with_every_wrong_type() {
        List<Case> cases = new ArrayList<>();
        for (String field : List.of("prompt", "image_urls", "aspect_ratio", "image_size", "resolution", "response_modalities",
                "num_images", "output_format", "seed", "sync_mode")) {
            for (String value : List.of("null", "true", "false", "2", "-1", "2.5", "\"x\"", "\"\"", "[]", "[\"x\"]", "[null]", "[1]",
                    "{}", "{\"x\":1}")) {
                String json = field.equals("prompt") ? "{\"prompt\":" + value + "}" : "{\"prompt\":\"a cat\",\"" + field + "\":" + value + "}";
                cases.add(body(field + " = " + value, bytes(json), 200, 422));
            }
        }
        return cases.stream();
    }

    // ----------------------------------------------------------- framing: Content-Type, Content-Length, chunks

    @Order(4)
    @ParameterizedTest(name = "{0}")
    @MethodSource
    void broken_content_types_and_lengths(Case c) {
        answer(c);
    }

    static Stream<Case> broken_content_types_and_lengths() {
        byte[] small = bytes(SMALL);
        String head = "POST " + SUBMIT + " HTTP/1.1\nHost: localhost\n" + auth;
        String json = "Content-Type: application/json\n";
        List<Case> cases = new ArrayList<>();
        // Content-Type
        cases.add(Case.raw("no Content-Type", raw(head + "Content-Length: " + small.length, small), 415));
        cases.add(Case.raw("empty Content-Type", raw(head + "Content-Type:\nContent-Length: " + small.length, small), 400, 415));
        for (String type : List.of("text/plain", "application/json, text/plain", "application/json;;", ";;;;", ";", "application/",
                "/json", "*/*", "application/*", "application/json; charset=", "application/json; charset=\"\"",
                "application/json; charset=utf-8; charset=latin1", "application/json; charset=utf-16", "application/json\u0001",
                "application/json\u00ff", "application/js\u00c3\u00b6n", "application/json; x=\u00e9", "application/json; " + "a=b;".repeat(2000),
                "application/" + "j".repeat(7000), "application/json\tx", "APPLICATION/JSON; CHARSET=\"UTF-8\"")) {
            cases.add(Case.raw("Content-Type: " + shorten(type), raw(head + "Content-Type: " + type + "\nContent-Length: " + small.length, small)));
        }
        cases.add(Case.raw("Content-Type twice (json, json)", raw(head + json + json + "Content-Length: " + small.length, small)));
        cases.add(Case.raw("Content-Type twice (json, text)", raw(head + json + "Content-Type: text/plain\nContent-Length: " + small.length, small)));
        cases.add(Case.raw("Content-Type twice (text, json)", raw(head + "Content-Type: text/plain\n" + json + "Content-Length: " + small.length, small)));
        // Content-Length
        cases.add(Case.raw("Content-Length shorter than the body", raw(head + json + "Content-Length: 5", small), 422));
        cases.add(Case.raw("Content-Length 0 with a body", raw(head + json + "Content-Length: 0", small), 422));
        for (String length : List.of("-1", "-18", "abc", "+18", "18.0", "0x12", "1 8", "18,18", "18, 19", "", "\u00b9\u2078",
                "99999999999999999999999", "9223372036854775807", "2147483648", "\u0000")) {
            cases.add(Case.raw("Content-Length: " + shorten(length), raw(head + json + "Content-Length: " + length, small)));
        }
        cases.add(Case.raw("Content-Length twice, different", raw(head + json + "Content-Length: 18\nContent-Length: 5", small)));
        cases.add(Case.raw("Content-Length twice, equal", raw(head + json + "Content-Length: 18\nContent-Length: 18", small)));
        cases.add(Case.raw("declared 2 MiB, body never sent", raw(head + json + "Content-Length: " + 2 * MAX_BODY, new byte[0]), 413));
        cases.add(Case.raw("declared 2 MiB with Expect: 100-continue", raw(head + json + "Expect: 100-continue\nContent-Length: "
                + 2 * MAX_BODY, new byte[0]), 413));
        cases.add(Case.raw("Expect: something unknown", raw(head + json + "Expect: 42-bogus\nContent-Length: " + small.length, small)));
        // the client stops sending mid-body and says so (it half-closes the connection)
        cases.add(Case.halfClosed("Content-Length longer than the body, then FIN", raw(head + json + "Content-Length: 1000", small)));
        cases.add(Case.halfClosed("chunk shorter than its size, then FIN", raw(head + json + "Transfer-Encoding: chunked", latin1("50\r\n{\"pro"))));
        cases.add(Case.halfClosed("chunked body without its last chunk, then FIN", raw(head + json + "Transfer-Encoding: chunked",
                latin1(Integer.toHexString(small.length) + "\r\n" + SMALL + "\r\n"))));
        cases.add(Case.halfClosed("request head cut short, then FIN", RawHttp.crlf(head + json)));
        // Transfer-Encoding
        String chunked = chunk(SMALL) + "0\r\n\r\n";
        cases.add(Case.raw("chunked body (control)", raw(head + json + "Transfer-Encoding: chunked", latin1(chunked)), 200));
        cases.add(Case.raw("Content-Length and chunked", raw(head + json + "Content-Length: 5\nTransfer-Encoding: chunked", latin1(chunked))));
        cases.add(Case.raw("chunked and Content-Length", raw(head + json + "Transfer-Encoding: chunked\nContent-Length: 5", latin1(chunked))));
        for (String encoding : List.of("chunked, chunked", "gzip, chunked", "chunked, gzip", "gzip", "identity", "xchunked", "CHUNKED",
                "chunked\u00ff", " chunked ")) {
            cases.add(Case.raw("Transfer-Encoding: " + encoding, raw(head + json + "Transfer-Encoding: " + encoding, latin1(chunked)))
                    .tolerating(501));
        }
        cases.add(Case.raw("Transfer-Encoding twice", raw(head + json + "Transfer-Encoding: chunked\nTransfer-Encoding: chunked", latin1(chunked))));
        for (String size : List.of("zz", "ffffffffffffffffff", "7fffffffffffffff", "80000000", "-1", "", " ", "0x12", "12 ; x=\u00ff",
                "12;" + "e".repeat(10_000), "\u00ff", "1_2", "+12")) {
            cases.add(Case.raw("chunk size '" + shorten(size) + "'", raw(head + json + "Transfer-Encoding: chunked",
                    latin1(size + "\r\n" + SMALL + "\r\n0\r\n\r\n"))));
        }
        cases.add(Case.raw("chunk size smaller than the chunk", raw(head + json + "Transfer-Encoding: chunked", latin1("3\r\n" + SMALL + "\r\n0\r\n\r\n"))));
        cases.add(Case.halfClosed("chunk without its CR LF, then FIN", raw(head + json + "Transfer-Encoding: chunked",
                latin1(Integer.toHexString(small.length) + "\r\n" + SMALL + "0\r\n\r\n"))));
        cases.add(Case.raw("chunked trailers of garbage", raw(head + json + "Transfer-Encoding: chunked",
                latin1(chunk(SMALL) + "0\r\nno colon here\r\n\u00ff: x\r\n\r\n"))));
        cases.add(Case.raw("2 MiB in 1-byte chunks", raw(head + json + "Transfer-Encoding: chunked",
                latin1("1\r\na\r\n".repeat(2 * MAX_BODY / 64) + "0\r\n\r\n"))));
        cases.add(Case.raw("Content-Encoding: gzip on plain JSON", raw(head + json + "Content-Encoding: gzip\nContent-Length: " + small.length, small)));
        cases.add(Case.raw("Content-Encoding: br", raw(head + json + "Content-Encoding: br\nContent-Length: " + small.length, small)));
        cases.add(Case.raw("Content-Encoding: gzip of garbage bytes", raw(head + json + "Content-Encoding: gzip\nContent-Length: 12",
                new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2})));
        // a body where none belongs
        cases.add(Case.raw("GET /healthz with a body", raw("GET /healthz HTTP/1.1\nHost: localhost\nContent-Length: 5", bytes("hello")), 200));
        cases.add(Case.raw("GET status with a JSON body", raw("GET " + TestServer.statusPath(jobA) + " HTTP/1.1\nHost: localhost\n" + auth + json
                + "Content-Length: " + small.length, small), 200));
        cases.add(Case.raw("GET response with a chunked body", raw("GET " + TestServer.responsePath(jobB) + " HTTP/1.1\nHost: localhost\n" + auth
                + "Transfer-Encoding: chunked", latin1(chunked)), 200));
        cases.add(Case.raw("PUT cancel with a 2 MiB body", raw("PUT " + TestServer.cancelPath(UNKNOWN_ID) + " HTTP/1.1\nHost: localhost\n" + auth
                + "Content-Length: " + 2 * MAX_BODY, new byte[2 * MAX_BODY])).onCancelRoute());
        return cases.stream();
    }

    // ----------------------------------------------------------- HTTP itself: request lines, paths, headers, versions

    @Order(5)
    @ParameterizedTest(name = "{0}")
    @MethodSource
    void malformed_http(Case c) {
        answer(c);
    }

    static Stream<Case> malformed_http() {
        List<Case> cases = new ArrayList<>();
        byte[] small = bytes(SMALL);
        // request lines
        for (String line : List.of("hello world", "GET", "GET /healthz", "GET /healthz HTTP/1.1 extra", "GET  /healthz HTTP/1.1",
                " GET /healthz HTTP/1.1", "\tGET /healthz HTTP/1.1", "GET\t/healthz\tHTTP/1.1", "GET /healthz HTTP/1.1\u0000",
                "\u0000\u0001\u0002\u0003", "\u00ff\u00fe\u00fd", "GET /healthz HTTP/1.1x", "GET /healthz http/1.1", "GET /healthz HTTP/",
                "GET /healthz HTTP/1", "GET /healthz HTTP/1.2", "GET /healthz HTTP/2.0", "GET /healthz HTTP/9.9", "GET /healthz HTTPS/1.1",
                "GET /healthz HTTP/1.1.1", "GET /healthz HTTP/01.1", "GET /" + "a".repeat(100_000) + " HTTP/1.1", "G".repeat(10_000) + " / HTTP/1.1")) {
            cases.add(Case.raw("request line " + shorten(printable(line)), raw(line + "\nHost: localhost")).tolerating(505));
        }
        cases.add(Case.raw("HTTP/0.9 request", latin1("GET /healthz\r\n\r\n")).tolerating(505));
        cases.add(Case.raw("empty lines only", RawHttp.crlf("\n\n\n\n")));
        cases.add(Case.raw("bare LF line ends", latin1("GET /healthz HTTP/1.1\nHost: localhost\n\n")));
        cases.add(Case.raw("bare CR line ends", latin1("GET /healthz HTTP/1.1\rHost: localhost\r\r")));
        cases.add(Case.raw("CR CR LF line ends", latin1("GET /healthz HTTP/1.1\r\r\nHost: localhost\r\r\n\r\r\n")));
        cases.add(Case.raw("TLS client hello", concat(new byte[] {0x16, 0x03, 0x01, 0x00, (byte) 0xa5, 0x01, 0x00, 0x00, (byte) 0xa1, 0x03, 0x03},
                new byte[160], RawHttp.crlf("\n\n"))));
        cases.add(Case.raw("1 KB of random bytes", concat(random(1024), RawHttp.crlf("\n\n"))));
        // versions: 505 is the HTTP layer's own "version not supported", allowed here (and reported)
        cases.add(Case.raw("HTTP/1.0 request", raw("GET /healthz HTTP/1.0")).tolerating(505));
        cases.add(Case.raw("HTTP/1.0 submit", raw("POST " + SUBMIT + " HTTP/1.0\nHost: localhost\n" + auth
                + "Content-Type: application/json\nContent-Length: " + small.length, small)).tolerating(505));
        cases.add(Case.raw("HTTP/2 preface", latin1("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")).tolerating(505));
        cases.add(Case.raw("HTTP/2 preface and a SETTINGS frame", concat(latin1("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
                new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0})).tolerating(505));
        cases.add(Case.raw("h2c upgrade", raw("GET /healthz HTTP/1.1\nHost: localhost\nConnection: Upgrade, HTTP2-Settings\nUpgrade: h2c\n"
                + "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA")));
        cases.add(Case.raw("websocket upgrade", raw("GET /healthz HTTP/1.1\nHost: localhost\nConnection: Upgrade\nUpgrade: websocket\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13")));
        cases.add(Case.raw("upgrade to garbage", raw("GET /healthz HTTP/1.1\nHost: localhost\nConnection: Upgrade\nUpgrade: \u00ff\u0001")));
        // methods
        for (String method : List.of("FOO", "BREW", "PROPFIND", "TRACE", "OPTIONS", "DELETE", "PATCH", "get", "G\u00c9T", "GET\u0000",
                "M".repeat(5000))) {
            cases.add(Case.raw("method " + shorten(printable(method)) + " on submit", raw(method + " " + SUBMIT + " HTTP/1.1\nHost: localhost\n" + auth)));
            cases.add(Case.raw("method " + shorten(printable(method)) + " on cancel", raw(method + " " + TestServer.cancelPath(UNKNOWN_ID)
                    + " HTTP/1.1\nHost: localhost\n" + auth)));
        }
        cases.add(Case.raw("HEAD on status", raw("HEAD " + TestServer.statusPath(jobA) + " HTTP/1.1\nHost: localhost\n" + auth)));
        cases.add(Case.raw("GET on submit", raw("GET " + SUBMIT + " HTTP/1.1\nHost: localhost\n" + auth), 405));
        cases.add(Case.raw("POST on status", raw("POST " + TestServer.statusPath(jobA) + " HTTP/1.1\nHost: localhost\n" + auth
                + "Content-Type: application/json\nContent-Length: " + small.length, small), 405));
        cases.add(Case.raw("OPTIONS *", raw("OPTIONS * HTTP/1.1\nHost: localhost")));
        cases.add(Case.raw("CONNECT", raw("CONNECT example.com:443 HTTP/1.1\nHost: example.com:443")));
        // targets
        for (String target : List.of("/" + "a".repeat(8000), "/v1/queue/" + "m".repeat(8000), "/%00", "/v1/queue/%00", "/v1/queue/nano_banana%00",
                "/%2e%2e/%2e%2e/etc/passwd", "/..", "/../../../../etc/passwd", "/v1/queue/nano_banana/../../../genqueue.db", "//", "///v1//queue//nano_banana",
                "//healthz", "\\", "/\\healthz", "\\..\\genqueue.db", "/healthz\\..\\..", u8("/\u00fcnicode/\u2603"), "/%C3%BC%E2%98%83",
                "/%ff%fe", "/%", "/%zz", "/%2", "/%c0%ae%c0%ae/genqueue.db", "/%u002e%u002e", "healthz", "*", "?", "/#fragment",
                "/healthz?%zz=%zz", "/healthz?" + "a=b&".repeat(4000), "/healthz;param", "/healthz%3Fx", "/%2F%2F", "/ /", "/\u0001",
                "/\u00e9", "/\u007f", "http://evil.example/healthz", "https://[::1]:99999/healthz", "/v1/queue/%2e%2e/requests/x/status",
                "/v1/queue/" + u8("n\u00e4no") + "/requests/x/status", "/v1/queue/nano_banana?fal_webhook=%zz",
                "/v1/queue/nano_banana/requests/" + UNKNOWN_ID + "/status?logs=%zz&logs=1&logs", "/v1/queue/nano_banana/requests/"
                        + UNKNOWN_ID + "/status?" + "logs=1&".repeat(3000))) {
            cases.add(Case.raw("GET " + shorten(printable(target)), raw("GET " + target + " HTTP/1.1\nHost: localhost\n" + auth)));
        }
        cases.add(Case.raw("submit with fal_webhook=%zz", raw("POST " + SUBMIT + "?fal_webhook=%zz&%=%% HTTP/1.1\nHost: localhost\n" + auth
                + "Content-Type: application/json\nContent-Length: " + small.length, small)));
        cases.add(Case.raw("submit to a model of 8000 characters", raw("POST /v1/queue/" + "m".repeat(8000) + " HTTP/1.1\nHost: localhost\n" + auth
                + "Content-Type: application/json\nContent-Length: " + small.length, small), 404, 414));
        // header lines
        for (String header : List.of("no colon here", ": no name", "Name With Space: x", "X-A : x", " X-Folded: x", "X-A: a\n b",
                "X-A:\u0000", "X-A: a\u0000b", "X-A: \u0001\u0002", "X\u00ff: x", "X-A: " + "v".repeat(8000), "X-A: " + "v".repeat(100_000),
                "Host:", "Host: a\nHost: b", "Host: " + u8("h\u00f6st"), "Host: \u00e9", "Host: a b", "Host: [::1", "Host: " + "h".repeat(5000))) {
            cases.add(Case.raw("header " + shorten(printable(header)), RawHttp.crlf("GET /healthz HTTP/1.1\n"
                    + (header.startsWith("Host") ? "" : "Host: localhost\n") + header + "\n\n")));
        }
        cases.add(Case.raw("no Host header", raw("GET /healthz HTTP/1.1")));
        cases.add(Case.raw("200 headers", raw("GET /healthz HTTP/1.1\nHost: localhost\n" + "X-A: b\n".repeat(200).strip())));
        cases.add(Case.raw("5000 headers", raw("GET /healthz HTTP/1.1\nHost: localhost\n" + "X-A: b\n".repeat(5000).strip())));
        cases.add(Case.raw("5000 distinct headers on submit", raw("POST " + SUBMIT + " HTTP/1.1\nHost: localhost\n" + auth
                + IntStream.range(0, 5000).mapToObj(i -> "X-H" + i + ": v\n").reduce("", String::concat)
                + "Content-Type: application/json\nContent-Length: " + small.length, small)));
        // non-ASCII bytes in the header values the service reads, raw UTF-8 and Latin-1
        Map<String, String> nonAscii = new LinkedHashMap<>();
        nonAscii.put("UTF-8", u8("l\u00f6w"));
        nonAscii.put("UTF-8 snowman", u8("\u2603"));
        nonAscii.put("UTF-8 emoji", u8("normal\ud83d\ude00"));
        nonAscii.put("Latin-1", "l\u00f6w");
        nonAscii.put("Latin-1 only", "\u00ff\u00fe");
        for (var value : nonAscii.entrySet()) {
            for (String header : List.of("X-Fal-Queue-Priority", "X-Fal-Request-Start-Timeout", "X-Fal-Request-Timeout", "X-Forwarded-Host",
                    "X-Forwarded-Proto", "X-Forwarded-Port", "X-Forwarded-Prefix", "Idempotency-Key", "Authorization", "Content-Type")) {
                cases.add(Case.raw(header + " with " + value.getKey() + " bytes", submitRaw(header + ": " + value.getValue() + "\n", small)));
            }
        }
        for (String timeout : List.of("NaN", "Infinity", "-Infinity", "1e999", "-0", "0x10", "1".repeat(400), "1e-999", "", " ", "1,2",
                "4.9E-324", "1 2")) {
            cases.add(Case.raw("X-Fal-Request-Start-Timeout: " + shorten(timeout), submitRaw("X-Fal-Request-Start-Timeout: " + timeout + "\n",
                    small)));
        }
        for (String forwarded : List.of("X-Forwarded-Host: evil.example/\"><script>", "X-Forwarded-Host: a,b,,,", "X-Forwarded-Host: "
                + "a.".repeat(4000), "X-Forwarded-Port: 99999999999999999999", "X-Forwarded-Port: -1", "X-Forwarded-Proto: javascript",
                "X-Forwarded-Prefix: /../..", "X-Forwarded-Prefix: //evil.example", "Forwarded: for=\"[::1\";host=\u00ff",
                "X-Forwarded-Host: [::1]:99999999", "X-Forwarded-Host: \u0000", "X-Forwarded-Prefix: " + "/a".repeat(4000),
                "Host: " + "a.".repeat(4000))) {
            cases.add(Case.raw(shorten(printable(forwarded)), forwarded.startsWith("Host")
                    ? raw("POST " + SUBMIT + " HTTP/1.1\n" + forwarded + "\n" + auth + "Content-Type: application/json\nContent-Length: "
                            + small.length, small)
                    : submitRaw(forwarded + "\n", small)));
            cases.add(Case.raw(shorten(printable(forwarded)) + " (status)", raw("GET " + TestServer.statusPath(jobA) + " HTTP/1.1\n"
                    + (forwarded.startsWith("Host") ? "" : "Host: localhost\n") + forwarded + "\n" + auth.strip())));
        }
        return cases.stream();
    }

    // ----------------------------------------------------------- authorization and idempotency keys

    @Order(6)
    @ParameterizedTest(name = "{0}")
    @MethodSource
    void authorization_edge_cases(Case c) {
        Reply r = exchange(c);
        check(c, r);
        assertThat(new String(r.body(), ISO_8859_1)).as("never echoes the key").doesNotContain(server.key.substring(12));
    }

    static Stream<Case> authorization_edge_cases() {
        byte[] small = bytes(SMALL);
        String key = server.key;
        String other = server.newKey("corpus-other");
        List<Case> cases = new ArrayList<>();
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("two Authorization headers, both valid", "Authorization: Bearer " + key + "\nAuthorization: Bearer " + key);
        headers.put("two Authorization headers, two tenants", "Authorization: Bearer " + key + "\nAuthorization: Bearer " + other);
        headers.put("two Authorization headers, valid then garbage", "Authorization: Bearer " + key + "\nAuthorization: \u00ff");
        headers.put("empty Authorization", "Authorization:");
        headers.put("blank Authorization", "Authorization:    ");
        headers.put("empty scheme", "Authorization:  " + key);
        headers.put("scheme only", "Authorization: Bearer");
        headers.put("tab after the scheme", "Authorization: Bearer\t" + key);
        headers.put("two spaces after the scheme", "Authorization: Bearer  " + key);
        headers.put("key with trailing garbage", "Authorization: Bearer " + key + "garbage");
        headers.put("key with a trailing word", "Authorization: Bearer " + key + " garbage");
        headers.put("key with a trailing comma", "Authorization: Bearer " + key + ",");
        headers.put("key with a trailing NUL", "Authorization: Bearer " + key + "\u0000");
        headers.put("key with trailing Latin-1", "Authorization: Bearer " + key + "\u00e9");
        headers.put("key with trailing UTF-8", "Authorization: Bearer " + key + u8("\u00e9"));
        headers.put("key with a leading BOM", "Authorization: Bearer " + u8("\ufeff") + key);
        headers.put("key in upper case", "Authorization: Bearer " + key.toUpperCase(Locale.ROOT));
        headers.put("key cut short", "Authorization: Bearer " + key.substring(0, key.length() - 1));
        headers.put("key prefix only", "Authorization: Bearer gq_");
        headers.put("Basic with the key", "Authorization: Basic " + Base64.getEncoder().encodeToString((key + ":").getBytes(UTF_8)));
        headers.put("scheme in Latin-1", "Authorization: B\u00e9arer " + key);
        headers.put("scheme in UTF-8", "Authorization: " + u8("B\u00e9arer ") + key);
        headers.put("key of 6000 characters", "Authorization: Bearer " + "k".repeat(6000));
        headers.put("key of 60000 characters", "Authorization: Bearer " + "k".repeat(60_000));
        headers.put("key of 6000 UTF-8 characters", "Authorization: Bearer " + u8("\u00e9".repeat(3000)));
        headers.put("SQL in the key", "Authorization: Bearer gq_' OR '1'='1");
        headers.put("Authorization split in two lines", "Authorization: Bearer\n " + key);
        for (var e : headers.entrySet()) {
            cases.add(Case.raw(e.getKey(), RawHttp.concat(RawHttp.crlf("POST " + SUBMIT + " HTTP/1.1\nHost: localhost\n" + e.getValue()
                    + "\nContent-Type: application/json\nContent-Length: " + small.length + "\n\n"), small)));
            cases.add(Case.raw(e.getKey() + " (status)", RawHttp.crlf("GET " + TestServer.statusPath(jobA) + " HTTP/1.1\nHost: localhost\n"
                    + e.getValue() + "\n\n")));
        }
        return cases.stream();
    }

    @Order(7)
    @ParameterizedTest(name = "{0}")
    @MethodSource
    void idempotency_keys_that_are_not_printable_ascii(Case c) {
        JsonNode json = answer(c);
        if (c.statuses().equals(Set.of(422))) {
            assertThat(json.get("detail").toString()).contains("idempotency-key");
        }
    }

    static Stream<Case> idempotency_keys_that_are_not_printable_ascii() {
        byte[] small = bytes(SMALL);
        Map<String, String> keys = new LinkedHashMap<>();
        keys.put("UTF-8", u8("cl\u00e9-\u00fc"));
        keys.put("UTF-8 emoji", u8("key-\ud83d\ude00"));
        keys.put("Latin-1", "caf\u00e9");
        keys.put("only Latin-1", "\u00ff\u00fe\u00fd");
        keys.put("256 characters", "k".repeat(256));
        keys.put("1000 characters", "k".repeat(1000));
        keys.put("7000 characters", "k".repeat(7000));
        keys.put("255 UTF-8 characters", u8("\u00e9".repeat(255)));
        keys.put("encoded-word", "=?UTF-8?B?w6k=?=");
        Map<String, Set<Integer>> transport = Map.of("control byte", Set.of(400, 422), "NUL", Set.of(400, 422), "tab inside",
                Set.of(400, 422), "DEL", Set.of(400, 422), "60000 characters", Set.of(400, 413, 422, 431));
        List<Case> cases = new ArrayList<>();
        for (var e : keys.entrySet()) {
            cases.add(Case.raw("Idempotency-Key " + e.getKey(), submitRaw("Idempotency-Key: " + e.getValue() + "\n", small),
                    e.getKey().equals("encoded-word") ? 200 : 422));
        }
        Map<String, String> odd = Map.of("control byte", "key\u0001", "NUL", "key\u0000x", "tab inside", "key\tkey", "DEL", "key\u007f",
                "60000 characters", "k".repeat(60_000));
        for (var e : odd.entrySet()) {
            cases.add(Case.raw("Idempotency-Key " + e.getKey(), submitRaw("Idempotency-Key: " + e.getValue() + "\n", small),
                    transport.get(e.getKey()).toArray(Integer[]::new)));
        }
        cases.add(Case.raw("Idempotency-Key twice", submitRaw("Idempotency-Key: a\nIdempotency-Key: b\n", small), 200, 422));
        return cases.stream();
    }

    // ----------------------------------------------------------- request ids

    @Order(8)
    @ParameterizedTest(name = "{0}")
    @MethodSource
    void bad_request_ids_are_404_on_every_route(Case c) {
        JsonNode json = answer(c);
        if (c.cancelRoute()) {
            assertThat(json.path("status").asText()).as(json.toString()).isEqualTo("NOT_FOUND");
        }
    }

    static Stream<Case> bad_request_ids_are_404_on_every_route() {
        return requestIdCases(List.of("r", "req_", UNKNOWN_ID, UNKNOWN_ID.toUpperCase(Locale.ROOT),
                jobA.toUpperCase(Locale.ROOT), "req_01JDX8C2M1W4N6Q8S0T2V4X6Z8", "mmsu_01jdx8c2m1w4n6q8s0t2v4x6z8",
                "01jdx8c2m1w4n6q8s0t2v4x6z8", UNKNOWN_ID + "z", jobA + "0", jobA.substring(0, jobA.length() - 1),
                "req_01jdx8c2m1w4n6q8s0t2v4x6zi", "req_" + "0".repeat(4000), "req_'%20OR%201=1--", "req_'+OR+1=1--",
                "req_%27%20OR%20%271%27=%271", "req_%22;DROP%20TABLE%20jobs;--", "req_%25", "req_*", "..%5c..%5cgenqueue.db", "%00",
                jobA + "%00", UNKNOWN_ID + "%00x", "%ff%fe", "%C3%A9", u8("r\u00e9q_\u00fc"), "r\u00e9q", "%20", "+", "~", jobA + "%3Bx",
                "%0d%0aX-Injected:%201"), 404).stream();
    }

    @Order(8)
    @ParameterizedTest(name = "{0}")
    @MethodSource
    void request_id_paths_the_router_reads_otherwise(Case c) {
        answer(c);
    }

    static Stream<Case> request_id_paths_the_router_reads_otherwise() {
        List<Case> cases = new ArrayList<>();
        // Encoded slashes are decoded before routing, so these paths have more segments than any
        // route: a 404, but the cancel "route" answers with the general {"detail":"Not found"}.
        cases.addAll(requestIdCases(List.of("..%2f..%2fetc%2fpasswd", "..%2F..%2Fgenqueue.db", "req_abc%2fdef", jobA + "%2f",
                "%2e%2e%2f" + jobA), 404));
        // Empty and dot segments, broken escapes: whatever route they resolve to (or none), any 4xx.
        cases.addAll(requestIdCases(List.of("", ".", "..", "%2e", "%2e%2e", "%", "%zz", "%2")));
        // Spellings the HTTP layer reads as the real id (a path parameter after ';').
        cases.addAll(requestIdCases(List.of(jobA + ";x=y", jobA + ";", jobA + ";" + "p".repeat(3000))));
        // A real id under a model that does not exist, or with its path bent.
        cases.add(Case.raw("GET status with an encoded slash before 'requests'", raw("GET /v1/queue/nano_banana%2frequests/" + jobA
                + "/status HTTP/1.1\nHost: localhost\n" + auth)));
        for (String path : List.of("/v1/queue/other_model/requests/" + jobA + "/status", "/v1/queue/NANO_BANANA/requests/" + jobA + "/status",
                "/v1/queue/nano_banana/requests/" + jobA + "/status/stream/x",
                "/v1/queue/nano_banana/requests/" + jobA + "/response/..%2f..%2f..%2fgenqueue.db")) {
            cases.add(Case.raw("GET " + shorten(path), raw("GET " + path + " HTTP/1.1\nHost: localhost\n" + auth), 404));
        }
        return cases.stream();
    }

    /** Each id (as written in the path) on every per-request route: status, stream, response, its alias, cancel. */
    static List<Case> requestIdCases(List<String> ids, Integer... statuses) {
        List<Case> cases = new ArrayList<>();
        for (String id : ids) {
            String shown = "'" + shorten(printable(id)) + "'";
            for (String suffix : List.of("/status", "/status/stream", "/response", "")) {
                cases.add(Case.raw("GET " + (suffix.isEmpty() ? "(alias)" : suffix) + " of " + shown,
                        raw("GET /v1/queue/nano_banana/requests/" + id + suffix + " HTTP/1.1\nHost: localhost\n" + auth), statuses));
            }
            cases.add(Case.raw("PUT /cancel of " + shown, raw("PUT /v1/queue/nano_banana/requests/" + id + "/cancel HTTP/1.1\nHost: localhost\n"
                    + auth + "Content-Length: 0"), statuses).onCancelRoute());
        }
        return cases;
    }

    // ----------------------------------------------------------- signed image links

    @Order(9)
    @ParameterizedTest(name = "{0}")
    @MethodSource
    void file_route_tricks_never_reach_outside_the_image_store(Case c) throws IOException {
        Reply r = exchange(c);
        check(c, r);
        if (r.status() == 200 && !isPlaygroundPage(r)) { // '..' as the key normalises to GET /
            assertThat(r.body()).as("only the genuine image").isEqualTo(Files.readAllBytes(server.dataDir.resolve("images").resolve(imageKey)));
        }
    }

    static Stream<Case> file_route_tricks_never_reach_outside_the_image_store() {
        long future = (System.currentTimeMillis() / 1000 + 7200) / 3600 * 3600 + 3600;
        Map<String, String> targets = new LinkedHashMap<>();
        for (String path : List.of("/files/../genqueue.db", "/files/%2e%2e/genqueue.db", "/files/..%2fgenqueue.db", "/files/x/..%2f..%2flink-secret",
                "/files/x/%2e%2e%2f%2e%2e%2flink-secret", "/files/x/..%5c..%5clink-secret", "/files/%2e%2e/link-secret", "/files/x/../../link-secret",
                "/files//etc/passwd", "/files/%2fetc%2fpasswd/x", "/files/%2Fetc/passwd", "/files/x/%2Fetc%2Fpasswd", "/files/C:%5cWindows/win.ini",
                "/files/" + jobA + "/0.png%00.png", "/files/" + jobA + "/0.png%00", "/files/" + jobA + "/%00", "/files/%00/0.png",
                "/files/" + jobA + "/0.png/..", "/files/" + jobA + "/../../genqueue.db", "/files/" + jobA + "/..%2f..%2fgenqueue.db",
                "/files/images/..%2fgenqueue.db", "/files/" + jobA + "/" + "9".repeat(300) + ".png", "/files/" + "a".repeat(5000) + "/0.png",
                "/files/" + jobA + "/0." + "p".repeat(5000), "/files/genqueue.db/link-secret", "/files/" + jobA + "/.0.png.tmp",
                "/files/" + jobA, "/files/" + jobA + "/", "/files/", "/files", "/files/" + jobA + "/0.png/x", "/files/" + u8("\u00e9") + "/0.png",
                "/files/" + jobA + "/0.PNG", "/files/" + jobA + "/00.png", "/files/" + jobA + "/0.png.", "/files/" + jobA + "/-1.png",
                "/files/%", "/files/%zz/0.png", "/files/" + jobA + "\\0.png")) {
            targets.put(path, path + "?" + signedQuery);
        }
        String file = "/files/" + imageKey;
        targets.put("no signature", file);
        targets.put("empty signature", file + "?expires=&sig=");
        targets.put("garbage signature", file + "?expires=" + future + "&sig=garbage");
        targets.put("signature of 10000 characters", file + "?expires=" + future + "&sig=" + "A".repeat(10_000));
        targets.put("signature with Latin-1 bytes", file + "?expires=" + future + "&sig=\u00e9\u00ff");
        targets.put("signature with bad escapes", file + "?expires=%zz&sig=%");
        targets.put("expired, validly signed", file + "?expires=3600&sig=" + sign(imageKey, 3600));
        targets.put("expires 0, validly signed", file + "?expires=0&sig=" + sign(imageKey, 0));
        targets.put("expires negative", file + "?expires=-1&sig=" + sign(imageKey, -1));
        targets.put("expires overflowing long", file + "?expires=99999999999999999999&sig=x");
        targets.put("expires at Long.MAX_VALUE, validly signed", file + "?expires=" + Long.MAX_VALUE + "&sig=" + sign(imageKey, Long.MAX_VALUE));
        targets.put("expires not a number", file + "?expires=soon&sig=x");
        targets.put("forged expires and sig before the genuine ones", file + "?expires=" + future + "&sig=x&" + signedQuery);
        targets.put("genuine link with the job changed", "/files/" + jobB + "/a1-0.png?" + signedQuery);
        targets.put("genuine link with the index changed", "/files/" + jobA + "/a1-1.png?" + signedQuery);
        targets.put("genuine link with the attempt changed", "/files/" + jobA + "/a2-0.png?" + signedQuery);
        targets.put("genuine link without the attempt", "/files/" + jobA + "/0.png?" + signedQuery);
        targets.put("genuine link with the extension changed", "/files/" + jobA + "/a1-0.webp?" + signedQuery);
        targets.put("genuine link with the job in upper case", "/files/" + jobA.toUpperCase(Locale.ROOT) + "/a1-0.png?" + signedQuery);
        // signed with the real secret: the signature is no defence here, the key pattern must be
        for (String key : List.of("../genqueue.db", "..", "../link-secret", jobA + "/../../genqueue.db", "/etc/passwd", jobA + "/9.png")) {
            String encoded = key.replace("/", "%2F");
            targets.put("validly signed '" + key + "'", "/files/" + encoded + "?expires=" + future + "&sig=" + sign(key, future));
            targets.put("validly signed '" + key + "' as a path", "/files/" + key + "?expires=" + future + "&sig=" + sign(key, future));
        }
        List<Case> cases = new ArrayList<>();
        for (var e : targets.entrySet()) {
            cases.add(Case.raw("GET " + shorten(printable(e.getKey())), raw("GET " + e.getValue() + " HTTP/1.1\nHost: localhost"),
                    400, 403, 404, 414));
        }
        // other spellings of the genuine link's path: the HTTP layer may read them as the same file
        for (String path : List.of("/files/" + jobA + "//a1-0.png", "/files/" + jobA + "%2fa1-0.png", "/files/" + jobA + "/./a1-0.png",
                "/files/x/../" + jobA + "/a1-0.png", "//files/" + jobA + "/a1-0.png")) {
            cases.add(Case.raw("GET " + shorten(path) + " (genuine signature)", raw("GET " + path + "?" + signedQuery
                    + " HTTP/1.1\nHost: localhost"), 200, 400, 403, 404));
        }
        return cases.stream();
    }

    @Order(10)
    @Test
    void the_genuine_link_works_and_the_secrets_never_leave() throws Exception {
        RawHttp.Result r = RawHttp.send(port, raw("GET /files/" + imageKey + "?" + signedQuery + " HTTP/1.1\nHost: localhost"), BOUND);
        assertThat(r).isInstanceOf(RawHttp.Answer.class);
        RawHttp.Answer a = (RawHttp.Answer) r;
        assertThat(a.status()).isEqualTo(200);
        assertThat(a.header("content-type")).isEqualTo("image/png");
        assertNoSecrets("the genuine image", a.body());
        assertThat(a.body()).isEqualTo(Files.readAllBytes(server.dataDir.resolve("images").resolve(imageKey)));
    }

    // ----------------------------------------------------------- afterwards

    @Order(100)
    @Test
    void a_client_that_stops_sending_is_answered_or_dropped_within_the_read_timeout() throws Exception {
        List<String> problems = new ArrayList<>();
        for (var e : stalled.entrySet()) {
            RawHttp.Result result = e.getValue().get();
            switch (result) {
                case RawHttp.Answer a -> {
                    if (a.status() >= 500 || !a.bodyText().contains("\"detail\"")) {
                        problems.add(e.getKey() + ": answered " + a);
                    }
                }
                case RawHttp.ClosedWithoutAnswer closed -> {
                    // dropping a client that stopped sending is fine
                }
                case RawHttp.TimedOut t -> problems.add(e.getKey() + ": neither answered nor closed within " + STALLED_BOUND);
            }
        }
        assertThat(problems).isEmpty();
    }

    @Order(101)
    @Test
    void every_accepted_request_completes_and_the_server_still_works() {
        for (String id : accepted) {
            server.awaitCompleted(id);
            for (String path : List.of(TestServer.statusPath(id) + "?logs=1", TestServer.responsePath(id))) {
                TestServer.Response r = server.get(path);
                if (r.status() >= 500) { // the contract's answers for a request that failed upstream (or timed out)
                    assertThat(r.status()).as("%s of an accepted request answered %s", path, r.body()).isIn(502, 503, 504);
                    assertThat(r.json().has("error_type")).isTrue();
                    assertThat(r.header("X-Fal-Error-Type")).isNotNull();
                }
                assertThat(r.json().isObject()).isTrue();
                assertNoTrace(path, r.body());
                assertNoSecrets(path, r.body().getBytes(UTF_8));
            }
        }
        String id = server.submitOk("{\"prompt\":\"a cat after the storm\",\"num_images\":2}");
        assertThat(server.awaitCompleted(id).has("error")).isFalse();
        TestServer.Response result = server.get(TestServer.responsePath(id));
        assertThat(result.status()).as(result.body()).isEqualTo(200);
        assertThat(result.json().get("images")).hasSize(2);
        assertThat(server.get("/readyz").status()).isEqualTo(200);
    }

    // ================================================================= sending and judging

    static boolean isPlaygroundPage(Reply r) {
        return r.status() == 200 && r.contentType() != null && r.contentType().startsWith("text/html")
                && Arrays.equals(r.body(), PLAYGROUND_PAGE);
    }

    private static byte[] playgroundPage() {
        try (var in = BadInputCorpusTest.class.getClassLoader().getResourceAsStream("playground/index.html")) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Sends the case, checks the answer against the rules for every case, and returns its JSON. */
    static JsonNode answer(Case c) {
        return check(c, exchange(c));
    }

    static Reply exchange(Case c) {
        if (c.raw() != null) {
            return switch (RawHttp.send(port, c.raw(), BOUND, c.halfClose())) {
                case RawHttp.Answer a -> new Reply(a.status(), a.header("content-type"), a.body());
                case RawHttp.TimedOut t -> fail("no answer within " + BOUND + " (a hung request); received: " + t.received());
                case RawHttp.ClosedWithoutAnswer x -> fail("the connection closed without an answer; received: " + x.received());
            };
        }
        try {
            HttpResponse<byte[]> r = server.client.send(c.request(), HttpResponse.BodyHandlers.ofByteArray());
            DocumentedApi.get().check(c.request().method(), c.request().uri(), r.statusCode(), r.headers(), new String(r.body(), UTF_8));
            return new Reply(r.statusCode(), r.headers().firstValue("Content-Type").orElse(null), r.body());
        } catch (HttpTimeoutException e) {
            return fail("no answer within " + BOUND + " (a hung request)", e);
        } catch (IOException e) {
            return fail("no answer: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * The rules for every answer: not a 5xx (or one of the case's statuses), JSON with a detail when
     * there is a body (the cancel route may answer with its status object), no stack trace, no secret.
     */
    static JsonNode check(Case c, Reply r) {
        String what = c.name() + " answered " + r.status() + " " + r.text();
        if (isPlaygroundPage(r)) {
            // a target that normalises to "/" ("/files/..", "//"): the public page, the same for everyone
            return Json.mapper().createObjectNode();
        }
        if (c.protocolRefusals().contains(r.status())) {
            System.out.println("[corpus] " + c.name() + ": " + r.status() + " from the HTTP layer: " + r.text());
        } else if (c.statuses().isEmpty()) {
            assertThat(r.status()).as(what).isLessThan(500);
        } else {
            assertThat(r.status()).as(what).isIn(c.statuses());
        }
        assertNoSecrets(what, r.body());
        if (r.status() == 200 && r.contentType() != null && r.contentType().startsWith("image/")) {
            return Json.mapper().createObjectNode(); // a genuine image; the file route test compares its bytes
        }
        assertNoTrace(what, new String(r.body(), UTF_8));
        if (r.status() == 200 && r.contentType() != null && r.contentType().startsWith("text/event-stream")) {
            return Json.mapper().createObjectNode(); // a status stream of a real request
        }
        if (r.body().length == 0) {
            return Json.mapper().createObjectNode();
        }
        assertThat(r.contentType()).as(what).startsWith("application/json");
        JsonNode json;
        try {
            json = Json.mapper().readTree(r.body());
        } catch (IOException e) {
            return fail("not JSON: " + what, e);
        }
        assertThat(json.isObject()).as(what).isTrue();
        if (r.status() >= 400) {
            boolean cancelAnswer = c.cancelRoute() && json.has("status");
            assertThat(json.has("detail") || cancelAnswer).as("an error with a detail: " + what).isTrue();
        }
        if (r.status() == 200 && json.has("request_id")) {
            accepted.add(json.get("request_id").asText());
        }
        return json;
    }

    static void assertNoTrace(String what, String body) {
        for (String marker : TRACE_MARKERS) {
            assertThat(body).as("a stack trace in " + what).doesNotContain(marker);
        }
    }

    /** Neither the link secret (as stored or as bytes) nor the database reaches a client. */
    static void assertNoSecrets(String what, byte[] body) {
        String bytes = new String(body, ISO_8859_1);
        assertThat(bytes).as("the link secret in " + what).doesNotContain(secretText).doesNotContain(new String(secret, ISO_8859_1))
                .doesNotContainIgnoringCase(secretText);
        assertThat(bytes).as("the database in " + what).doesNotContain("SQLite format 3").doesNotContain("CREATE TABLE");
    }

    // ================================================================= building requests

    /** A submit through the JDK client with this body. */
    static Case body(String name, byte[] body, Integer... statuses) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(server.base + SUBMIT)).timeout(BOUND)
                .header("Authorization", "Bearer " + server.key).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        return Case.client(name, request, statuses);
    }

    static Case oversize(String name, byte[] body) {
        return Case.raw(name, raw("POST " + SUBMIT + " HTTP/1.1\nHost: 127.0.0.1\nAuthorization: Bearer " + server.key
                + "\nContent-Type: application/json\nContent-Length: " + body.length, body), 413);
    }

    /** {@code head} (lines, without the empty line; each char one byte) then {@code body}. */
    static byte[] raw(String head, byte[] body) {
        return concat(RawHttp.crlf(head + "\n\n"), body);
    }

    static byte[] raw(String head) {
        return raw(head, new byte[0]);
    }

    /** A submit with a valid key, the JSON content type, {@code extraHeaders} (lines ending in LF) and {@code body}. */
    static byte[] submitRaw(String extraHeaders, byte[] body) {
        return submitRaw(extraHeaders, body, "Content-Length: " + body.length + "\n");
    }

    static byte[] submitRaw(String extraHeaders, byte[] body, String lengthHeader) {
        return concat(RawHttp.crlf("POST " + SUBMIT + " HTTP/1.1\nHost: localhost\n" + auth + "Content-Type: application/json\n"
                + extraHeaders + lengthHeader + "\n"), body);
    }

    static String chunk(String data) {
        return Integer.toHexString(bytes(data).length) + "\r\n" + data + "\r\n";
    }

    /** The link signature, as the server computes it, from the secret in its data directory. */
    static String sign(String key, long expires) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal((key + "\n" + expires).getBytes(UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code template} with its {@code %s} padded with 'a' so the result is {@code size} bytes. */
    static String padTo(String template, int size) {
        return template.formatted("a".repeat(size - (template.length() - 2)));
    }

    static byte[] bytes(String s) {
        return s.getBytes(UTF_8);
    }

    /** Each char as one byte: how raw bytes are written into the corpus. */
    static byte[] latin1(String s) {
        return s.getBytes(ISO_8859_1);
    }

    /** The UTF-8 bytes of {@code s} as one char each, for text that is written with {@link #latin1} or {@link RawHttp#crlf}. */
    static String u8(String s) {
        return new String(s.getBytes(UTF_8), ISO_8859_1);
    }

    static byte[] concat(byte[]... parts) {
        return RawHttp.concat(parts);
    }

    static <T> List<T> concat(List<T> a, List<T> b) {
        List<T> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    static byte[] random(int n) {
        byte[] out = new byte[n];
        new Random(42).nextBytes(out);
        return out;
    }

    /** A case name for bytes that may not be printable. */
    static String printable(String s) {
        StringBuilder out = new StringBuilder();
        for (char ch : s.toCharArray()) {
            out.append(ch >= 0x20 && ch < 0x7f ? String.valueOf(ch) : String.format("\\x%02x", (int) ch));
        }
        return out.toString();
    }

    static String shorten(String s) {
        return s.length() <= 60 ? s : s.substring(0, 40) + "...(" + s.length() + " chars)";
    }
}
