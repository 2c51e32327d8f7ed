package io.genqueue.fetch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genqueue.testing.Eventually;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Webhook posts against real local receivers: what they receive, which answers count as
 * delivered, and every way an attempt can fail or be refused, each a value with a short reason.
 */
class WebhookPosterTest {

    private static final byte[] BODY = "{\"request_id\":\"req-1\",\"status\":\"OK\",\"payload\":{\"images\":[]}}"
            .getBytes(StandardCharsets.UTF_8);
    private static final Pattern CONTENT_LENGTH = Pattern.compile("(?i)\r\nContent-Length: ([0-9]+)\r\n");

    @TempDir
    Path directory;

    @Test
    void a_200_and_a_204_are_delivered_with_their_status() throws Exception {
        try (TestHttpServer receiver = new TestHttpServer()
                .on("/ok", TestHttpServer.bytes(200, "text/plain", "thanks".getBytes()))
                .on("/empty", exchange -> exchange.sendResponseHeaders(204, -1))) {
            WebhookPoster poster = poster(receiver.allowEntry());

            Delivery ok = poster.post(poster.check(receiver.url("/ok")), Map.of(), BODY);
            Delivery empty = poster.post(poster.check(receiver.url("/empty")), Map.of(), BODY);

            assertThat(ok).isInstanceOfSatisfying(Delivery.Answered.class, answered -> {
                assertThat(answered.status()).isEqualTo(200);
                assertThat(answered.took()).isPositive();
            });
            assertThat(ok.delivered()).isTrue();
            assertThat(empty).isInstanceOfSatisfying(Delivery.Answered.class, answered -> assertThat(answered.status()).isEqualTo(204));
            assertThat(empty.delivered()).isTrue();
        }
    }

    @Test
    void the_receiver_gets_exactly_the_body_and_the_header_fields() throws Exception {
        AtomicReference<byte[]> received = new AtomicReference<>();
        try (RawServer receiver = RawServer.start(readingBody(received, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))) {
            WebhookPoster poster = poster(receiver.allowEntry());
            Map<String, String> headers = new LinkedHashMap<>();
            headers.put("X-Fal-Webhook-Request-Id", "req-1");
            headers.put("X-Fal-Webhook-Timestamp", "1700000000");
            headers.put("X-Fal-Webhook-Signature", "ab12");

            Delivery delivery = poster.post(poster.check(receiver.url("/hooks/fal?token=s3cret")), headers, BODY);

            assertThat(delivery.delivered()).isTrue();
            assertThat(receiver.requests).containsExactly("POST /hooks/fal?token=s3cret HTTP/1.1\r\n"
                    + "Host: 127.0.0.1:" + receiver.port() + "\r\n"
                    + "User-Agent: genqueue\r\n"
                    + "Content-Type: application/json\r\n"
                    + "X-Fal-Webhook-Request-Id: req-1\r\n"
                    + "X-Fal-Webhook-Timestamp: 1700000000\r\n"
                    + "X-Fal-Webhook-Signature: ab12\r\n"
                    + "Content-Length: " + BODY.length + "\r\n"
                    + "Connection: close\r\n"
                    + "\r\n");
            assertThat(received.get()).isEqualTo(BODY);
        }
    }

    @Test
    void a_500_is_an_answer_but_not_a_delivery() throws Exception {
        try (TestHttpServer receiver = new TestHttpServer().on("/hook", TestHttpServer.bytes(500, "text/plain", "oops".getBytes()))) {
            WebhookPoster poster = poster(receiver.allowEntry());

            Delivery delivery = poster.post(poster.check(receiver.url("/hook")), Map.of(), BODY);

            assertThat(delivery).isInstanceOfSatisfying(Delivery.Answered.class, answered -> assertThat(answered.status()).isEqualTo(500));
            assertThat(delivery.delivered()).isFalse();
        }
    }

    @Test
    void a_redirect_is_an_answer_that_is_not_followed() throws Exception {
        try (TestHttpServer moved = new TestHttpServer().on("/new", exchange -> exchange.sendResponseHeaders(204, -1));
                TestHttpServer receiver = new TestHttpServer().on("/hook", TestHttpServer.redirect(302, moved.url("/new")))) {
            WebhookPoster poster = poster(receiver.allowEntry(), moved.allowEntry());

            Delivery delivery = poster.post(poster.check(receiver.url("/hook")), Map.of(), BODY);

            assertThat(delivery).isInstanceOfSatisfying(Delivery.Answered.class, answered -> assertThat(answered.status()).isEqualTo(302));
            assertThat(delivery.delivered()).isFalse();
            assertThat(receiver.requests).hasSize(1);
            assertThat(moved.requests).isEmpty();
        }
    }

