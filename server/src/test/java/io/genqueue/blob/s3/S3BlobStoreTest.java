package io.genqueue.blob.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genqueue.blob.BlobStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
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
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/** The S3 blob store against a real S3-API server (S3Proxy, signatures checked). */
class S3BlobStoreTest {

    private static final String BUCKET = "genqueue-images";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static S3ProxyServer server;
    private static S3BlobStore store;

    @BeforeAll
    static void start() {
        server = S3ProxyServer.start();
        server.createBucket(BUCKET);
        store = new S3BlobStore(server.settings(BUCKET, "images/v1"));
    }

    @AfterAll
    static void stop() {
        if (store != null) {
            store.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void put_then_open_returns_the_bytes_and_size() throws IOException {
        byte[] bytes = bytes(5000, 1);
        store.put("job_roundtrip/0.png", bytes, "image/png");

        BlobStore.Blob blob = store.open("job_roundtrip/0.png").orElseThrow();
        try (InputStream in = blob.stream()) {
            assertThat(blob.size()).isEqualTo(5000);
            assertThat(in.readAllBytes()).isEqualTo(bytes);
        }
    }

    @Test
    void objects_live_under_the_prefix() {
        store.put("job_prefixed/0.webp", bytes(10, 2), "image/webp");

        try (S3Client raw = server.client()) {
            List<String> keys = raw.listObjectsV2(l -> l.bucket(BUCKET).prefix("images/v1/job_prefixed/")).contents()
                    .stream().map(S3Object::key).toList();
            assertThat(keys).containsExactly("images/v1/job_prefixed/0.webp");
        }
    }

    @Test
    void writing_the_same_key_again_replaces_the_blob() throws IOException {
        store.put("job_overwrite/0.jpg", bytes(3000, 3), "image/jpeg");
        byte[] second = bytes(1200, 4);
        store.put("job_overwrite/0.jpg", second, "image/jpeg");

        assertThat(read(store.open("job_overwrite/0.jpg"))).isEqualTo(second);
        assertThat(store.open("job_overwrite/0.jpg").orElseThrow().size()).isEqualTo(1200);
    }

    @Test
    void opening_a_missing_or_invalid_key_is_empty() {
        assertThat(store.open("job_never_written/0.png")).isEmpty();
        assertThat(store.open("../etc/0.png")).isEmpty();
        assertThat(store.open("job_x/0.exe")).isEmpty();
    }

    @Test
    void put_refuses_a_key_outside_the_pattern() {
        assertThatThrownBy(() -> store.put("../../escape/0.png", new byte[1], "image/png"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void delete_job_removes_every_key_of_the_job_and_only_those() {
        store.put("job_del/0.png", bytes(10, 5), "image/png");
        store.put("job_del/1.jpg", bytes(10, 6), "image/jpeg");
        store.put("job_del/2.webp", bytes(10, 7), "image/webp");
        store.put("job_de/0.png", bytes(10, 8), "image/png"); // a prefix of the job id
        store.put("job_dele/0.png", bytes(10, 9), "image/png"); // the job id is a prefix of it
        try (S3BlobStore other = new S3BlobStore(server.settings(BUCKET, "other"))) {
            other.put("job_del/0.png", bytes(10, 10), "image/png"); // same job id, another prefix

            store.deleteJob("job_del");

            assertThat(store.open("job_del/0.png")).isEmpty();
            assertThat(store.open("job_del/1.jpg")).isEmpty();
            assertThat(store.open("job_del/2.webp")).isEmpty();
            assertThat(store.open("job_de/0.png")).isPresent();
            assertThat(store.open("job_dele/0.png")).isPresent();
            assertThat(other.open("job_del/0.png")).isPresent();
        }
    }

    @Test
    void deleting_a_job_with_no_images_is_fine() {
        store.deleteJob("job_nothing_here");
        store.put("job_twice/0.png", bytes(10, 11), "image/png");
        store.deleteJob("job_twice");
        store.deleteJob("job_twice");
        assertThat(store.open("job_twice/0.png")).isEmpty();
    }

    @Test
    void delete_job_refuses_a_non_job_id() {
        assertThatThrownBy(() -> store.deleteJob("")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.deleteJob("a/b")).isInstanceOf(IllegalArgumentException.class);
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
        assertThat(link.toString()).startsWith(server.endpoint() + "/" + BUCKET + "/images/v1/job_link/0.png?")
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
        try (S3BlobStore signedInThePast = new S3BlobStore(server.settings(BUCKET, "images/v1"), past)) {
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
        try (S3BlobStore fixed = new S3BlobStore(server.settings(BUCKET, "images/v1"), clock)) {
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
        try (S3BlobStore fixed = new S3BlobStore(server.settings(BUCKET, "images/v1"), clock)) {
            URI link = fixed.presignedUrl("job_cache/0.png", Duration.ofDays(30)).orElseThrow();
            assertThat(link.getQuery()).contains("X-Amz-Expires=604800");
        }
    }

    @Test
    void no_link_for_a_key_outside_the_pattern() {
        assertThat(store.presignedUrl("../x/0.png", Duration.ofMinutes(1))).isEmpty();
    }

    @Test
    void ping_is_true_while_the_bucket_answers() {
        assertThat(store.ping()).isTrue();
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
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("job_down/0.png")
                    .hasMessageNotContaining(S3ProxyServer.SECRET_KEY);
        }
    }

    private static HttpResponse<byte[]> get(URI link) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(link).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    private static byte[] read(Optional<BlobStore.Blob> blob) {
        try (InputStream in = blob.orElseThrow().stream()) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }
}
