package io.genqueue.fetch;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * The {@code host:port} entries that are exempt from the address checks ({@link FetchPolicy#allow()},
 * {@code GENQUEUE_FETCH_ALLOW}). An entry matches a URL's host and port as written, or a resolved
 * address and the port. IPv6 addresses are compared in their canonical text form (RFC 5952, in
 * brackets), so {@code [::1]:8080} matches {@code [0:0:0:0:0:0:0:1]:8080} too.
 */
final class AllowList {

    private final Set<String> entries;

    AllowList(Set<String> entries) {
        Set<String> normalized = new HashSet<>();
        for (String entry : entries) {
            normalized.add(normalize(entry.trim().toLowerCase(Locale.ROOT)));
        }
        this.entries = Set.copyOf(normalized);
    }

    /** True when the URL's {@code host:port}, as written, is allowed. */
    boolean permits(FetchUrl url) {
        return entries.contains(normalize(url.hostAndPort()));
    }

    /** True when the resolved address with the URL's port is allowed. */
    boolean permits(InetAddress address, int port) {
        return entries.contains(literal(address) + ":" + port);
    }

    /** An address as text: dotted IPv4, or canonical IPv6 in brackets. */
    static String literal(InetAddress address) {
        if (!(address instanceof Inet6Address)) {
            return address.getHostAddress();
        }
        byte[] b = address.getAddress();
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
        }
        // The longest run of two or more zero groups becomes "::" (the first one on a tie).
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < 8; ) {
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = j == i ? i + 1 : j;
        }
        StringBuilder text = new StringBuilder("[");
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                text.append("::");
                i += bestLength - 1;
                continue;
            }
            if (text.length() > 1 && text.charAt(text.length() - 1) != ':') {
                text.append(':');
            }
            text.append(Integer.toHexString(groups[i]));
        }
        return text.append(']').toString();
    }

    /** Rewrites an {@code [ipv6]:port} entry in canonical form; anything else is kept as it is. */
    private static String normalize(String hostAndPort) {
        int close = hostAndPort.indexOf("]:");
        if (!hostAndPort.startsWith("[") || close < 0) {
            return hostAndPort;
        }
        try {
            // A bracketed literal is parsed, never looked up; a malformed one throws.
            InetAddress address = InetAddress.getByName(hostAndPort.substring(0, close + 1));
            return literal(address) + hostAndPort.substring(close + 1);
        } catch (UnknownHostException e) {
            return hostAndPort;
        }
    }
}