    @Test
    void an_answer_with_an_endless_body_is_still_an_answer() throws Exception {
        try (RawServer receiver = RawServer.start((socket, request) -> {
            socket.getOutputStream().write("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] block = new byte[8192];
            while (true) {
                socket.getOutputStream().write(block);
            }
        })) {
            WebhookPoster poster = new WebhookPoster(settings(Duration.ofSeconds(60), receiver.allowEntry()), Policies.resolving(Map.of()));

            Delivery delivery = poster.post(poster.check(receiver.url("/hook")), Map.of(), BODY);

            assertThat(delivery).isInstanceOfSatisfying(Delivery.Answered.class, answered -> assertThat(answered.status()).isEqualTo(200));
        }
    }

    @Test
    void a_receiver_that_is_down_fails_with_connection_refused() throws Exception {
        int port;
        try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = closed.getLocalPort();
        }
        WebhookPoster poster = poster("127.0.0.1:" + port);

        Delivery delivery = poster.post(poster.check("http://127.0.0.1:" + port + "/hook"), Map.of(), BODY);

        assertThat(delivery).isEqualTo(new Delivery.Failed("connection refused"));
        assertThat(delivery.delivered()).isFalse();
    }

    @Test
    void a_receiver_that_does_not_answer_in_time_fails_with_a_timeout() throws Exception {
        try (RawServer receiver = RawServer.startStalling((socket, request) -> { })) {
            WebhookPoster poster = new WebhookPoster(settings(Duration.ofMillis(500), receiver.allowEntry()), Policies.resolving(Map.of()));

            Delivery delivery = poster.post(poster.check(receiver.url("/hook")), Map.of(), BODY);

            assertThat(delivery).isEqualTo(new Delivery.Failed("timed out after 500 ms waiting for the answer"));
            assertThat(receiver.requests).hasSize(1);
        }
    }

    @Test
    void a_receiver_that_never_reads_the_body_fails_with_a_timeout() throws Exception {
        // Far more than the socket buffers hold: the write blocks until the deadline closes it.
        byte[] large = new byte[32 * 1024 * 1024];
        try (RawServer receiver = RawServer.silent()) {
            WebhookPoster poster = new WebhookPoster(settings(Duration.ofMillis(500), receiver.allowEntry()), Policies.resolving(Map.of()));

            Delivery delivery = poster.post(poster.check(receiver.url("/hook")), Map.of(), large);

            assertThat(delivery).isEqualTo(new Delivery.Failed("timed out after 500 ms waiting for the answer"));
        }
    }

    @Test
    void a_name_that_does_not_resolve_fails() throws Exception {
        WebhookPoster poster = poster();

        Delivery delivery = poster.post(poster.check("https://nowhere.test/hook"), Map.of(), BODY);

        assertThat(delivery).isEqualTo(new Delivery.Failed("host name could not be resolved"));
    }

    @Test
    void answers_that_are_not_http_fail() throws Exception {
        assertFails("HELLO THERE\r\n\r\n", "malformed HTTP answer");
        assertFails("HTTP/1.1 200 OK\r\nBad Header\r\n\r\n", "malformed HTTP answer");
        assertFails("HTTP/1.1 101 Switching Protocols\r\n\r\n", "malformed HTTP answer");
        assertFails("", "connection closed before the answer");
        assertFails("HTTP/1.1 200 O", "connection closed before the answer");
    }

    @Test
    void a_name_resolving_to_a_refused_address_is_refused_at_posting_with_nothing_sent() throws Exception {
        try (RawServer listening = RawServer.start(RawServer.answer("HTTP/1.1 200 OK\nContent-Length: 0", new byte[0]))) {
            Map<String, String[]> names = Map.of(
                    "loopback.test", new String[] {"127.0.0.1"},
                    "loopback6.test", new String[] {"::1"},
                    "private.test", new String[] {"10.0.0.1"},
                    "metadata.test", new String[] {"169.254.169.254"},
                    "mapped.test", new String[] {"::ffff:10.1.2.3"},
                    "nat64.test", new String[] {"64:ff9b::a9fe:a9fe"},
                    "ula.test", new String[] {"fd12:3456::1"},
                    "mixed.test", new String[] {"93.184.216.34", "127.0.0.1"});
            WebhookPoster poster = new WebhookPoster(settings(Duration.ofSeconds(5)), Policies.resolving(names));

            for (String name : names.keySet()) {
                WebhookTarget target = poster.check("http://" + name + ":" + listening.port() + "/hook");

                assertThat(poster.post(target, Map.of(), BODY)).as(name)
                        .isEqualTo(new Delivery.Refused("resolves to a non-public address"));
            }
            assertThat(listening.connections).hasValue(0);
        }
    }

