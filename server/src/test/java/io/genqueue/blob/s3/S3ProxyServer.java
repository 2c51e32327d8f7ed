package io.genqueue.blob.s3;

import io.genqueue.testing.Eventually;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A real S3-API server for tests: S3Proxy (in-memory storage, SigV4 checked) run as a child JVM
 * on a free loopback port. Maven puts its jar at {@code target/s3proxy/s3proxy.jar}
 * (see the pom) and passes the path as the {@code s3proxy.jar} system property.
 */
public final class S3ProxyServer implements AutoCloseable {

    public static final String ACCESS_KEY = "test-access-key";
    public static final String SECRET_KEY = "test-secret-key-not-for-production";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private final Process process;
    private final Path dir;
    private final URI endpoint;

    private S3ProxyServer(Process process, Path dir, URI endpoint) {
        this.process = process;
        this.dir = dir;
        this.endpoint = endpoint;
    }

    /** Starts a server and waits until it accepts connections. */
    public static S3ProxyServer start() {
        Path jar = Path.of(System.getProperty("s3proxy.jar", "target/s3proxy/s3proxy.jar"));
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("no S3Proxy jar at " + jar.toAbsolutePath()
                    + ": run the tests through Maven (./mvnw test), which downloads it in generate-test-resources");
        }
        try {
            Path dir = Files.createTempDirectory("s3proxy");
            // A port that was free a moment ago; should another process take it first, S3Proxy
            // exits and the wait below says so.
            int port;
            try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = probe.getLocalPort();
            }
            URI endpoint = URI.create("http://127.0.0.1:" + port);
            Path conf = dir.resolve("s3proxy.conf");
            Files.writeString(conf, String.join("\n",
                    "s3proxy.endpoint=" + endpoint,
                    "s3proxy.authorization=aws-v2-or-v4",
                    "s3proxy.identity=" + ACCESS_KEY,
                    "s3proxy.credential=" + SECRET_KEY,
                    "jclouds.provider=transient",
                    "jclouds.identity=unused",
                    "jclouds.credential=unused",
                    ""), StandardCharsets.UTF_8);
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Path log = dir.resolve("s3proxy.log");
            Process process = new ProcessBuilder(List.of(java, "-Xmx256m", "-XX:TieredStopAtLevel=1",
                    "-jar", jar.toString(), "--properties", conf.toString()))
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            S3ProxyServer server = new S3ProxyServer(process, dir, endpoint);
            server.awaitListening(port, log);
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void awaitListening(int port, Path log) throws IOException {
        try {
            Eventually.until(START_TIMEOUT, "S3Proxy listening on port " + port, () -> {
                if (!process.isAlive()) {
                    throw new IllegalStateException("S3Proxy exited with " + process.exitValue());
                }
                try (Socket socket = new Socket()) {
                    socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                    return true;
                } catch (IOException notYet) {
                    return false; // polling a starting JVM: nothing to wait on but its port
                }
            });
        } catch (RuntimeException | AssertionError e) {
            String output = Files.readString(log);
            close();
            throw new IllegalStateException(e.getMessage() + ":\n" + output, e);
        }
    }

    public URI endpoint() {
        return endpoint;
    }

    /** Settings for {@code s3://bucket/prefix} on this server, path style, with its keys. */
    public S3Settings settings(String bucket, String prefix) {
        return S3Settings.parse("s3://" + bucket + (prefix.isEmpty() ? "" : "/" + prefix), endpoint.toString(),
                "us-east-1", true, ACCESS_KEY, SECRET_KEY);
    }

    /** A plain SDK client with the server's keys, for creating buckets and looking behind the store. */
    public S3Client client() {
        return S3Client.builder()
                .httpClientBuilder(UrlConnectionHttpClient.builder())
                .endpointOverride(endpoint)
                .region(Region.US_EAST_1)
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
                .build();
    }

    /** Creates {@code bucket}. */
    public void createBucket(String bucket) {
        try (S3Client client = client()) {
            client.createBucket(b -> b.bucket(bucket));
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        try (var files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory; the OS cleans it eventually
        }
    }
}
