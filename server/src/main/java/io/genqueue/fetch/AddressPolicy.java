package io.genqueue.fetch;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.List;

/**
 * Decides whether an address is a public unicast address that the service may connect to on a
 * client's behalf. Everything else (loopback, private, link-local, the cloud metadata address,
 * multicast, reserved, documentation ranges, and IPv6 forms that embed such an IPv4 address) is
 * refused, so that a reference image URL cannot reach the service's own network.
 *
 * <p>IPv4 is checked against a deny list of the IANA special-purpose ranges. IPv6 is checked the
 * other way round: only the global unicast space {@code 2000::/3} is allowed (minus its special
 * blocks), which also refuses ranges assigned after this code was written. The embedded IPv4
 * address of IPv4-mapped, NAT64 and 6to4 addresses is checked like a plain IPv4 address.
 * Pure and thread-safe: no lookups, no I/O.
 */
final class AddressPolicy {

    /** IPv4 ranges that are not public unicast. */
    private static final List<V4Range> REFUSED_V4 = List.of(
            V4Range.of("0.0.0.0", 8),         // "this network", includes the unspecified 0.0.0.0
            V4Range.of("10.0.0.0", 8),        // private
            V4Range.of("100.64.0.0", 10),     // carrier-grade NAT (shared address space)
            V4Range.of("127.0.0.0", 8),       // loopback
            V4Range.of("169.254.0.0", 16),    // link-local, includes the metadata address 169.254.169.254
            V4Range.of("172.16.0.0", 12),     // private
            V4Range.of("192.0.0.0", 24),      // IETF protocol assignments (DS-Lite, NAT64 discovery, ...)
            V4Range.of("192.0.2.0", 24),      // documentation (TEST-NET-1)
            V4Range.of("192.88.99.0", 24),    // deprecated 6to4 relay anycast
            V4Range.of("192.168.0.0", 16),    // private
            V4Range.of("198.18.0.0", 15),     // benchmarking
            V4Range.of("198.51.100.0", 24),   // documentation (TEST-NET-2)
            V4Range.of("203.0.113.0", 24),    // documentation (TEST-NET-3)
            V4Range.of("224.0.0.0", 4),       // multicast
            V4Range.of("240.0.0.0", 4));      // reserved, includes the broadcast address 255.255.255.255

    private AddressPolicy() {
    }

    /** True when {@code address} is a public unicast address. */
    static boolean isPublic(InetAddress address) {
        byte[] bytes = address.getAddress();
        if (address instanceof Inet4Address) {
            return isPublicV4(bytes, 0);
        }
        if (address instanceof Inet6Address) {
            return isPublicV6(bytes);
        }
        return false;
    }

    private static boolean isPublicV4(byte[] bytes, int offset) {
        int value = ((bytes[offset] & 0xff) << 24) | ((bytes[offset + 1] & 0xff) << 16)
                | ((bytes[offset + 2] & 0xff) << 8) | (bytes[offset + 3] & 0xff);
        return REFUSED_V4.stream().noneMatch(range -> range.contains(value));
    }

    private static boolean isPublicV6(byte[] b) {
        // ::ffff:0:0/96, IPv4-mapped: the JDK usually turns these into Inet4Address, but not always.
        if (allZero(b, 0, 10) && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff) {
            return isPublicV4(b, 12);
        }
        // 64:ff9b::/96, the well-known NAT64 prefix: a NAT64 gateway would connect to the IPv4 address.
        if (b[0] == 0 && b[1] == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b && allZero(b, 4, 12)) {
            return isPublicV4(b, 12);
        }
        // Only the global unicast space 2000::/3. This refuses ::, ::1, IPv4-compatible ::/96
        // (deprecated), IPv4-translated ::ffff:0:0:0/96, 64:ff9b:1::/48 (local-use NAT64),
        // 100::/64 (discard), 5f00::/16 (SRv6), fc00::/7 (unique local), fe80::/10 (link-local),
        // fec0::/10 (old site-local) and ff00::/8 (multicast).
        if ((b[0] & 0xe0) != 0x20) {
            return false;
        }
        int first = ((b[0] & 0xff) << 8) | (b[1] & 0xff);
        int second = ((b[2] & 0xff) << 8) | (b[3] & 0xff);
        // 2001::/23, IETF protocol assignments: Teredo 2001::/32 (embeds obfuscated IPv4
        // addresses), benchmarking 2001:2::/48, ORCHID and others. Nothing an image lives on.
        if (first == 0x2001 && second < 0x0200) {
            return false;
        }
        if (first == 0x2001 && second == 0x0db8) {
            return false; // documentation
        }
        if (first == 0x3fff && second < 0x1000) {
            return false; // documentation 3fff::/20 (RFC 9637)
        }
        if (first == 0x2002) {
            return isPublicV4(b, 2); // 6to4: the relay would connect to the embedded IPv4 address
        }
        return true;
    }

    private static boolean allZero(byte[] bytes, int from, int to) {
        for (int i = from; i < to; i++) {
            if (bytes[i] != 0) {
                return false;
            }
        }
        return true;
    }

    /** An IPv4 network as a 32-bit value and its mask. */
    private record V4Range(int network, int mask) {

        static V4Range of(String dotted, int prefixLength) {
            int value = 0;
            for (String part : dotted.split("\\.")) {
                value = (value << 8) | Integer.parseInt(part);
            }
            int mask = -1 << (32 - prefixLength);
            return new V4Range(value & mask, mask);
        }

        boolean contains(int address) {
            return (address & mask) == network;
        }
    }
}
