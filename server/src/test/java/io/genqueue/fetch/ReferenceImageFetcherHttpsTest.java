package io.genqueue.fetch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.genqueue.image.ImageData;
import io.genqueue.testing.TestImages;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIMatcher;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocketFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * https over the checked socket: SNI, certificate verification against the URL's host name, and
 * sliced reads that survive a slow TLS server. The certificate ({@link LocalhostCertificate}) is
 * for "localhost" and 127.0.0.1, and trusted only by the test's socket factory.
 */
class ReferenceImageFetcherHttpsTest {

    private static final byte[] PNG = TestImages.png(40, 30);

    @TempDir
    static Path directory;

    private static HttpsServer server;
    private static ExecutorService executor;
    private static SSLSocketFactory trusting;
    private static final List<String> serverNames = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void startServer() throws Exception {
        LocalhostCertificate certificate = LocalhostCertificate.create(directory);
        SSLContext serverContext = certificate.serverContext();
        trusting = certificate.trusting();

        server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(serverContext) {
            @Override
            public void configure(HttpsParameters params) {
                SSLParameters parameters = serverContext.getDefaultSSLParameters();
                parameters.setSNIMatchers(List.of(new SNIMatcher(0) {
                    @Override
                    public boolean matches(SNIServerName name) {
                        serverNames.add(((SNIHostName) name).getAsciiName());
                        return true;
                    }
                }));
                params.setSSLParameters(parameters);
            }
        });
        server.createContext("/cat.png", exchange -> {
            try (exchange) {
                exchange.sendResponseHeaders(200, PNG.length);
                exchange.getResponseBody().write(PNG);
            }
        });
        server.createContext("/slow.png", exchange -> {
            try (exchange) {
                exchange.sendResponseHeaders(200, 0);
                OutputStream out = exchange.getResponseBody();
                for (int i = 0; i < PNG.length; i += 256) {
                    out.write(PNG, i, Math.min(256, PNG.length - i));
                    out.flush();
                    if (i < 3 * 256) {
                        sleep(300); // longer than one read slice of the client
                    }
                }
            }
        });
        executor = Executors.newCachedThreadPool(Thread.ofPlatform().daemon().factory());
        server.setExecutor(executor);
        server.start();
    }

    @AfterAll
    static void stopServer() {
        server.stop(0);
        executor.shutdownNow();
    }

    @Test
    void fetches_over_tls_with_sni_and_a_verified_certificate() throws Exception {
        int port = server.getAddress().getPort();
        serverNames.clear();
        ReferenceImageFetcher fetcher = new ReferenceImageFetcher(
                Policies.allowing("localhost:" + port), Policies.resolving("localhost", "127.0.0.1"), trusting);

        ImageData image = fetcher.fetch("https://localhost:" + port + "/cat.png");

        assertThat(image.bytes()).isEqualTo(PNG);
        assertThat(serverNames).containsExactly("localhost");
    }

    @Test
    void verifies_an_ip_address_against_the_certificate_too() throws Exception {
        int port = server.getAddress().getPort();
        ReferenceImageFetcher fetcher = new ReferenceImageFetcher(
                Policies.allowing("127.0.0.1:" + port), Policies.resolving(java.util.Map.of()), trusting);

        assertThat(fetcher.fetch("https://127.0.0.1:" + port + "/cat.png").bytes()).isEqualTo(PNG);
    }

    @Test
    void refuses_a_certificate_for_another_name() {
        int port = server.getAddress().getPort();
        ReferenceImageFetcher fetcher = new ReferenceImageFetcher(
                Policies.allowing("other.test:" + port), Policies.resolving("other.test", "127.0.0.1"), trusting);

        assertThatThrownBy(() -> fetcher.fetch("https://other.test:" + port + "/cat.png"))
                .isInstanceOf(ImageFetchException.class)
                .hasMessage("reference image host other.test failed the TLS handshake"
                        + " (its certificate may be invalid or not for this name)");
    }

    @Test
    void refuses_an_untrusted_certificate_with_the_default_trust_store() {
        int port = server.getAddress().getPort();
        ReferenceImageFetcher fetcher = new ReferenceImageFetcher(
                Policies.allowing("localhost:" + port), Policies.resolving("localhost", "127.0.0.1"));

        assertThatThrownBy(() -> fetcher.fetch("https://localhost:" + port + "/cat.png"))
                .isInstanceOf(ImageFetchException.class)
                .hasMessageStartingWith("reference image host localhost failed the TLS handshake");
    }

    @Test
    void slice_timeouts_do_not_break_a_slow_tls_stream() throws Exception {
        int port = server.getAddress().getPort();
        ReferenceImageFetcher fetcher = new ReferenceImageFetcher(
                Policies.allowing("localhost:" + port), Policies.resolving("localhost", "127.0.0.1"), trusting);

        assertThat(fetcher.fetch("https://localhost:" + port + "/slow.png").bytes()).isEqualTo(PNG);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
