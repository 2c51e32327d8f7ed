package io.genqueue.fetch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * URLs that must never be fetched: wrong schemes, credentials, and every kind of non-public
 * address, written as literals or reached through DNS. A real server listens on loopback
 * throughout, to prove that refusals happen before any connection.
 */
class ReferenceImageFetcherRefusalTest {

    private final RawServer server = startServer();
    private final int port = server.port();

    @AfterEach
    void stopServer() throws IOException {
        server.close();
    }

    @Test
    void refuses_loopback_even_though_a_server_listens_there() {
        ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.allowing());

        assertThatThrownBy(() -> fetcher.fetch(server.url("/x.png")))
                .isInstanceOf(ImageFetchException.class)
                .hasMessage("reference image host 127.0.0.1 is a non-public address");
        assertThat(server.connections).hasValue(0);
    }

    @Test
    void allow_list_is_per_port() {
        ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.allowing("127.0.0.1:" + (port == 65535 ? 1 : port + 1)));

        assertThatThrownBy(() -> fetcher.fetch(server.url("/x.png")))
                .hasMessage("reference image host 127.0.0.1 is a non-public address");
        assertThat(server.connections).hasValue(0);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "http://127.0.0.1:PORT/x.png",
        "http://127.1.2.3:PORT/x.png",
        "http://[::1]:PORT/x.png",
        "http://[0:0:0:0:0:0:0:1]:PORT/x.png",
        "http://[::ffff:127.0.0.1]:PORT/x.png",
        "http://[::ffff:7f00:1]:PORT/x.png",
        "http://[::127.0.0.1]:PORT/x.png",
        "http://[64:ff9b::7f00:1]:PORT/x.png",
        "http://[2002:7f00:1::1]:PORT/x.png",
        "http://0.0.0.0:PORT/x.png",
        "http://[::]:PORT/x.png",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "http://[fe80::1]/x.png",
        "http://10.0.0.1/x.png",
        "http://172.16.5.4/x.png",
        "http://192.168.0.1/x.png",
        "http://100.64.0.1/x.png",
        "http://224.0.0.1/x.png",
        "http://255.255.255.255/x.png",
        "http://240.1.2.3/x.png",
        "http://192.0.2.10/x.png",
        "http://198.18.0.1/x.png",
        "http://[fd00::1]/x.png",
        "http://[ff02::1]/x.png",
        "http://[2001:db8::1]/x.png",
        "https://127.0.0.1:PORT/x.png",
        "https://[::1]/x.png",
    })
    void refusesNonPublicAddressLiterals(String template) {
        ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.allowing(), nobodyResolves());

        assertThatThrownBy(() -> fetcher.fetch(template.replace("PORT", String.valueOf(port))))
                .isInstanceOf(ImageFetchException.class)
                .hasMessageEndingWith(" is a non-public address");
        assertThat(server.connections).hasValue(0);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "http://2130706433:PORT/x.png",  // 127.0.0.1 as one decimal number
        "http://0x7f000001:PORT/x.png",  // ... as hex
        "http://0x7f.0.0.1:PORT/x.png",
        "http://0177.0.0.1:PORT/x.png",  // octal, or decimal 177.0.0.1, depending on the parser
        "http://017700000001:PORT/x.png",
        "http://127.0.0.1.:PORT/x.png",  // trailing dot
        "http://127.1:PORT/x.png",       // shortened
        "http://127.1/x.png",
    })
    void refusesIpAddressesInAmbiguousForms(String template) {
        // The system resolver: these must be refused before any lookup could interpret them.
        ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.allowing());

        assertThatThrownBy(() -> fetcher.fetch(template.replace("PORT", String.valueOf(port))))
                .isInstanceOf(ImageFetchException.class)
                .hasMessage("reference image URL has an IP address in an ambiguous form: write it as four decimal numbers");
        assertThat(server.connections).hasValue(0);
    }

    @Test
    void refuses_a_name_that_resolves_to_a_private_address() {
        ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.allowing(), Policies.resolving("evil.test", "10.0.0.1"));

        assertThatThrownBy(() -> fetcher.fetch("http://evil.test/cat.png"))
                .isInstanceOf(ImageFetchException.class)
                .hasMessage("reference image host evil.test resolves to a non-public address");
    }

    @Test
    void refuses_a_name_that_resolves_to_loopback_where_a_server_listens() {
        ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.allowing(), Policies.resolving("evil.test", "127.0.0.1"));

        assertThatThrownBy(() -> fetcher.fetch("http://evil.test:" + port + "/cat.png"))
                .hasMessage("reference image host evil.test resolves to a non-public address");
        assertThat(server.connections).hasValue(0);
    }

    @Test
    void refuses_a_name_when_any_of_its_addresses_is_refused() {
        ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.allowing(),
                Policies.resolving("mixed.test", "93.184.216.34", "2606:4700:4700::1111", "127.0.0.1"));

        assertThatThrownBy(() -> fetcher.fetch("http://mixed.test:" + port + "/cat.png"))
                .isInstanceOf(ImageFetchException.class)
                .hasMessage("reference image host mixed.test resolves to a non-public address");
        assertThat(server.connections).hasValue(0);
    }

    @Test
    void refuses_names_resolving_to_mapped_or_metadata_addresses() {
        ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.allowing(), Policies.resolving(Map.of(
                "mapped.test", new String[] {"::ffff:10.1.2.3"},
                "nat64.test", new String[] {"64:ff9b::a9fe:a9fe"},
                "metadata.test", new String[] {"169.254.169.254"},
                "ula.test", new String[] {"fd12:3456::1"})));

        for (String name : new String[] {"mapped.test", "nat64.test", "metadata.test", "ula.test"}) {
            assertThatThrownBy(() -> fetcher.fetch("http://" + name + "/cat.png"))
                    .isInstanceOf(ImageFetchException.class)
                    .hasMessage("reference image host " + name + " resolves to a non-public address");
        }
    }

    @Test
    void connects_to_the_address_it_checked_with_no_second_lookup() {
        // A rebinding resolver: first an allowed answer, then a private one. The fetch must
        // connect to the first (checked) answer and never ask again.
        AtomicInteger lookups = new AtomicInteger();
        HostResolver rebinding = host -> new InetAddress[] {
            InetAddress.getByName(lookups.getAndIncrement() == 0 ? "127.0.0.1" : "10.0.0.1")};
        ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.allowing(server.allowEntry()), rebinding);

        assertThatThrownBy(() -> fetcher.fetch("http://rebind.test:" + port + "/cat.png"))
                .hasMessage("reference image host rebind.test answered 500");
        assertThat(lookups).hasValue(1);
        assertThat(server.connections).hasValue(1);
        assertThat(server.requests).singleElement().asString().contains("Host: rebind.test:" + port + "\r\n");
    }

    @Test
    void reports_names_that_do_not_resolve() {
        ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.allowing(), nobodyResolves());

        assertThatThrownBy(() -> fetcher.fetch("http://nowhere.test/cat.png"))
                .isInstanceOf(ImageFetchException.class)
                .hasMessage("reference image host nowhere.test could not be resolved");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "ftp://example.com/cat.png| must use http or https, not ftp",
        "file:///etc/passwd| must use http or https, not file",
        "gopher://example.com:70/_GET| must use http or https, not gopher",
        "jar:http://example.com/a.jar!/cat.png| must use http or https, not jar",
        "mailto:someone@example.com| must use http or https, not mailto",
        "javascript:alert(1)| must use http or https, not javascript",
        "example.com/cat.png| has no scheme: use an http or https URL",
        "//example.com/cat.png| has no scheme: use an http or https URL",
        "/cat.png| has no scheme: use an http or https URL",
        "http:cat.png| has no host",
        "http:///cat.png| has no host",
        "http://user:secret@example.com/cat.png| must not contain a user name or password",
        "http://user@example.com/cat.png| must not contain a user name or password",
        "http://user:secret@127.0.0.1:PORT/cat.png| must not contain a user name or password",
        "http://example.com@127.0.0.1:PORT/cat.png| must not contain a user name or password",
        "http://example.com:0/cat.png| has an invalid port",
        "http://example.com:70000/cat.png| has an invalid port",
        "http://exa mple.com/cat.png| is not a valid URL",
        "http://[fe80::1%25eth0]/cat.png| must not name an IPv6 zone",
        "http://under_score.example.com/cat.png| has no valid host name",
    })
    void refusesUrlsThatAreNotPlainHttp(String row) {
        String[] parts = row.split("\\|");
        ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.allowing(server.allowEntry()), nobodyResolves());

        assertThatThrownBy(() -> fetcher.fetch(parts[0].replace("PORT", String.valueOf(port))))
                .isInstanceOf(ImageFetchException.class)
                .hasMessage("reference image URL" + parts[1]);
        assertThat(server.connections).hasValue(0);
    }

    @Test
    void refuses_an_overlong_url() {
        ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.allowing());

        assertThatThrownBy(() -> fetcher.fetch("http://example.com/" + "a".repeat(9000)))
                .hasMessage("reference image URL is longer than 8192 characters");
    }

    private static HostResolver nobodyResolves() {
        return Policies.resolving(Map.of());
    }

    private static RawServer startServer() {
        try {
            return RawServer.start(RawServer.answer("HTTP/1.1 500 Should Not Be Reached\nContent-Length: 0", new byte[0]));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
