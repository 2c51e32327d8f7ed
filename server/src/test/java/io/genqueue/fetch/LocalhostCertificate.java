package io.genqueue.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * A certificate for "localhost" and 127.0.0.1, made by the JDK's keytool, for https test servers
 * ({@link #serverContext()}) and trusted only by {@link #trusting()}: the default trust store
 * refuses it.
 */
final class LocalhostCertificate {

    private final SSLContext serverContext;
    private final SSLSocketFactory trusting;

    private LocalhostCertificate(SSLContext serverContext, SSLSocketFactory trusting) {
        this.serverContext = serverContext;
        this.trusting = trusting;
    }

    /** Makes a key pair and its certificate in {@code directory}. */
    static LocalhostCertificate create(Path directory) throws Exception {
        Path keystore = directory.resolve("localhost.p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "localhost", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2",
                "-keystore", keystore.toString(), "-storetype", "PKCS12",
                "-storepass", "changeit", "-keypass", "changeit", "-noprompt")
                .redirectErrorStream(true).start();
        String output = new String(keytool.getInputStream().readAllBytes());
        assertThat(keytool.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(keytool.exitValue()).as(output).isZero();

        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            store.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(store, "changeit".toCharArray());
        SSLContext serverContext = SSLContext.getInstance("TLS");
        serverContext.init(keys.getKeyManagers(), null, null);

        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(store);
        SSLContext clientContext = SSLContext.getInstance("TLS");
        clientContext.init(null, trust.getTrustManagers(), null);
        return new LocalhostCertificate(serverContext, clientContext.getSocketFactory());
    }

    /** What an https server presents. */
    SSLContext serverContext() {
        return serverContext;
    }

    /** A client socket factory that trusts this certificate (and nothing else). */
    SSLSocketFactory trusting() {
        return trusting;
    }
}