    @Test
    void every_attempt_resolves_the_name_again() throws Exception {
        try (TestHttpServer receiver = new TestHttpServer().on("/hook", exchange -> exchange.sendResponseHeaders(204, -1))) {
            // First a checked, allowed answer; then the name rebinds to a private address.
            AtomicInteger lookups = new AtomicInteger();
            HostResolver rebinding = host -> new InetAddress[] {
                InetAddress.getByName(lookups.getAndIncrement() == 0 ? "127.0.0.1" : "10.0.0.1")};
            WebhookPoster poster = new WebhookPoster(settings(Duration.ofSeconds(5), receiver.allowEntry()), rebinding);
            WebhookTarget target = poster.check("http://hooks.test:" + receiver.port() + "/hook");

            assertThat(poster.post(target, Map.of(), BODY).delivered()).isTrue();
            assertThat(poster.post(target, Map.of(), BODY)).isEqualTo(new Delivery.Refused("resolves to a non-public address"));
            assertThat(lookups).hasValue(2);
            assertThat(receiver.requests).singleElement().extracting(TestHttpServer.Request::host)
                    .isEqualTo("hooks.test:" + receiver.port());
        }
    }

    @Test
    void a_literal_no_longer_allowed_is_refused_at_posting() throws Exception {
        try (RawServer listening = RawServer.start(RawServer.answer("HTTP/1.1 200 OK\nContent-Length: 0", new byte[0]))) {
            WebhookTarget target = poster(listening.allowEntry()).check(listening.url("/hook"));

            assertThat(poster().post(target, Map.of(), BODY)).isEqualTo(new Delivery.Refused("is a non-public address"));
            assertThat(listening.connections).hasValue(0);
        }
    }

    @Test
    void header_fields_the_poster_writes_or_that_are_not_valid_are_refused_before_connecting() throws Exception {
        try (RawServer receiver = RawServer.start(RawServer.answer("HTTP/1.1 200 OK\nContent-Length: 0", new byte[0]))) {
            WebhookPoster poster = poster(receiver.allowEntry());
            WebhookTarget target = poster.check(receiver.url("/hook"));

            for (Map<String, String> headers : List.of(Map.of("content-type", "text/plain"), Map.of("User-Agent", "x"),
                    Map.of("Host", "elsewhere"), Map.of("Content-Length", "1"), Map.of("Connection", "keep-alive"),
                    Map.of("Transfer-Encoding", "chunked"), Map.of("X-Id", "a\r\nInjected: yes"), Map.of("Bad Name", "x"))) {
                assertThatThrownBy(() -> poster.post(target, headers, BODY)).as(headers.toString())
                        .isInstanceOf(IllegalArgumentException.class);
            }
            assertThat(receiver.connections).hasValue(0);
        }
    }

    @Test
    void posts_over_tls_with_a_verified_certificate_and_describes_the_target_without_its_query() throws Exception {
        LocalhostCertificate certificate = LocalhostCertificate.create(directory);
        List<byte[]> bodies = new CopyOnWriteArrayList<>();
        try (TestHttpServer receiver = TestHttpServer.https(certificate.serverContext()).on("/hook", exchange -> {
            bodies.add(exchange.getRequestBody().readAllBytes());
            exchange.sendResponseHeaders(204, -1);
        })) {
            String allow = "localhost:" + receiver.port();
            WebhookPoster poster = new WebhookPoster(settings(Duration.ofSeconds(10), allow),
                    Policies.resolving("localhost", "127.0.0.1"), certificate.trusting());
            WebhookTarget target = poster.check("https://localhost:" + receiver.port() + "/hook?token=s3cret");

            Delivery delivery = poster.post(target, Map.of("X-Fal-Webhook-Request-Id", "req-1"), BODY);

            assertThat(delivery).isInstanceOfSatisfying(Delivery.Answered.class, answered -> assertThat(answered.status()).isEqualTo(204));
            assertThat(bodies).singleElement().isEqualTo(BODY);
            assertThat(receiver.requests).singleElement().extracting(TestHttpServer.Request::path).isEqualTo("/hook?token=s3cret");
            assertThat(target.safeDescription()).isEqualTo("https://localhost:" + receiver.port() + "/hook");
            assertThat(target.host()).isEqualTo("localhost");
        }
    }

