package io.genqueue.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.genqueue.blob.FsBlobStore;
import io.genqueue.blob.s3.S3BlobStore;
import io.genqueue.blob.s3.S3ProxyServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Image urls in a result: presigned object-store links when the blob store offers them, else our /files links. */
class ImageLinksTest {

    private static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private static final String BASE = "https://queue.example.test";

    @Test
    void a_store_on_disk_gets_signed_links_to_the_files_route(@TempDir Path dir) {
        Clock clock = Clock.fixed(Instant.parse("2026-03-01T10:17:42Z"), ZoneOffset.UTC);
        LinkSigner signer = new LinkSigner(SECRET, Duration.ofHours(24), clock);
        ImageLinks links = new ImageLinks(new FsBlobStore(dir), signer, Duration.ofHours(24));

        String url = links.url(BASE, "job_fs/0.png");

        assertThat(url).isEqualTo(BASE + signer.sign("job_fs/0.png"));
        assertThat(url).startsWith(BASE + "/files/job_fs/0.png?expires=");
    }

    @Test
    void an_s3_store_gets_presigned_links_that_serve_the_image() throws Exception {
        try (S3ProxyServer server = S3ProxyServer.start()) {
            server.createBucket("links");
            try (S3BlobStore blobs = new S3BlobStore(server.settings("links", "img"))) {
                byte[] png = {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 1, 2, 3};
                blobs.put("job_s3/0.png", png, "image/png");
                LinkSigner signer = new LinkSigner(SECRET, Duration.ofHours(24), Clock.systemUTC());
                ImageLinks links = new ImageLinks(blobs, signer, Duration.ofHours(24));

                String url = links.url(BASE, "job_s3/0.png");

                assertThat(url).startsWith(server.endpoint() + "/links/img/job_s3/0.png?").contains("X-Amz-Signature=")
                        .doesNotContain("/files/");
                HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
                HttpResponse<byte[]> response = http.send(HttpRequest.newBuilder(URI.create(url))
                        .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
                assertThat(response.statusCode()).isEqualTo(200);
                assertThat(response.body()).isEqualTo(png);
                assertThat(response.headers().firstValue("Content-Type")).hasValue("image/png");
            }
        }
    }
}
