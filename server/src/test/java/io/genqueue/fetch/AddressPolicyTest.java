package io.genqueue.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Address classification alone: literals only, so no lookups and no sockets. */
class AddressPolicyTest {

    @ParameterizedTest
    @ValueSource(strings = {
        "0.0.0.0", "0.1.2.3",                      // this network, unspecified
        "10.0.0.1", "10.255.255.255",              // private
        "100.64.0.1", "100.127.255.254",           // carrier-grade NAT
        "127.0.0.1", "127.255.255.254",            // loopback
        "169.254.169.254", "169.254.0.1",          // link-local, cloud metadata
        "172.16.0.1", "172.31.255.255",            // private
        "192.0.0.8", "192.0.0.170",                // IETF protocol assignments
        "192.0.2.1", "198.51.100.7", "203.0.113.9", // documentation
        "192.88.99.1",                             // 6to4 relay anycast
        "192.168.0.1", "192.168.255.255",          // private
        "198.18.0.1", "198.19.255.255",            // benchmarking
        "224.0.0.1", "239.255.255.250",            // multicast
        "240.0.0.1", "255.255.255.255",            // reserved, broadcast
    })
    void refusesNonPublicIpv4(String literal) throws UnknownHostException {
        assertThat(AddressPolicy.isPublic(InetAddress.getByName(literal))).as(literal).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "::", "::1",                               // unspecified, loopback
        "::127.0.0.1", "::8.8.8.8",                // IPv4-compatible (deprecated, never routed)
        "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.0.0.1", // IPv4-mapped
        "::ffff:0:10.0.0.1",                       // IPv4-translated
        "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::c0a8:101", // NAT64 of refused IPv4
        "64:ff9b:1::1",                            // local-use NAT64
        "2002:7f00:1::1", "2002:a9fe:a9fe::", "2002:c0a8:101::1", "2002:a00:1::", // 6to4 of refused IPv4
        "2001::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2", // Teredo
        "2001:2::1",                               // benchmarking
        "2001:db8::1", "3fff::1",                  // documentation
        "fc00::1", "fd12:3456:789a::1",            // unique local
        "fe80::1", "febf::1",                      // link-local
        "fec0::1",                                 // old site-local
        "ff02::1", "ff0e::1",                      // multicast
        "100::1",                                  // discard-only
        "5f00::1",                                 // SRv6
    })
    void refusesNonPublicIpv6(String literal) throws UnknownHostException {
        assertThat(AddressPolicy.isPublic(InetAddress.getByName(literal))).as(literal).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "8.8.8.8", "1.1.1.1", "93.184.216.34", "11.0.0.1", "223.255.255.255",
        "172.15.255.255", "172.32.0.1", "100.63.255.255", "100.128.0.1", "192.167.255.255", "192.169.0.1",
        "198.17.255.255", "198.20.0.1", "169.253.0.1", "126.255.255.255", "128.0.0.1",
        "2606:4700:4700::1111", "2001:4860:4860::8888", "2a00:1450:4001:82a::200e",
        "::ffff:8.8.8.8",                          // IPv4-mapped public address
        "64:ff9b::808:808",                        // NAT64 of a public address
        "2002:808:808::1",                         // 6to4 of a public address
    })
    void allowsPublicAddresses(String literal) throws UnknownHostException {
        assertThat(AddressPolicy.isPublic(InetAddress.getByName(literal))).as(literal).isTrue();
    }

    @Test
    void checks_ipv4_mapped_addresses_that_stay_inet6() throws UnknownHostException {
        // InetAddress.getByName turns ::ffff:a.b.c.d into an Inet4Address; Inet6Address.getByAddress does not.
        byte[] mappedLoopback = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 127, 0, 0, 1};
        byte[] mappedPublic = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 8, 8, 8, 8};

        InetAddress loopback = Inet6Address.getByAddress(null, mappedLoopback, -1);
        InetAddress open = Inet6Address.getByAddress(null, mappedPublic, -1);

        assertThat(loopback).isInstanceOf(Inet6Address.class);
        assertThat(AddressPolicy.isPublic(loopback)).isFalse();
        assertThat(AddressPolicy.isPublic(open)).isTrue();
    }
}
