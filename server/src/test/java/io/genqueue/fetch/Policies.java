package io.genqueue.fetch;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;

/** Fetch policies and name resolvers for tests. */
final class Policies {

    static final long MAX_BYTES = 7L * 1024 * 1024;
    static final long MAX_PIXELS = 40_000_000;

    private Policies() {
    }

    /** The defaults (10 s, 7 MiB, 3 redirects, 40 megapixels) with these allow-list entries. */
    static FetchPolicy allowing(String... allow) {
        return new FetchPolicy(Duration.ofSeconds(10), MAX_BYTES, 3, MAX_PIXELS, Set.of(allow));
    }

    static FetchPolicy withTimeout(Duration timeout, String... allow) {
        return new FetchPolicy(timeout, MAX_BYTES, 3, MAX_PIXELS, Set.of(allow));
    }

    static FetchPolicy withMaxBytes(long maxBytes, String... allow) {
        return new FetchPolicy(Duration.ofSeconds(10), maxBytes, 3, MAX_PIXELS, Set.of(allow));
    }

    /** Resolves the given names to the given literal addresses; every other name is unknown. */
    static HostResolver resolving(Map<String, String[]> names) {
        return host -> {
            String[] literals = names.get(host);
            if (literals == null) {
                throw new UnknownHostException(host);
            }
            InetAddress[] addresses = new InetAddress[literals.length];
            for (int i = 0; i < literals.length; i++) {
                addresses[i] = InetAddress.getByName(literals[i]); // literals: no lookup
            }
            return addresses;
        };
    }

    static HostResolver resolving(String name, String... literals) {
        return resolving(Map.of(name, Arrays.copyOf(literals, literals.length)));
    }
}
