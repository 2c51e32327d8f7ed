package io.genqueue.fetch;

import io.genqueue.image.DataUri;
import io.genqueue.image.ImageData;
import io.genqueue.image.ImageProbe;
import io.genqueue.image.ImageRejectedException;
import io.genqueue.image.Units;
import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.ProtocolException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * Fetches reference images for the worker, safely: the service fetches them itself, so that a
 * client cannot make it (or the upstream provider) reach the service's own network.
 *
 * <p>For each hop (the URL, then every redirect) the host is resolved here, every resolved
 * address must be public ({@link AddressPolicy}) unless the {@link AllowList} exempts the hop,
 * and the connection goes to one of those checked addresses: there is no second lookup that DNS
 * rebinding could answer differently. That is why this uses its own small HTTP/1.1 client
 * ({@link HttpGet}) over a socket rather than a general-purpose client that resolves on its own.
 * For {@code https}, TLS runs over that socket with SNI and the certificate verified against the
 * URL's host name.
 *
 * <p>Limits come from the {@link FetchPolicy}: one deadline for the whole fetch (lookups,
 * connects, TLS, reads, redirects), a byte limit enforced while reading, a redirect limit, a
 * pixel limit enforced before decoding. Thread-safe; one instance serves all workers.
 */
public final class ReferenceImageFetcher {

    private static final Set<Integer> REDIRECTS = Set.of(301, 302, 303, 307, 308);

    /**
     * Name lookups can neither be timed out nor interrupted, so they run on these threads while
     * the fetching thread waits at most until its deadline. Daemon threads: a lookup stuck in the
     * operating system never keeps the process alive.
     */
    private static final ExecutorService LOOKUPS = Executors.newCachedThreadPool(
            Thread.ofPlatform().name("genqueue-fetch-dns-", 0).daemon().factory());

    private final FetchPolicy policy;
    private final HostResolver resolver;
    private final SSLSocketFactory tls;
    private final AllowList allow;

    /** A fetcher that resolves names with the system resolver and trusts the JDK's CA certificates. */
    public ReferenceImageFetcher(FetchPolicy policy) {
        this(policy, HostResolver.SYSTEM);
    }

    /** For tests: names resolve through {@code resolver}. */
    ReferenceImageFetcher(FetchPolicy policy, HostResolver resolver) {
        this(policy, resolver, (SSLSocketFactory) SSLSocketFactory.getDefault());
    }

    /** For tests: names resolve through {@code resolver}, TLS trusts what {@code tls} trusts. */
    ReferenceImageFetcher(FetchPolicy policy, HostResolver resolver, SSLSocketFactory tls) {
        this.policy = Objects.requireNonNull(policy, "policy");
        this.resolver = Objects.requireNonNull(resolver, "resolver");
        this.tls = Objects.requireNonNull(tls, "tls");
        this.allow = new AllowList(policy.allow());
    }

    /**
     * Fetches an {@code http}/{@code https} URL, or decodes a {@code data:} URI, and checks that
     * the bytes are a usable image within the policy's limits.
     *
     * @throws ImageFetchException with a client-facing message when the image cannot be used
     * @throws InterruptedException when the calling thread is interrupted (the job was cancelled);
     *     the connection is closed and the interrupt flag cleared
     */
    public ImageData fetch(String url) throws InterruptedException {
        Objects.requireNonNull(url, "url");
        if (Thread.interrupted()) {
            throw new InterruptedException("fetch interrupted");
        }
        try {
            if (DataUri.looksLikeDataUri(url)) {
                return fromDataUri(url);
            }
            return fromHttp(FetchUrl.parse(url), Deadline.after(policy.timeout()));
        } catch (ImageFetchException e) {
            throw e;
        } catch (RuntimeException e) {
            // A bug, not the client's fault; still keep the promise that only ImageFetchException escapes.
            throw new ImageFetchException("reference image could not be fetched", e);
        }
    }

