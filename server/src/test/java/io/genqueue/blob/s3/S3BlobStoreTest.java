package io.genqueue.blob.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genqueue.blob.BlobStore;
import io.genqueue.blob.BlobStoreContract;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The S3 blob store against a real S3-API server (S3Proxy, signatures checked): the contract, each
 * test under a prefix of its own in one bucket, and what only an object store does (prefixes,
 * presigned links, the bucket's health).
 */
class S3BlobStoreTest extends BlobStoreContract<S3BlobStore> {

    private static final String BUCKET = "genqueue-images";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final AtomicInteger TESTS = new AtomicInteger();

    private static S3ProxyServer server;

    private final String prefix = "images/test" + TESTS.incrementAndGet();

    @BeforeAll
    static void start() {
        server = S3ProxyServer.start();
        server.createBucket(BUCKET);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Override
    protected S3BlobStore open() {
        return new S3BlobStore(server.settings(BUCKET, prefix));
    }

    @Test
    void objects_live_under_the_prefix() {
        store.put("job_prefixed/0.webp", bytes(10, 2), "image/webp");

        try (S3Client raw = server.client()) {
            List<String> keys = raw.listObjectsV2(l -> l.bucket(BUCKET).prefix(prefix + "/job_prefixed/")).contents()
                    .stream().map(S3Object::key).toList();
            assertThat(keys).containsExactly(prefix + "/job_prefixed/0.webp");
        }
    }

    @Test
    void deleting_a_job_leaves_the_same_job_under_another_prefix() {
        store.put("job_del/0.png", bytes(10, 5), "image/png");
        try (S3BlobStore other = new S3BlobStore(server.settings(BUCKET, prefix + "-other"))) {
            other.put("job_del/0.png", bytes(10, 10), "image/png");

            store.deleteJob("job_del");

            assertThat(store.open("job_del/0.png")).isEmpty();
            assertThat(other.open("job_del/0.png")).isPresent();
        }
    }

    @Test
    void a_presigned_link_serves_the_bytes_with_their_content_type() throws Exception {
        byte[] bytes = bytes(4096, 12);
        store.put("job_link/0.png", bytes, "image/png");

        URI link = store.presignedUrl("job_link/0.png", Duration.ofMinutes(10)).orElseThrow();
        HttpResponse<byte[]> response = get(link);

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo(bytes);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("image/png");
        assertThat(link.toString()).startsWith(server.endpoint() + "/" + BUCKET + "/" + prefix + "/job_link/0.png?")
                .doesNotContain(S3ProxyServer.SECRET_KEY);
    }

    @Test
    void the_blob_store_offers_presigned_links_as_direct_urls() throws Exception {
        store.put("job_direct/1.webp", bytes(100, 13), "image/webp");
        BlobStore blobs = store;

        URI link = blobs.directUrl("job_direct/1.webp", Duration.ofHours(1)).orElseThrow();

        HttpResponse<byte[]> response = get(link);
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("image/webp");
    }

    @Test
    void links_work_under_a_prefix_that_needs_encoding() throws Exception {
        byte[] bytes = bytes(64, 17);
        try (S3BlobStore odd = new S3BlobStore(server.settings(BUCKET, "tenant a+b/%7e"))) {
            odd.put("job_odd/0.png", bytes, "image/png");

            assertThat(read(odd.open("job_odd/0.png"))).isEqualTo(bytes);
            HttpResponse<byte[]> response = get(odd.presignedUrl("job_odd/0.png", Duration.ofMinutes(5)).orElseThrow());
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).isEqualTo(bytes);
            odd.deleteJob("job_odd");
            assertThat(odd.open("job_odd/0.png")).isEmpty();
        }
    }

    @Test
    void an_expired_presigned_link_is_refused() throws Exception {
        store.put("job_expired/0.png", bytes(100, 14), "image/png");
        // Signed three hours ago for one second: expired by the next whole hour after that.
        Clock past = Clock.offset(Clock.systemUTC(), Duration.ofHours(-3));
        try (S3BlobStore signedInThePast = new S3BlobStore(server.settings(BUCKET, prefix), past)) {
            URI link = signedInThePast.presignedUrl("job_expired/0.png", Duration.ofSeconds(1)).orElseThrow();

            HttpResponse<byte[]> response = get(link);

            // Refused for its age, not its signature: the same store signs valid links (below).
            assertThat(response.statusCode()).isEqualTo(403);
            assertThat(new String(response.body(), StandardCharsets.UTF_8)).contains("<Code>AccessDenied</Code>")
                    .contains("expired");
        }
    }

    @Test
    void a_tampered_presigned_link_is_refused() throws Exception {
        store.put("job_tamper/0.png", bytes(100, 15), "image/png");
        store.put("job_tamper/1.png", bytes(100, 16), "image/png");
        URI link = store.presignedUrl("job_tamper/0.png", Duration.ofMinutes(10)).orElseThrow();

        URI other = URI.create(link.toString().replace("job_tamper/0.png", "job_tamper/1.png"));

        HttpResponse<byte[]> response = get(other);

        assertThat(response.statusCode()).isEqualTo(403);
        assertThat(new String(response.body(), StandardCharsets.UTF_8)).contains("<Code>SignatureDoesNotMatch</Code>");
    }

    @Test
    void links_are_signed_on_whole_hours_so_repeated_calls_give_the_same_url() {
        Clock clock = Clock.fixed(Instant.parse("2026-03-01T10:17:42Z"), ZoneOffset.UTC);
        try (S3BlobStore fixed = new S3BlobStore(server.settings(BUCKET, prefix), clock)) {
            URI first = fixed.presignedUrl("job_cache/0.png", Duration.ofHours(24)).orElseThrow();
            URI again = fixed.presignedUrl("job_cache/0.png", Duration.ofHours(24)).orElseThrow();

            assertThat(again).isEqualTo(first);
            assertThat(first.getQuery()).contains("X-Amz-Date=20260301T100000Z")
                    // from 10:00 to 11:00 the next day: 24 h from 10:17:42, rounded up to the hour
                    .contains("X-Amz-Expires=" + (25 * 3600));
        }
    }

    @Test
    void a_link_never_outlives_seven_days() {
        Clock clock = Clock.fixed(Instant.parse("2026-03-01T10:17:42Z"), ZoneOffset.UTC);
        try (S3BlobStore fixed = new S3BlobStore(server.settings(BUCKET, prefix), clock)) {
            URI link = fixed.presignedUrl("job_cache/0.png", Duration.ofDays(30)).orElseThrow();
            assertThat(link.getQuery()).contains("X-Amz-Expires=604800");
        }
    }

    @Test
    void no_link_for_a_key_outside_the_pattern() {
        assertThat(store.presignedUrl("../x/0.png", Duration.ofMinutes(1))).isEmpty();
    }

    @Test
    void ping_is_false_for_a_missing_bucket() {
        try (S3BlobStore missing = new S3BlobStore(server.settings("no-such-bucket", ""))) {
            assertThat(missing.ping()).isFalse();
        }
    }

    @Test
    void ping_is_false_with_wrong_credentials() {
        S3Settings wrong = S3Settings.parse("s3://" + BUCKET, server.endpoint().toString(), "us-east-1", true,
                S3ProxyServer.ACCESS_KEY, "not-the-secret");
        try (S3BlobStore store = new S3BlobStore(wrong)) {
            assertThat(store.ping()).isFalse();
        }
    }

    @Test
    void ping_is_false_when_no_server_answers() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        S3Settings down = S3Settings.parse("s3://" + BUCKET, "http://127.0.0.1:" + closedPort, "us-east-1", true,
                S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY);
        try (S3BlobStore downStore = new S3BlobStore(down)) {
            assertThat(downStore.ping()).isFalse();
            assertThatThrownBy(() -> downStore.put("job_down/0.png", new byte[1], "image/png"))
                    .isInstanceOf(io.genqueue.blob.BlobStoreException.class)
                    .hasMessageContaining("job_down/0.png")
                    .hasMessageNotContaining(S3ProxyServer.SECRET_KEY);
        }
    }

    private static HttpResponse<byte[]> get(URI link) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(link).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }
}
