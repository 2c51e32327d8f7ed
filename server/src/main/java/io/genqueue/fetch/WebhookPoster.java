package io.genqueue.fetch;

import io.genqueue.image.Units;
import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.ProtocolException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.SequencedMap;
import java.util.Set;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocketFactory;

/**
 * Posts webhooks to the URLs clients gave, under the same rules as reference image fetches: the
 * URL is checked when it is given ({@link #check}), and at every attempt ({@link #post}) the host
 * is resolved again, every address must be public unless the allow-list
 * ({@code GENQUEUE_FETCH_ALLOW}) exempts it, and the connection goes to a checked address (through
 * the {@link CheckedConnector}, as for fetches). Redirects are not followed: a receiver that moved
 * must be given its new URL.
 *
 * <p>An attempt is one {@code POST} of a JSON body on a fresh connection, bounded twice: the
 * connect timeout covers the name lookup, the TCP connect and the TLS handshake; the read timeout
 * covers the rest, from sending the body to the answer. The answer's body is drained (at most
 * {@value #MAX_RESPONSE_BYTES} bytes) and dropped. Thread-safe; one instance serves the service.
 */
public final class WebhookPoster {

    /** How much of an answer's body is read (and dropped) so that the receiver can finish writing it. */
    static final int MAX_RESPONSE_BYTES = 64 * 1024;

    private static final String USER_AGENT = "genqueue";
    private static final String CONTENT_TYPE = "application/json";

    /**
     * @param connectTimeout for the name lookup, TCP connect and TLS handshake of one attempt
     * @param readTimeout for the rest of one attempt: sending the request and reading the answer
     * @param allow {@code host:port} entries exempt from the address checks: the fetcher's
     *     ({@link FetchPolicy#allow()}, {@code GENQUEUE_FETCH_ALLOW}), so both follow one rule
     */
    public record Settings(Duration connectTimeout, Duration readTimeout, Set<String> allow) {

        /** @throws IllegalArgumentException when a timeout is not positive */
        public Settings {
            requirePositive(connectTimeout, "connectTimeout");
            requirePositive(readTimeout, "readTimeout");
            allow = Set.copyOf(allow);
        }