    private ImageData fromDataUri(String uri) {
        DataUri data;
        try {
            data = DataUri.parse(uri, policy.maxBytes());
        } catch (IllegalArgumentException e) {
            throw new ImageFetchException("reference image " + e.getMessage(), e);
        }
        return verify(data.bytes(), "reference image data URI");
    }

    private ImageData fromHttp(FetchUrl url, Deadline deadline) throws InterruptedException {
        FetchUrl hop = url;
        for (int redirects = 0; ; redirects++) {
            if (Thread.interrupted()) {
                throw new InterruptedException("fetch interrupted");
            }
            List<InetAddress> addresses = checkedAddresses(hop, deadline);
            Socket socket = null;
            byte[] body;
            try {
                socket = connect(hop, addresses, deadline);
                HttpGet get = new HttpGet(socket, deadline);
                get.send(hop.hostHeader(), hop.requestTarget());
                HttpGet.Head head = get.readHead();
                if (REDIRECTS.contains(head.status())) {
                    hop = follow(hop, head, redirects);
                    continue;
                }
                if (head.status() < 200 || head.status() > 299) {
                    throw new ImageFetchException("reference image host " + hop.host() + " answered " + head.status());
                }
                String encoding = head.header("content-encoding").orElse("identity");
                if (!encoding.equalsIgnoreCase("identity")) {
                    throw new ImageFetchException("reference image host " + hop.host()
                            + " sent an encoded (compressed) body although none was asked for");
                }
                body = get.readBody(head, policy.maxBytes());
            } catch (IOException e) {
                throw failure(e, hop, deadline);
            } finally {
                closeQuietly(socket);
            }
            // Decoded after the connection is closed: a slow decode holds no socket.
            return verify(body, "reference image from " + hop.host());
        }
    }

    private FetchUrl follow(FetchUrl hop, HttpGet.Head head, int redirectsSoFar) {
        if (redirectsSoFar >= policy.maxRedirects()) {
            throw new ImageFetchException(policy.maxRedirects() == 0
                    ? "reference image URL redirected, and redirects are not followed"
                    : "reference image URL redirected more than " + policy.maxRedirects() + " times");
        }
        String location = head.header("location").orElseThrow(() -> new ImageFetchException(
                "reference image host " + hop.host() + " answered " + head.status() + " without a Location"));
        return hop.redirect(location);
    }

    /** Resolves the hop's host and refuses it unless every address is public or the hop is allowed. */
    private List<InetAddress> checkedAddresses(FetchUrl hop, Deadline deadline) throws InterruptedException {
        List<InetAddress> addresses = resolve(hop, deadline);
        if (allow.permits(hop)) {
            return addresses;
        }
        for (InetAddress address : addresses) {
            if (!AddressPolicy.isPublic(address) && !allow.permits(address, hop.port())) {
                // Never echo the address: the client learns nothing about the internal network.
                throw new ImageFetchException("reference image host " + hop.host()
                        + (hop.isIpLiteral() ? " is a non-public address" : " resolves to a non-public address"));
            }
        }
        return addresses;
    }

    private List<InetAddress> resolve(FetchUrl hop, Deadline deadline) throws InterruptedException {
        String host = hop.bareHost();
        String unresolved = "reference image host " + hop.host() + " could not be resolved";
        if (hop.isIpLiteral()) {
            try {
                return List.of(InetAddress.getByName(host)); // a literal is parsed, not looked up
            } catch (UnknownHostException e) {
                throw new ImageFetchException(unresolved);
            }
        }
        Future<InetAddress[]> lookup = LOOKUPS.submit(() -> resolver.resolve(host));
        try {
            InetAddress[] addresses = lookup.get(Math.max(0, deadline.remainingNanos()), TimeUnit.NANOSECONDS);
            if (addresses == null || addresses.length == 0) {
                throw new ImageFetchException(unresolved);
            }
            return List.of(addresses);
        } catch (ExecutionException e) {
            throw new ImageFetchException(unresolved, e.getCause());
        } catch (TimeoutException e) {
            lookup.cancel(true);
            throw timedOut(hop);
        } catch (InterruptedException e) {
            lookup.cancel(true);
            throw e;
        }
    }