    @Test
    void a_tls_receiver_whose_certificate_is_not_trusted_fails_the_handshake() throws Exception {
        LocalhostCertificate certificate = LocalhostCertificate.create(directory);
        try (TestHttpServer receiver = TestHttpServer.https(certificate.serverContext())
                .on("/hook", exchange -> exchange.sendResponseHeaders(204, -1))) {
            WebhookPoster poster = new WebhookPoster(settings(Duration.ofSeconds(10), "localhost:" + receiver.port()),
                    Policies.resolving("localhost", "127.0.0.1"));

            Delivery delivery = poster.post(poster.check("https://localhost:" + receiver.port() + "/hook"), Map.of(), BODY);

            assertThat(delivery).isEqualTo(new Delivery.Failed("TLS handshake failed (the certificate may be invalid or not for this name)"));
            assertThat(receiver.requests).isEmpty();
        }
    }

    @Test
    void an_interrupted_post_ends_with_interrupted_exception() throws Exception {
        try (RawServer receiver = RawServer.startStalling((socket, request) -> { })) {
            WebhookPoster poster = new WebhookPoster(settings(Duration.ofSeconds(60), receiver.allowEntry()), Policies.resolving(Map.of()));
            WebhookTarget target = poster.check(receiver.url("/hook"));
            AtomicReference<Throwable> outcome = new AtomicReference<>();
            Thread posting = Thread.ofPlatform().start(() -> {
                try {
                    outcome.set(new AssertionError("post returned " + poster.post(target, Map.of(), BODY)));
                } catch (Throwable t) {
                    outcome.set(t);
                }
            });

            Eventually.until(Duration.ofSeconds(10), "the receiver has the request", () -> !receiver.requests.isEmpty());
            posting.interrupt();
            Eventually.until(Duration.ofSeconds(10), "the post ends after the interrupt", () -> !posting.isAlive());

            assertThat(outcome.get()).isInstanceOf(InterruptedException.class);
        }
    }

    @Test
    void an_already_interrupted_thread_does_not_post() throws Exception {
        try (RawServer receiver = RawServer.start(RawServer.answer("HTTP/1.1 200 OK\nContent-Length: 0", new byte[0]))) {
            WebhookPoster poster = poster(receiver.allowEntry());
            WebhookTarget target = poster.check(receiver.url("/hook"));

            Thread.currentThread().interrupt();
            assertThatThrownBy(() -> poster.post(target, Map.of(), BODY)).isInstanceOf(InterruptedException.class);
            assertThat(Thread.interrupted()).isFalse();
            assertThat(receiver.connections).hasValue(0);
        }
    }

    private static void assertFails(String answer, String reason) throws Exception {
        try (RawServer receiver = RawServer.start(RawServer.answerRaw(answer.getBytes(StandardCharsets.ISO_8859_1)))) {
            WebhookPoster poster = poster(receiver.allowEntry());

            assertThat(poster.post(poster.check(receiver.url("/hook")), Map.of(), BODY)).as(answer)
                    .isEqualTo(new Delivery.Failed(reason));
        }
    }

    /** Reads the request's body (framed by its Content-Length) into {@code body}, then writes {@code answer}. */
    private static RawServer.Handler readingBody(AtomicReference<byte[]> body, String answer) {
        return (socket, request) -> {
            Matcher length = CONTENT_LENGTH.matcher(request);
            assertThat(length.find()).as(request).isTrue();
            InputStream in = socket.getInputStream();
            body.set(in.readNBytes(Integer.parseInt(length.group(1))));
            socket.getOutputStream().write(answer.getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
        };
    }

    private static WebhookPoster poster(String... allow) {
        return new WebhookPoster(settings(Duration.ofSeconds(10), allow), Policies.resolving(Map.of()));
    }

    private static WebhookPoster.Settings settings(Duration readTimeout, String... allow) {
        return new WebhookPoster.Settings(Duration.ofSeconds(5), readTimeout, Set.of(allow));
    }
}
