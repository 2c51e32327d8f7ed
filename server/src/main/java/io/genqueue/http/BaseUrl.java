package io.genqueue.http;

import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The absolute base of the URLs we hand out ({@code response_url}, image links). The configured
 * public URL wins; without one it is rebuilt from {@code X-Forwarded-Proto}, {@code -Host},
 * {@code -Port} and {@code -Prefix} (set by a reverse proxy), else {@code Host}. Header values that
 * are not a plain host (or scheme, port, path) are ignored, so a client cannot inject text into the
 * URLs it is given.
 */
final class BaseUrl {

    // Flat patterns with bounded lengths: no nested repetition, so no input can make matching
    // recurse deeply or backtrack (a long "a.a.a..." once overflowed the stack).
    private static final Pattern HOST = Pattern.compile("(?:[A-Za-z0-9.-]{1,253}|\\[[0-9A-Fa-f:.]{2,45}])(?::[0-9]{1,5})?");
    private static final Pattern PORT = Pattern.compile("[0-9]{1,5}");
    private static final Pattern PREFIX = Pattern.compile("/[A-Za-z0-9._~/-]{0,255}");
    private static final HeaderName FORWARDED_PROTO = HeaderNames.create("X-Forwarded-Proto");
    private static final HeaderName FORWARDED_HOST = HeaderNames.create("X-Forwarded-Host");
    private static final HeaderName FORWARDED_PORT = HeaderNames.create("X-Forwarded-Port");
    private static final HeaderName FORWARDED_PREFIX = HeaderNames.create("X-Forwarded-Prefix");

    private final String configured;
    private final int localPort;

    /**
     * @param configured the public base URL setting, or null
     * @param localPort this server's port, for requests that name no usable host
     */
    BaseUrl(String configured, int localPort) {
        this.configured = configured == null ? null : stripSlash(configured);
        this.localPort = localPort;
    }

    String of(ServerRequest req) {
        if (configured != null) {
            return configured;
        }
        String scheme = first(req, FORWARDED_PROTO).map(s -> s.toLowerCase(Locale.ROOT))
                .filter(s -> s.equals("http") || s.equals("https")).orElse("http");
        Optional<String> forwardedHost = first(req, FORWARDED_HOST).filter(h -> HOST.matcher(h).matches());
        String host = forwardedHost
                .or(() -> first(req, HeaderNames.HOST).filter(h -> HOST.matcher(h).matches()))
                .orElse("localhost:" + localPort);
        if (forwardedHost.isPresent() && !hasPort(host)) {
            Optional<String> port = first(req, FORWARDED_PORT).filter(p -> PORT.matcher(p).matches());
            if (port.isPresent() && !isDefault(scheme, port.get())) {
                host = host + ":" + port.get();
            }
        }
        String prefix = first(req, FORWARDED_PREFIX).map(BaseUrl::stripSlash)
                .filter(p -> PREFIX.matcher(p).matches() && !p.contains("//")).orElse("");
        return scheme + "://" + host + prefix;
    }

    private static Optional<String> first(ServerRequest req, HeaderName name) {
        Optional<String> header = req.headers().first(name);
        if (header.isEmpty()) {
            return Optional.empty();
        }
        String value = header.get();
        int comma = value.indexOf(',');
        String first = (comma < 0 ? value : value.substring(0, comma)).strip();
        return first.isEmpty() ? Optional.empty() : Optional.of(first);
    }

    private static boolean hasPort(String host) {
        int bracket = host.lastIndexOf(']');
        return host.indexOf(':', bracket + 1) >= 0;
    }

    private static boolean isDefault(String scheme, String port) {
        return (scheme.equals("http") && port.equals("80")) || (scheme.equals("https") && port.equals("443"));
    }

    private static String stripSlash(String s) {
        return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }
}
