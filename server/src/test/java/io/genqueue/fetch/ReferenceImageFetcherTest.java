package io.genqueue.fetch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genqueue.image.ImageData;
import io.genqueue.image.ImageFormat;
import io.genqueue.image.ImageInfo;
import io.genqueue.testing.TestImages;
import java.io.IOException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Fetches that work, and redirects, against real local servers. */
class ReferenceImageFetcherTest {

    private static final byte[] PNG = TestImages.png(40, 30);

    private final TestHttpServer server = startServer();

    @AfterEach
    void stopServer() {
        server.close();
    }

    @Test
    void fetches_a_png_from_an_allow_listed_server() throws Exception {
        server.on("/cat.png", TestHttpServer.bytes(200, "image/png", PNG));
        ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.allowing(server.allowEntry()));

        ImageData image = fetcher.fetch(server.url("/cat.png"));

        assertThat(image.bytes()).isEqualTo(PNG);
        assertThat(image.info()).isEqualTo(new ImageInfo(ImageFormat.PNG, 40, 30, PNG.length));
    }

    @Test
    void sends_a_plain_identity_get_with_the_host_as_written() throws Exception {
        server.on("/cat.png", TestHttpServer.bytes(200, "image/png", PNG));
        ReferenceImageFetcher fetcher = new ReferenceImageFetcher(
                Policies.allowing("images.test:" + server.port()), Policies.resolving("images.test", "127.0.0.1"));

        fetcher.fetch("http://Images.TEST:" + server.port() + "/cat.png?size=large#fragment");

        assertThat(server.requests).singleElement().isEqualTo(new TestHttpServer.Request(
                "/cat.png?size=large", "images.test:" + server.port(), "genqueue-fetch", "image/*", "identity", "close"));
    }

    @Test
    void allow_list_matches_the_resolved_address_too() throws Exception {
        server.on("/cat.png", TestHttpServer.bytes(200, "image/png", PNG));
        ReferenceImageFetcher fetcher = new ReferenceImageFetcher(
                Policies.allowing(server.allowEntry()), Policies.resolving("images.test", "127.0.0.1"));

        assertThat(fetcher.fetch("http://images.test:" + server.port() + "/cat.png").bytes()).isEqualTo(PNG);
    }

    @Test
    void reads_a_chunked_body() throws Exception {
        server.on("/chunked.png", TestHttpServer.chunked(PNG, 100));
        ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.allowing(server.allowEntry()));

        ImageData image = fetcher.fetch(server.url("/chunked.png"));

        assertThat(image.bytes()).isEqualTo(PNG);
        assertThat(image.info().format()).isEqualTo(ImageFormat.PNG);
    }

    @Test
    void reads_a_body_that_ends_when_the_connection_closes() throws Exception {
        try (RawServer raw = RawServer.start(RawServer.answer("HTTP/1.0 200 OK\nContent-Type: image/gif", TestImages.gif(7, 5)))) {
            ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.allowing(raw.allowEntry()));

            ImageData image = fetcher.fetch(raw.url("/until-close.gif"));

            assertThat(image.info()).extracting(ImageInfo::format, ImageInfo::width, ImageInfo::height)
                    .containsExactly(ImageFormat.GIF, 7, 5);
        }
    }

    @Test
    void skips_interim_responses_and_ignores_trailers() throws Exception {
        byte[] jpeg = TestImages.jpeg(9, 9);
        String hex = Integer.toHexString(jpeg.length);
        byte[] body = concat(
                (hex + ";ext=1\r\n").getBytes(), jpeg, "\r\n0\r\nX-Trailer: yes\r\n\r\n".getBytes());
        try (RawServer raw = RawServer.start(RawServer.answer(
                "HTTP/1.1 103 Early Hints\nLink: </x>\n\nHTTP/1.1 200 OK\nTransfer-Encoding: chunked", body))) {
            ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.allowing(raw.allowEntry()));

            assertThat(fetcher.fetch(raw.url("/x.jpg")).info().format()).isEqualTo(ImageFormat.JPEG);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {301, 302, 303, 307, 308})
    void follows_redirects_within_the_allowed_server(int status) throws Exception {
        server.on("/cat.png", TestHttpServer.bytes(200, "image/png", PNG));
        server.on("/old", TestHttpServer.redirect(status, "/cat.png"));
        ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.allowing(server.allowEntry()));

        assertThat(fetcher.fetch(server.url("/old")).bytes()).isEqualTo(PNG);
    }

    @Test
    void follows_a_relative_redirect_and_then_an_absolute_one_to_another_allowed_server() throws Exception {
        try (TestHttpServer other = startServer()) {
            other.on("/final.png", TestHttpServer.bytes(200, "image/png", PNG));
            server.on("/a/b", TestHttpServer.redirect(302, "c"));
            server.on("/a/c", TestHttpServer.redirect(301, other.url("/final.png")));
            ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.allowing(server.allowEntry(), other.allowEntry()));

            assertThat(fetcher.fetch(server.url("/a/b")).bytes()).isEqualTo(PNG);
            assertThat(other.requests).hasSize(1);
        }
    }

    @Test
    void follows_exactly_the_redirect_limit() throws Exception {
        server.on("/cat.png", TestHttpServer.bytes(200, "image/png", PNG));
        server.on("/r1", TestHttpServer.redirect(302, "/r2"));
        server.on("/r2", TestHttpServer.redirect(302, "/r3"));
        server.on("/r3", TestHttpServer.redirect(302, "/cat.png"));
        ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.allowing(server.allowEntry()));

        assertThat(fetcher.fetch(server.url("/r1")).bytes()).isEqualTo(PNG);
    }

    @Test
    void refuses_a_redirect_loop() {
        server.on("/loop", TestHttpServer.redirect(302, "/loop"));
        ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.allowing(server.allowEntry()));

        assertThatThrownBy(() -> fetcher.fetch(server.url("/loop")))
                .isInstanceOf(ImageFetchException.class)
                .hasMessage("reference image URL redirected more than 3 times");
        assertThat(server.requests).hasSize(4);
    }

    @Test
    void refuses_a_redirect_to_another_port_on_loopback() throws IOException {
        try (RawServer other = RawServer.start(RawServer.answer("HTTP/1.1 200 OK\nContent-Length: " + PNG.length, PNG))) {
            server.on("/go", TestHttpServer.redirect(302, other.url("/cat.png")));
            ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.allowing(server.allowEntry()));

            assertThatThrownBy(() -> fetcher.fetch(server.url("/go")))
                    .isInstanceOf(ImageFetchException.class)
                    .hasMessage("reference image host 127.0.0.1 is a non-public address");
            assertThat(other.connections).hasValue(0);
        }
    }

    @Test
    void refuses_a_redirect_to_the_cloud_metadata_address() {
        server.on("/go", TestHttpServer.redirect(307, "http://169.254.169.254/latest/meta-data/"));
        ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.allowing(server.allowEntry()));

        assertThatThrownBy(() -> fetcher.fetch(server.url("/go")))
                .isInstanceOf(ImageFetchException.class)
                .hasMessage("reference image host 169.254.169.254 is a non-public address");
    }

    @Test
    void refuses_a_redirect_to_a_name_that_resolves_to_a_private_address() {
        server.on("/go", TestHttpServer.redirect(302, "http://evil.test/cat.png"));
        ReferenceImageFetcher fetcher = new ReferenceImageFetcher(
                Policies.allowing(server.allowEntry()), Policies.resolving("evil.test", "192.168.1.20"));

        assertThatThrownBy(() -> fetcher.fetch(server.url("/go")))
                .isInstanceOf(ImageFetchException.class)
                .hasMessage("reference image host evil.test resolves to a non-public address");
    }

    @Test
    void refuses_redirects_to_other_schemes_and_redirects_without_location() {
        server.on("/ftp", TestHttpServer.redirect(302, "ftp://files.example.com/cat.png"));
        server.on("/file", TestHttpServer.redirect(302, "file:///etc/passwd"));
        server.on("/nowhere", exchange -> exchange.sendResponseHeaders(302, -1));
        server.on("/bad", TestHttpServer.redirect(302, "http://exa mple.com/"));
        ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.allowing(server.allowEntry()));

        assertThatThrownBy(() -> fetcher.fetch(server.url("/ftp")))
                .hasMessage("reference image redirect from 127.0.0.1 must use http or https, not ftp");
        assertThatThrownBy(() -> fetcher.fetch(server.url("/file")))
                .hasMessage("reference image redirect from 127.0.0.1 must use http or https, not file");
        assertThatThrownBy(() -> fetcher.fetch(server.url("/nowhere")))
                .hasMessage("reference image host 127.0.0.1 answered 302 without a Location");
        assertThatThrownBy(() -> fetcher.fetch(server.url("/bad")))
                .hasMessage("reference image redirect from 127.0.0.1 is not a valid URL");
    }

    @Test
    void refuses_answers_that_are_not_success() {
        server.on("/missing.png", TestHttpServer.bytes(404, "text/html", TestImages.HTML));
        server.on("/broken.png", TestHttpServer.bytes(500, "text/plain", "oops".getBytes()));
        server.on("/not-modified.png", exchange -> exchange.sendResponseHeaders(304, -1));
        ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.allowing(server.allowEntry()));

        assertThatThrownBy(() -> fetcher.fetch(server.url("/missing.png")))
                .isInstanceOf(ImageFetchException.class)
                .hasMessage("reference image host 127.0.0.1 answered 404");
        assertThatThrownBy(() -> fetcher.fetch(server.url("/broken.png")))
                .hasMessage("reference image host 127.0.0.1 answered 500");
        assertThatThrownBy(() -> fetcher.fetch(server.url("/not-modified.png")))
                .hasMessage("reference image host 127.0.0.1 answered 304");
    }

    @Test
    void refuses_content_that_is_not_a_usable_image() {
        byte[] truncated = java.util.Arrays.copyOf(PNG, PNG.length / 2);
        server.on("/page.png", TestHttpServer.bytes(200, "image/png", TestImages.HTML));
        server.on("/half.png", TestHttpServer.bytes(200, "image/png", truncated));
        server.on("/bomb.png", TestHttpServer.bytes(200, "image/png", TestImages.pngWithHeader(100_000, 100_000)));
        server.on("/empty.png", exchange -> exchange.sendResponseHeaders(204, -1));
        ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.allowing(server.allowEntry()));

        assertThatThrownBy(() -> fetcher.fetch(server.url("/page.png")))
                .isInstanceOf(ImageFetchException.class)
                .hasMessage("reference image from 127.0.0.1 is not a PNG, JPEG, WebP or GIF image"
                        + " (it looks like an HTML, XML or SVG page)");
        assertThatThrownBy(() -> fetcher.fetch(server.url("/half.png")))
                .hasMessage("reference image from 127.0.0.1 is a truncated or corrupt PNG");
        assertThatThrownBy(() -> fetcher.fetch(server.url("/bomb.png")))
                .hasMessage("reference image from 127.0.0.1 is 100000x100000 pixels, more than the limit of 40000000 pixels");
        assertThatThrownBy(() -> fetcher.fetch(server.url("/empty.png")))
                .hasMessage("reference image from 127.0.0.1 is empty");
    }

    @Test
    void decodes_data_uris() throws Exception {
        ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.allowing());
        byte[] jpeg = TestImages.jpeg(3, 2);
        byte[] gif = TestImages.gif(2, 2);
        byte[] webp = TestImages.webp(TestImages.WEBP_LOSSLESS);

        assertThat(fetcher.fetch(TestImages.dataUri("image/png", PNG)).info())
                .isEqualTo(new ImageInfo(ImageFormat.PNG, 40, 30, PNG.length));
        assertThat(fetcher.fetch(TestImages.dataUri("image/jpeg", jpeg)).info().format()).isEqualTo(ImageFormat.JPEG);
        assertThat(fetcher.fetch(TestImages.dataUri("image/gif", gif)).info().format()).isEqualTo(ImageFormat.GIF);
        assertThat(fetcher.fetch(TestImages.dataUri("image/webp", webp)).info())
                .isEqualTo(new ImageInfo(ImageFormat.WEBP, 1, 1, webp.length));
        // The declared type is only a declaration: the bytes decide.
        assertThat(fetcher.fetch(TestImages.dataUri("image/png", gif)).info().format()).isEqualTo(ImageFormat.GIF);
    }

    @Test
    void refuses_bad_data_uris() {
        ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.withMaxBytes(100));

        assertThatThrownBy(() -> fetcher.fetch("data:image/png;base64,%%%"))
                .isInstanceOf(ImageFetchException.class)
                .hasMessage("reference image data URI is not valid base64");
        assertThatThrownBy(() -> fetcher.fetch("data:text/html;base64,PGgxPmhpPC9oMT4="))
                .hasMessage("reference image data URI is not an image (text/html)");
        assertThatThrownBy(() -> fetcher.fetch(TestImages.dataUri("image/png", PNG)))
                .hasMessage("reference image data URI is larger than 100 bytes");
        assertThatThrownBy(() -> fetcher.fetch(TestImages.dataUri("image/png", TestImages.HTML)))
                .hasMessageStartingWith("reference image data URI is not a PNG, JPEG, WebP or GIF image");
    }

    private static TestHttpServer startServer() {
        try {
            return new TestHttpServer();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static byte[] concat(byte[]... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }
}
