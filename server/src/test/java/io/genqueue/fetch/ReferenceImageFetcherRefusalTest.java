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
import org.junit.jupiter.params.provider.MethodSource;

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
    @MethodSource("io.genqueue.fetch.RefusedUrls#nonPublicAddressLiterals")
    void refusesNonPublicAddressLiterals(String template) {
        ReferenceImageFetcher fetcher = new ReferenceImageFetcher(Policies.allowing(), nobodyResolves());

        assertThatThrownBy(() -> fetcher.fetch(template.replace("PORT", String.valueOf(port))))
                .isInstanceOf(ImageFetchException.class)
                .hasMessageEndingWith(" is a non-public address");
        assertThat(server.connections).hasValue(0);
    }

    @ParameterizedTest
    @MethodSource("io.genqueue.fetch.RefusedUrls#ambiguousAddressForms")
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
    @MethodSource("io.genqueue.fetch.RefusedUrls#notPlainHttp")
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
