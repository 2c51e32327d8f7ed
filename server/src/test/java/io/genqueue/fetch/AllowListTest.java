package io.genqueue.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AllowListTest {

    @Test
    void formats_ipv6_canonically() throws UnknownHostException {
        assertThat(AllowList.literal(InetAddress.getByName("0:0:0:0:0:0:0:1"))).isEqualTo("[::1]");
        assertThat(AllowList.literal(InetAddress.getByName("::"))).isEqualTo("[::]");
        assertThat(AllowList.literal(InetAddress.getByName("2001:DB8:0:0:1:0:0:1"))).isEqualTo("[2001:db8::1:0:0:1]");
        assertThat(AllowList.literal(InetAddress.getByName("2001:db8:0:1:1:1:1:1"))).isEqualTo("[2001:db8:0:1:1:1:1:1]");
        assertThat(AllowList.literal(InetAddress.getByName("fe80::"))).isEqualTo("[fe80::]");
        assertThat(AllowList.literal(InetAddress.getByName("10.0.0.1"))).isEqualTo("10.0.0.1");
    }

    @Test
    void matches_resolved_addresses_and_ports() throws UnknownHostException {
        AllowList allow = new AllowList(Set.of("[0:0::1]:8080", "10.0.0.1:80", "Images.Internal:443"));

        assertThat(allow.permits(InetAddress.getByName("::1"), 8080)).isTrue();
        assertThat(allow.permits(InetAddress.getByName("::1"), 8081)).isFalse();
        assertThat(allow.permits(InetAddress.getByName("10.0.0.1"), 80)).isTrue();
        assertThat(allow.permits(InetAddress.getByName("10.0.0.2"), 80)).isFalse();
        assertThat(allow.permits(FetchUrl.parse("https://images.internal/a.png", "URL"))).isTrue();
        assertThat(allow.permits(FetchUrl.parse("http://images.internal/a.png", "URL"))).isFalse();
        assertThat(allow.permits(FetchUrl.parse("http://[::1]:8080/a.png", "URL"))).isTrue();
    }
}
