package io.genqueue.fetch;

import io.genqueue.image.DataUri;
import io.genqueue.image.ImageData;
import io.genqueue.image.ImageProbe;
import io.genqueue.image.ImageRejectedException;
import io.genqueue.image.Units;
import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.ProtocolException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.SequencedMap;
import java.util.Set;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocketFactory;

/**
 * Fetches reference images for the worker, safely: the service fetches them itself, so that a
 * client cannot make it (or the upstream provider) reach the service's own network.
 *
 * <p>For each hop (the URL, then every redirect) the {@link CheckedConnector} resolves the host,
 * refuses it unless every address is public or the {@link AllowList} exempts it, and connects to
 * a checked address (TLS with SNI and a verified certificate for {@code https}): there is no
 * second lookup that DNS rebinding could answer differently. That is why this uses its own small
 * HTTP/1.1 client ({@link HttpExchange}) over that socket rather than a general-purpose client
 * that resolves on its own.
 *
 * <p>Limits come from the {@link FetchPolicy}: one deadline for the whole fetch (lookups,
 * connects, TLS, reads, redirects), a byte limit enforced while reading, a redirect limit, a
 * pixel limit enforced before decoding. Thread-safe; one instance serves all workers.
 */
public final class ReferenceImageFetcher {

    private static final Set<Integer> REDIRECTS = Set.of(301, 302, 303, 307, 308);

    /** Asks for the image as it is: a compressed body would be bytes the size limit did not see. */
    private static final Map<String, String> HEADERS;

    static {
        SequencedMap<String, String> headers = new LinkedHashMap<>();
        headers.put("User-Agent", "genqueue-fetch");
        headers.put("Accept", "image/*");
        headers.put("Accept-Encoding", "identity");
        HEADERS = Collections.unmodifiableSequencedMap(headers);
    }

    private final FetchPolicy policy;
    private final CheckedConnector connector;

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
        this.connector = new CheckedConnector(resolver, tls, new AllowList(policy.allow()));
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
            return fromHttp(FetchUrl.parse(url, "reference image URL"), Deadline.after(policy.timeout()));
        } catch (FetchUrl.InvalidException e) {
            throw new ImageFetchException(e.getMessage());
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
            CheckedConnector.Connection connection = null;
            byte[] body;
            try {
                connection = connector.open(hop, deadline);
                HttpExchange get = new HttpExchange(connection, deadline);
                get.send(HttpExchange.Request.of("GET", hop, HEADERS));
                HttpExchange.Head head = get.readHead();
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
            } catch (CheckedConnector.RefusedException e) {
                // Never echo the address: the client learns nothing about the internal network.
                throw new ImageFetchException("reference image host " + hop.host()
                        + (hop.isIpLiteral() ? " is a non-public address" : " resolves to a non-public address"));
            } catch (IOException e) {
                throw failure(e, hop, deadline);
            } finally {
                if (connection != null) {
                    connection.close();
                }
            }
            // Decoded after the connection is closed: a slow decode holds no socket.
            return verify(body, "reference image from " + hop.host());
        }
    }

    private FetchUrl follow(FetchUrl hop, HttpExchange.Head head, int redirectsSoFar) {
        if (redirectsSoFar >= policy.maxRedirects()) {
            throw new ImageFetchException(policy.maxRedirects() == 0
                    ? "reference image URL redirected, and redirects are not followed"
                    : "reference image URL redirected more than " + policy.maxRedirects() + " times");
        }
        String location = head.header("location").orElseThrow(() -> new ImageFetchException(
                "reference image host " + hop.host() + " answered " + head.status() + " without a Location"));
        return hop.redirect(location, "reference image redirect from " + hop.host());
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
        if (e instanceof HttpExchange.BodyTooLargeException) {
            return new ImageFetchException("reference image from " + host + " is larger than " + Units.bytes(policy.maxBytes()));
        }
        if (e instanceof Deadline.ExceededException || e instanceof SocketTimeoutException || deadline.expired()) {
            return timedOut(hop);
        }
        if (e instanceof UnknownHostException) {
            return new ImageFetchException("reference image host " + host + " could not be resolved", e);
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
}
