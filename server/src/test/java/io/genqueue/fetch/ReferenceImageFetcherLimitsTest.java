package io.genqueue.fetch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genqueue.testing.TestImages;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Servers that send too much, too slowly, nothing at all, or nonsense; and a fetch whose job is
 * cancelled. Timing assertions are generous upper bounds: the point is that a fetch ends.
 */
class ReferenceImageFetcherLimitsTest {

    private static final byte[] PNG = TestImages.png(40, 30);

    @Test
    void refuses_an_announced_content_length_above_the_limit_without_reading_it() throws Exception {
        // The server announces 10 MB and then stalls: only the announcement can end this quickly.
        try (RawServer raw = RawServer.startStalling(RawServer.answerRaw(
                "HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n".getBytes(StandardCharsets.US_ASCII)))) {
            ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.withMaxBytes(1000, raw.allowEntry()));

            assertThatThrownBy(() -> fetcher.fetch(raw.url("/big.png")))
                    .isInstanceOf(ImageFetchException.class)
                    .hasMessage("reference image from 127.0.0.1 is larger than 1000 bytes");
        }
    }

    @Test
    void refuses_a_chunked_body_that_grows_past_the_limit() throws Exception {
        byte[] big = TestImages.png(200, 200);
        try (TestHttpServer server = new TestHttpServer().on("/big.png", TestHttpServer.chunked(big, 512))) {
            ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.withMaxBytes(big.length - 1, server.allowEntry()));

            assertThatThrownBy(() -> fetcher.fetch(server.url("/big.png")))
                    .isInstanceOf(ImageFetchException.class)
                    .hasMessageStartingWith("reference image from 127.0.0.1 is larger than ");
        }
    }

    @Test
    void refuses_a_body_without_length_that_grows_past_the_limit() throws Exception {
        // An endless body: the fetch must stop at the limit, not wait for the end.
        try (RawServer raw = RawServer.start((socket, request) -> {
            OutputStream out = socket.getOutputStream();
            out.write("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] block = new byte[8192];
            while (true) {
                out.write(block);
            }
        })) {
            ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.withMaxBytes(7L * 1024 * 1024, raw.allowEntry()));

            assertThatThrownBy(() -> fetcher.fetch(raw.url("/endless.png")))
                    .isInstanceOf(ImageFetchException.class)
                    .hasMessage("reference image from 127.0.0.1 is larger than 7 MiB");
        }
    }

    @Test
    void accepts_a_body_of_exactly_the_limit() throws Exception {
        try (RawServer raw = RawServer.start(RawServer.answer("HTTP/1.1 200 OK\nContent-Length: " + PNG.length, PNG))) {
            ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.withMaxBytes(PNG.length, raw.allowEntry()));

            assertThat(fetcher.fetch(raw.url("/exact.png")).bytes()).isEqualTo(PNG);
        }
    }

    @Test
    void gives_up_on_a_server_that_drips_one_byte_every100_ms() throws Exception {
        try (RawServer raw = RawServer.start((socket, request) -> {
            OutputStream out = socket.getOutputStream();
            out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + PNG.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            for (byte b : PNG) {
                out.write(b);
                out.flush();
                Thread.sleep(100); // the server stalls on purpose; the test waits on the fetch
            }
        })) {
            ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.withTimeout(Duration.ofSeconds(1), raw.allowEntry()));

            long start = System.nanoTime();
            assertThatThrownBy(() -> fetcher.fetch(raw.url("/slow.png")))
                    .isInstanceOf(ImageFetchException.class)
                    .hasMessage("reference image download from 127.0.0.1 took longer than 1 s");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        }
    }

    @Test
    void gives_up_on_a_server_that_drips_its_headers() throws Exception {
        try (RawServer raw = RawServer.start((socket, request) -> {
            OutputStream out = socket.getOutputStream();
            for (int i = 0; ; i++) {
                out.write(i == 0 ? "HTTP/1.1 200 OK\r\n".getBytes(StandardCharsets.US_ASCII) : "X: y\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                Thread.sleep(50);
            }
        })) {
            ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.withTimeout(Duration.ofMillis(700), raw.allowEntry()));

            assertThatThrownBy(() -> fetcher.fetch(raw.url("/slow.png")))
                    .isInstanceOf(ImageFetchException.class)
                    .hasMessage("reference image download from 127.0.0.1 took longer than 700 ms");
        }
    }

    @Test
    void gives_up_on_a_server_that_never_answers() throws Exception {
        try (RawServer raw = RawServer.silent()) {
            ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.withTimeout(Duration.ofSeconds(1), raw.allowEntry()));

            long start = System.nanoTime();
            assertThatThrownBy(() -> fetcher.fetch(raw.url("/never.png")))
                    .isInstanceOf(ImageFetchException.class)
                    .hasMessage("reference image download from 127.0.0.1 took longer than 1 s");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        }
    }

    @Test
    void the_deadline_covers_redirects_and_dns_too() throws Exception {
        // Each hop answers quickly, but the name lookup of the second one never ends.
        try (RawServer raw = RawServer.start(RawServer.answer("HTTP/1.1 302 Found\nLocation: http://slow-dns.test/x.png\nContent-Length: 0", new byte[0]))) {
            java.util.concurrent.CountDownLatch never = new java.util.concurrent.CountDownLatch(1);
            HostResolver stuck = host -> {
                try {
                    never.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                throw new java.net.UnknownHostException(host);
            };
            ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.withTimeout(Duration.ofMillis(500), raw.allowEntry()), stuck);

            assertThatThrownBy(() -> fetcher.fetch(raw.url("/start")))
                    .isInstanceOf(ImageFetchException.class)
                    .hasMessage("reference image download from slow-dns.test took longer than 500 ms");
        }
    }

    @Test
    void a_cancelled_fetch_ends_promptly_with_interrupted_exception() throws Exception {
        try (RawServer raw = RawServer.startStalling(RawServer.answerRaw(
                "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n".getBytes(StandardCharsets.US_ASCII)))) {
            ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.withTimeout(Duration.ofSeconds(60), raw.allowEntry()));
            AtomicReference<Throwable> outcome = new AtomicReference<>();
            Thread fetching = Thread.ofPlatform().start(() -> {
                try {
                    fetcher.fetch(raw.url("/stalled.png"));
                    outcome.set(new AssertionError("fetch returned"));
                } catch (Throwable t) {
                    outcome.set(t);
                }
            });

            assertThat(raw.requestReceived.await(10, TimeUnit.SECONDS)).isTrue();
            fetching.interrupt();
            fetching.join(5000);

            assertThat(fetching.isAlive()).as("fetch still running 5 s after the interrupt").isFalse();
            assertThat(outcome.get()).isInstanceOf(InterruptedException.class);
        }
    }

    @Test
    void a_cancelled_fetch_ends_promptly_during_the_tls_handshake() throws Exception {
        try (RawServer raw = RawServer.silent()) {
            ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.withTimeout(Duration.ofSeconds(60), raw.allowEntry()));
            AtomicReference<Throwable> outcome = new AtomicReference<>();
            Thread fetching = Thread.ofPlatform().start(() -> {
                try {
                    fetcher.fetch("https://127.0.0.1:" + raw.port() + "/stalled.png");
                    outcome.set(new AssertionError("fetch returned"));
                } catch (Throwable t) {
                    outcome.set(t);
                }
            });

            assertThat(raw.accepted.await(10, TimeUnit.SECONDS)).isTrue();
            fetching.interrupt();
            fetching.join(5000);

            assertThat(fetching.isAlive()).as("fetch still running 5 s after the interrupt").isFalse();
            assertThat(outcome.get()).isInstanceOf(InterruptedException.class);
        }
    }

    @Test
    void an_already_interrupted_thread_does_not_fetch() throws Exception {
        try (RawServer raw = RawServer.start(RawServer.answer("HTTP/1.1 200 OK\nContent-Length: " + PNG.length, PNG))) {
            ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.allowing(raw.allowEntry()));

            Thread.currentThread().interrupt();
            assertThatThrownBy(() -> fetcher.fetch(raw.url("/x.png"))).isInstanceOf(InterruptedException.class);
            assertThat(Thread.interrupted()).isFalse();
            assertThat(raw.connections).hasValue(0);
        }
    }

    @Test
    void refuses_malformed_responses() throws Exception {
        assertMalformed("HELLO THERE\r\n\r\n", "sent a malformed HTTP response");
        assertMalformed("HTTP/2 200 OK\r\n\r\n", "sent a malformed HTTP response");
        assertMalformed("HTTP/1.1 200 OK\r\nBad Header\r\n\r\n", "sent a malformed HTTP response");
        assertMalformed("HTTP/1.1 200 OK\r\n folded: value\r\n\r\n", "sent a malformed HTTP response");
        assertMalformed("HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n", "sent a malformed HTTP response");
        assertMalformed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", "sent a malformed HTTP response");
        assertMalformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", "sent a malformed HTTP response");
        assertMalformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "sent a malformed HTTP response");
        assertMalformed("HTTP/1.1 200 OK\r\nX: " + "a".repeat(70_000) + "\r\n\r\n", "sent a malformed HTTP response");
        assertMalformed("HTTP/1.1 200 OK\r\n" + "X: y\r\n".repeat(101) + "\r\n", "sent a malformed HTTP response");
        assertMalformed("HTTP/1.1 101 Switching Protocols\r\n\r\n", "sent a malformed HTTP response");
        assertMalformed("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc",
                "sent an encoded (compressed) body although none was asked for");
        assertMalformed("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly a little",
                "closed the connection before the response was complete");
        assertMalformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n100\r\nshort",
                "closed the connection before the response was complete");
        assertMalformed("", "closed the connection before the response was complete");
    }

    private static void assertMalformed(String response, String problem) throws Exception {
        try (RawServer raw = RawServer.start(RawServer.answerRaw(response.getBytes(StandardCharsets.ISO_8859_1)))) {
            ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.allowing(raw.allowEntry()));

            assertThatThrownBy(() -> fetcher.fetch(raw.url("/x.png")))
                    .as(response.length() > 60 ? response.substring(0, 60) : response)
                    .isInstanceOf(ImageFetchException.class)
                    .hasMessage("reference image host 127.0.0.1 " + problem);
        }
    }
}