        private static void requirePositive(Duration timeout, String name) {
            Objects.requireNonNull(timeout, name);
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException(name + " must be positive: " + timeout);
            }
        }
    }

    private final Settings settings;
    private final CheckedConnector connector;

    /** A poster that resolves names with the system resolver and trusts the JDK's CA certificates. */
    public WebhookPoster(Settings settings) {
        this(settings, HostResolver.SYSTEM);
    }

    /** For tests: names resolve through {@code resolver}. */
    WebhookPoster(Settings settings, HostResolver resolver) {
        this(settings, resolver, (SSLSocketFactory) SSLSocketFactory.getDefault());
    }

    /** For tests: names resolve through {@code resolver}, TLS trusts what {@code tls} trusts. */
    WebhookPoster(Settings settings, HostResolver resolver, SSLSocketFactory tls) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.connector = new CheckedConnector(resolver, tls, new AllowList(settings.allow()));
    }

    /**
     * Checks a webhook URL a client gives: what a reference image URL must be (http or https,
     * well formed, at most {@value FetchUrl#MAX_LENGTH} characters, no user name or password), and
     * not an IP address the service refuses unless the allow-list exempts it. No lookup: a name is
     * checked when it is resolved, at each {@link #post}.
     *
     * @throws InvalidWebhookUrlException naming the problem, for the client
     */
    public WebhookTarget check(String url) {
        Objects.requireNonNull(url, "url");
        FetchUrl parsed;
        try {
            parsed = FetchUrl.parse(url, "webhook URL");
        } catch (FetchUrl.InvalidException e) {
            throw new InvalidWebhookUrlException(e.getMessage());
        }
        try {
            if (connector.refusesLiteral(parsed)) {
                throw new InvalidWebhookUrlException("webhook URL host " + parsed.host() + " is a non-public address");
            }
        } catch (UnknownHostException e) {
            throw new InvalidWebhookUrlException("webhook URL is not a valid URL");
        }
        return new WebhookTarget(url, parsed);
    }

    /**
     * Makes one delivery attempt: resolves and checks the host now (a target checked earlier may
     * be refused now), connects to a checked address, sends {@code POST} with
     * {@code Content-Type: application/json}, {@code User-Agent: genqueue}, the given header
     * fields and the body, and reads the answer's status. Any failure is a {@link Delivery} value.
     *
     * @param headers fields to send too (the signature's), in the map's order; not {@code Host},
     *     {@code Content-Type}, {@code Content-Length}, {@code Transfer-Encoding},
     *     {@code Connection} or {@code User-Agent}, which the poster writes
     * @throws IllegalArgumentException when a header field is one of those, or not a valid field
     *     (checked before any connection is made)
     * @throws InterruptedException when the thread is interrupted before the answer arrived; the
     *     connection is closed and the flag cleared. An interrupt after the answer arrived keeps
     *     the answer and leaves the flag set, so that a delivered webhook is not taken for a lost one.
     */
    public Delivery post(WebhookTarget target, Map<String, String> headers, byte[] jsonBody) throws InterruptedException {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(jsonBody, "jsonBody");
        HttpExchange.Request request = HttpExchange.Request.of("POST", target.fetchUrl(), fields(headers), jsonBody);
        if (Thread.interrupted()) {
            throw new InterruptedException("webhook post interrupted");
        }
        long start = System.nanoTime();
        FetchUrl url = target.fetchUrl();
        Deadline connecting = Deadline.after(settings.connectTimeout());
        CheckedConnector.Connection connection;
        try {
            connection = connector.open(url, connecting);
        } catch (CheckedConnector.RefusedException e) {
            // Never the address itself: logs name the host, the refusal says no more.
            return new Delivery.Refused(url.isIpLiteral() ? "is a non-public address" : "resolves to a non-public address");
        } catch (IOException e) {
            return new Delivery.Failed(connectFailure(e, connecting));
        }
        try (connection) {
            Deadline answering = Deadline.after(settings.readTimeout());
            HttpExchange exchange;
            HttpExchange.Head head;
            try {
                exchange = new HttpExchange(connection, answering);
                exchange.send(request);
                head = exchange.readHead();
            } catch (IOException e) {
                return new Delivery.Failed(answerFailure(e, answering));
            }
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            drain(exchange, head);
            return new Delivery.Answered(head.status(), took);
        }
    }

    /** The poster's own fields, then the caller's. */
    private static Map<String, String> fields(Map<String, String> headers) {
        SequencedMap<String, String> fields = new LinkedHashMap<>();
        fields.put("User-Agent", USER_AGENT);
        fields.put("Content-Type", CONTENT_TYPE);
        headers.forEach((name, value) -> {
            String lower = name.toLowerCase(Locale.ROOT);
            if (lower.equals("user-agent") || lower.equals("content-type")) {
                throw new IllegalArgumentException("header field " + name + " is written by the poster");
            }
            fields.put(name, value);
        });
        return fields;
    }

    /** Reads what follows the answer's head, so the receiver is not cut off while it writes; the answer stands whatever happens. */
    private static void drain(HttpExchange exchange, HttpExchange.Head head) {
        try {
            exchange.discardBody(head, MAX_RESPONSE_BYTES);
        } catch (IOException e) {
            // A long, slow or broken body after the status changes nothing.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private String connectFailure(IOException e, Deadline deadline) throws InterruptedException {
        throwIfInterrupted(e);
        if (e instanceof Deadline.ExceededException || e instanceof SocketTimeoutException || deadline.expired()) {
            return "timed out after " + Units.duration(settings.connectTimeout()) + " connecting";
        }
        if (e instanceof UnknownHostException) {
            return "host name could not be resolved";
        }
        if (e instanceof SSLHandshakeException) {
            return "TLS handshake failed (the certificate may be invalid or not for this name)";
        }
        if (e instanceof SSLException) {
            return "TLS connection broken";
        }
        if (e instanceof ConnectException && String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT).contains("refused")) {
            return "connection refused";
        }
        if (e instanceof NoRouteToHostException) {
            return "host unreachable";
        }
        return "could not connect";
    }

    private String answerFailure(IOException e, Deadline deadline) throws InterruptedException {
        throwIfInterrupted(e);
        if (e instanceof Deadline.ExceededException || e instanceof SocketTimeoutException || deadline.expired()) {
            return "timed out after " + Units.duration(settings.readTimeout()) + " waiting for the answer";
        }
        if (e instanceof ProtocolException) {
            return "malformed HTTP answer";
        }
        if (e instanceof EOFException) {
            return "connection closed before the answer";
        }
        if (e instanceof SSLException) {
            return "TLS connection broken";
        }
        if (e instanceof SocketException && String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT).contains("reset")) {
            return "connection reset";
        }
        return "connection error";
    }

    private static void throwIfInterrupted(IOException cause) throws InterruptedException {
        if (Thread.interrupted()) {
            InterruptedException interrupted = new InterruptedException("webhook post interrupted");
            interrupted.initCause(cause);
            throw interrupted;
        }
    }
}
