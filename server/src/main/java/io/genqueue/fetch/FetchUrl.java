package io.genqueue.fetch;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * An {@code http} or {@code https} URL that passed the syntactic checks for one hop of a fetch
 * or for a webhook: an allowed scheme, a host, no user name or password, a valid port. Whether
 * its host may be contacted is decided later, on the resolved addresses ({@link CheckedConnector}).
 *
 * @param uri the URL as parsed
 * @param https true for {@code https}
 * @param host the host as written, lower case; an IPv6 literal keeps its brackets ({@code [::1]})
 * @param port the port, the scheme's default when the URL has none
 * @param requestTarget the path and query to send, ASCII only, never empty
 */
record FetchUrl(URI uri, boolean https, String host, int port, String requestTarget) {

    /** Browsers accept about this much; a longer URL is a mistake or an attack. */
    static final int MAX_LENGTH = 8192;

    private static final Pattern DOTTED_QUAD =
            Pattern.compile("(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}");

    private static final Pattern NUMBER = Pattern.compile("(?i)0x[0-9a-f]*|[0-9]+");

    /**
     * A URL that failed the checks. The message starts with the caller's subject ("reference image
     * URL", "webhook URL") and names the problem for the person who wrote the URL; each caller
     * turns it into its own exception.
     */
    static final class InvalidException extends RuntimeException {
        InvalidException(String message) {
            super(message);
        }
    }

    /**
     * Checks a URL given by a client.
     *
     * @param subject what the URL is, to start the message with: "reference image URL"
     * @throws InvalidException naming the problem
     */
    static FetchUrl parse(String url, String subject) {
        if (url.length() > MAX_LENGTH) {
            throw new InvalidException(subject + " is longer than " + MAX_LENGTH + " characters");
        }
        try {
            return check(new URI(url), subject);
        } catch (URISyntaxException e) {
            throw new InvalidException(subject + " is not a valid URL");
        }
    }

    /**
     * Resolves a redirect's {@code Location} against this URL and checks the result like a
     * client's URL.
     *
     * @param subject what the redirect is, to start the message with: "reference image redirect from HOST"
     * @throws InvalidException naming the problem
     */
    FetchUrl redirect(String location, String subject) {
        if (location.length() > MAX_LENGTH) {
            throw new InvalidException(subject + " is longer than " + MAX_LENGTH + " characters");
        }
        try {
            return check(uri.resolve(new URI(location)), subject);
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new InvalidException(subject + " is not a valid URL");
        }
    }

    /** The allow-list key for this URL as written: {@code host:port}. */
    String hostAndPort() {
        return host + ":" + port;
    }

    /** The host without IPv6 brackets, for resolving and for TLS. */
    String bareHost() {
        return host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
    }

    /** True when the host is an IP address literal (so there is nothing to resolve, and no SNI). */
    boolean isIpLiteral() {
        return host.startsWith("[") || DOTTED_QUAD.matcher(host).matches();
    }

    /** The {@code Host} field: the host as written, with the port unless it is the default. */
    String hostHeader() {
        return port == defaultPort(https) ? host : host + ":" + port;
    }

    /**
     * The URL for logs: scheme, host, port unless default, and path; never the query or the
     * fragment, which often carry a secret (there is no user-info: {@link #parse} refuses it).
     */
    String withoutQuery() {
        int query = requestTarget.indexOf('?');
        return (https ? "https://" : "http://") + hostHeader() + (query < 0 ? requestTarget : requestTarget.substring(0, query));
    }

    private static FetchUrl check(URI uri, String subject) throws URISyntaxException {
        String scheme = uri.getScheme();
        if (scheme == null) {
            throw new InvalidException(subject + " has no scheme: use an http or https URL");
        }
        scheme = scheme.toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new InvalidException(subject + " must use http or https, not "
                    + (scheme.length() <= 20 ? scheme : scheme.substring(0, 20) + "..."));
        }
        String authority = uri.getRawAuthority();
        if (uri.isOpaque() || authority == null) {
            throw new InvalidException(subject + " has no host");
        }
        if (uri.getRawUserInfo() != null || authority.contains("@")) {
            throw new InvalidException(subject + " must not contain a user name or password");
        }
        // URI leaves the host null for some forms it cannot parse as one (127.1, 0x7f.0.0.1).
        String host = uri.getHost() == null
                ? authority.replaceFirst(":[0-9]*$", "").toLowerCase(Locale.ROOT)
                : uri.getHost().toLowerCase(Locale.ROOT);
        if (!host.startsWith("[") && endsInNumber(host) && !DOTTED_QUAD.matcher(host).matches()) {
            // 2130706433, 0x7f000001, 0177.0.0.1, 127.1: readings differ between parsers.
            throw new InvalidException(subject + " has an IP address in an ambiguous form: write it as four decimal numbers");
        }
        if (uri.getHost() == null) {
            throw new InvalidException(subject + " has no valid host name");
        }
        if (host.contains("%")) {
            throw new InvalidException(subject + " must not name an IPv6 zone");
        }
        boolean https = scheme.equals("https");
        int port = uri.getPort() == -1 ? defaultPort(https) : uri.getPort();
        if (port < 1 || port > 65535) {
            throw new InvalidException(subject + " has an invalid port");
        }
        // toASCIIString percent-encodes non-ASCII characters, which URI otherwise lets through.
        URI ascii = new URI(uri.toASCIIString());
        String path = ascii.getRawPath() == null || ascii.getRawPath().isEmpty() ? "/" : ascii.getRawPath();
        String target = ascii.getRawQuery() == null ? path : path + "?" + ascii.getRawQuery();
        return new FetchUrl(uri, https, host, port, target);
    }

    /** A last label of digits or {@code 0x} hex means the host is an IPv4 address (as in the WHATWG URL standard). */
    private static boolean endsInNumber(String host) {
        String name = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
        return NUMBER.matcher(name.substring(name.lastIndexOf('.') + 1)).matches();
    }

    private static int defaultPort(boolean https) {
        return https ? 443 : 80;
    }
}