    /** Connects to the first checked address that answers (and starts TLS for https). */
    private Socket connect(FetchUrl hop, List<InetAddress> addresses, Deadline deadline) throws IOException {
        IOException last = null;
        for (InetAddress address : addresses) {
            if (deadline.expired()) {
                throw new HttpGet.DeadlineExceededException();
            }
            // A channel's socket, not a plain Socket: interrupting the thread closes it, so a
            // cancelled job does not wait for a connect or TLS handshake to time out.
            Socket socket = SocketChannel.open().socket();
            try {
                socket.connect(new InetSocketAddress(address, hop.port()), deadline.remainingMillis(Integer.MAX_VALUE));
                socket.setTcpNoDelay(true);
                return hop.https() ? startTls(socket, hop, deadline) : socket;
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

    private Socket startTls(Socket socket, FetchUrl hop, Deadline deadline) throws IOException {
        SSLSocket tlsSocket = (SSLSocket) tls.createSocket(socket, hop.bareHost(), hop.port(), true);
        SSLParameters parameters = tlsSocket.getSSLParameters();
        // Verify the certificate against the host name in the URL, as a browser would.
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        if (!hop.isIpLiteral()) {
            try {
                parameters.setServerNames(List.of(new SNIHostName(hop.bareHost())));
            } catch (IllegalArgumentException e) {
                // Not a name SNI can carry; the certificate is still checked against it.
            }
        }
        tlsSocket.setSSLParameters(parameters);
        tlsSocket.setSoTimeout(deadline.remainingMillis(Integer.MAX_VALUE));
        tlsSocket.startHandshake();
        return tlsSocket;
    }

    private ImageData verify(byte[] bytes, String subject) {
        try {
            return ImageProbe.verify(bytes, policy.maxPixels());
        } catch (ImageRejectedException e) {
            String message = e.getMessage();
            // ImageProbe's messages start with "image "; put the subject in its place.
            String rest = message.startsWith("image ") ? message.substring(5) : ": " + message;
            throw new ImageFetchException(subject + rest, e);
        }
    }

    /** Translates an I/O failure of one hop into a message a person can act on. */
    private ImageFetchException failure(IOException e, FetchUrl hop, Deadline deadline) throws InterruptedException {
        if (Thread.interrupted()) {
            InterruptedException interrupted = new InterruptedException("fetch interrupted");
            interrupted.initCause(e);
            throw interrupted;
        }
        String host = hop.host();
        if (e instanceof HttpGet.BodyTooLargeException) {
            return new ImageFetchException("reference image from " + host + " is larger than " + Units.bytes(policy.maxBytes()));
        }
        if (e instanceof HttpGet.DeadlineExceededException || e instanceof SocketTimeoutException || deadline.expired()) {
            return timedOut(hop);
        }
        if (e instanceof SSLHandshakeException) {
            return new ImageFetchException("reference image host " + host
                    + " failed the TLS handshake (its certificate may be invalid or not for this name)", e);
        }
        if (e instanceof SSLException) {
            return new ImageFetchException("reference image host " + host + " broke the TLS connection", e);
        }
        if (e instanceof ProtocolException) {
            return new ImageFetchException("reference image host " + host + " sent a malformed HTTP response", e);
        }
        if (e instanceof EOFException) {
            return new ImageFetchException("reference image host " + host + " closed the connection before the response was complete", e);
        }
        if (e instanceof ConnectException || e instanceof NoRouteToHostException) {
            return new ImageFetchException("reference image host " + host + " could not be reached", e);
        }
        return new ImageFetchException("reference image download from " + host + " failed: connection error", e);
    }

    private ImageFetchException timedOut(FetchUrl hop) {
        return new ImageFetchException("reference image download from " + hop.host()
                + " took longer than " + Units.duration(policy.timeout()));
    }

    private static void closeQuietly(Socket socket) {
        if (socket == null) {
            return;
        }
        try {
            socket.close();
        } catch (IOException e) {
            // Nothing useful to do: the fetch has its answer or its failure already.
        }
    }
}
