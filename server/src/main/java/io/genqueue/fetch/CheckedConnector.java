package io.genqueue.fetch;

import java.io.Closeable;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * Opens connections that a client's URL asked for, safely: the host is resolved here, every
 * resolved address must be public ({@link AddressPolicy}) unless the {@link AllowList} exempts
 * the URL or the address, and the connection goes to one of those checked addresses. There is no
 * second lookup that DNS rebinding could answer differently. For {@code https}, TLS runs over that
 * socket with SNI and the certificate verified against the URL's host name.
 *
 * <p>The one place both outbound paths (reference image fetches, webhook posts) resolve, check,
 * connect and start TLS. Thread-safe.
 */
final class CheckedConnector {

    /**
     * Name lookups can neither be timed out nor interrupted, so they run on these threads while
     * the connecting thread waits at most until its deadline. Daemon threads: a lookup stuck in the
     * operating system never keeps the process alive.
     */
    private static final ExecutorService LOOKUPS = Executors.newCachedThreadPool(
            Thread.ofPlatform().name("genqueue-fetch-dns-", 0).daemon().factory());

    /**
     * The URL's host is (or resolves to) an address the policy refuses. Carries nothing: callers
     * never echo the address, so a client learns nothing about the internal network.
     */
    static final class RefusedException extends Exception {
        RefusedException() {
            super("non-public address", null, false, false);
        }
    }

    /**
     * An open connection to a checked address. {@link #socket()} is what to talk over (TLS for
     * https); {@link #close()} closes the TCP socket under it, which never blocks (closing a TLS
     * socket would first send close_notify, which can wait forever on a peer that stopped reading)
     * and also ends a write or read blocked in another thread.
     */
    record Connection(Socket socket, Socket transport) implements Closeable {

        @Override
        public void close() {
            try {
                transport.close();
            } catch (IOException e) {
                // Nothing useful to do: the exchange has its answer or its failure already.
            }
        }
    }

    private final HostResolver resolver;
    private final SSLSocketFactory tls;
    private final AllowList allow;

    CheckedConnector(HostResolver resolver, SSLSocketFactory tls, AllowList allow) {
        this.resolver = Objects.requireNonNull(resolver, "resolver");
        this.tls = Objects.requireNonNull(tls, "tls");
        this.allow = Objects.requireNonNull(allow, "allow");
    }

    /**
     * Resolves the URL's host, checks every address, connects to the first checked address that
     * answers and, for https, completes the TLS handshake, all within {@code deadline}.
     *
     * @throws RefusedException when an address is refused; nothing was connected
     * @throws UnknownHostException when the name does not resolve
     * @throws Deadline.ExceededException when the deadline passed (the lookup included)
     * @throws IOException when no address could be connected to, or TLS failed ({@code SSLException})
     * @throws InterruptedException when the thread is interrupted; any socket is closed
     */
    Connection open(FetchUrl url, Deadline deadline) throws RefusedException, IOException, InterruptedException {
        List<InetAddress> addresses = resolve(url, deadline);
        if (!permitted(url, addresses)) {
            throw new RefusedException();
        }
        return connect(url, addresses, deadline);
    }

    /**
     * True when the URL's host is an IP address literal that {@link #open} would refuse. A name is
     * decided only when it is resolved, at each {@link #open}.
     *
     * @throws UnknownHostException when the literal is not a valid address
     */
    boolean refusesLiteral(FetchUrl url) throws UnknownHostException {
        return url.isIpLiteral() && !permitted(url, List.of(literal(url)));
    }

    /** True when the URL as written is allowed, or every address is public or allowed. */
    private boolean permitted(FetchUrl url, List<InetAddress> addresses) {
        if (allow.permits(url)) {
            return true;
        }
        for (InetAddress address : addresses) {
            if (!AddressPolicy.isPublic(address) && !allow.permits(address, url.port())) {
                return false;
            }
        }
        return true;
    }

    private static InetAddress literal(FetchUrl url) throws UnknownHostException {
        return InetAddress.getByName(url.bareHost()); // a literal is parsed, not looked up
    }

    private List<InetAddress> resolve(FetchUrl url, Deadline deadline) throws IOException, InterruptedException {
        if (url.isIpLiteral()) {
            return List.of(literal(url));
        }
        String host = url.bareHost();
        Future<InetAddress[]> lookup = LOOKUPS.submit(() -> resolver.resolve(host));
        try {
            InetAddress[] addresses = lookup.get(Math.max(0, deadline.remainingNanos()), TimeUnit.NANOSECONDS);
            if (addresses == null || addresses.length == 0) {
                throw new UnknownHostException(host);
            }
            return List.of(addresses);
        } catch (ExecutionException e) {
            UnknownHostException unresolved = new UnknownHostException(host);
            unresolved.initCause(e.getCause());
            throw unresolved;
        } catch (TimeoutException e) {
            lookup.cancel(true);
            throw new Deadline.ExceededException();
        } catch (InterruptedException e) {
            lookup.cancel(true);
            throw e;
        }
    }

    /** Connects to the first checked address that answers (and starts TLS for https). */
    private Connection connect(FetchUrl url, List<InetAddress> addresses, Deadline deadline) throws IOException {
        IOException last = null;
        for (InetAddress address : addresses) {
            deadline.throwIfExpired();
            // A channel's socket, not a plain Socket: interrupting the thread closes it, so a
            // cancelled job does not wait for a connect, TLS handshake or write to time out.
            Socket socket = SocketChannel.open().socket();
            try {
                socket.connect(new InetSocketAddress(address, url.port()), deadline.remainingMillis(Integer.MAX_VALUE));
                socket.setTcpNoDelay(true);
                return new Connection(url.https() ? startTls(socket, url, deadline) : socket, socket);
            } catch (IOException e) {
                closeQuietly(socket);
                if (e instanceof SSLException || Thread.currentThread().isInterrupted() || deadline.expired()) {
                    throw e;
                }
                last = e;
            }
        }
        throw last != null ? last : new ConnectException("no address");
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // The connect failed already; that failure is the one to report.
        }
    }

    private Socket startTls(Socket socket, FetchUrl url, Deadline deadline) throws IOException {
        SSLSocket tlsSocket = (SSLSocket) tls.createSocket(socket, url.bareHost(), url.port(), true);
        SSLParameters parameters = tlsSocket.getSSLParameters();
        // Verify the certificate against the host name in the URL, as a browser would.
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        if (!url.isIpLiteral()) {
            try {
                parameters.setServerNames(List.of(new SNIHostName(url.bareHost())));
            } catch (IllegalArgumentException e) {
                // Not a name SNI can carry; the certificate is still checked against it.
            }
        }
        tlsSocket.setSSLParameters(parameters);
        tlsSocket.setSoTimeout(deadline.remainingMillis(Integer.MAX_VALUE));
        tlsSocket.startHandshake();
        return tlsSocket;
    }
}
