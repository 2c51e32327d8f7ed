package io.genqueue.fetch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The webhook URL a client gives, checked when it is given: what a reference image URL may not be
 * ({@link RefusedUrls}, the fetcher's own refusal lists), refused with a message for the client.
 * No lookups and no connections happen here: names are checked when they are resolved, at posting.
 */
class WebhookPosterCheckTest {

    private static final WebhookPoster POSTER = poster();

    @ParameterizedTest
    @MethodSource("io.genqueue.fetch.RefusedUrls#nonPublicAddressLiterals")
    void refusesNonPublicAddressLiterals(String template) {
        String url = template.replace("PORT", "8080");

        assertThatThrownBy(() -> POSTER.check(url))
                .isInstanceOf(InvalidWebhookUrlException.class)
                .hasMessage("webhook URL host " + URI.create(url).getHost() + " is a non-public address");
    }

    @ParameterizedTest
    @MethodSource("io.genqueue.fetch.RefusedUrls#ambiguousAddressForms")
    void refusesIpAddressesInAmbiguousForms(String template) {
        assertThatThrownBy(() -> POSTER.check(template.replace("PORT", "8080")))
                .isInstanceOf(InvalidWebhookUrlException.class)
                .hasMessage("webhook URL has an IP address in an ambiguous form: write it as four decimal numbers");
    }

    @ParameterizedTest
    @MethodSource("io.genqueue.fetch.RefusedUrls#notPlainHttp")
    void refusesUrlsThatAreNotPlainHttp(String row) {
        String[] parts = row.split("\\|");

        assertThatThrownBy(() -> POSTER.check(parts[0].replace("PORT", "8080")))
                .isInstanceOf(InvalidWebhookUrlException.class)
                .hasMessage("webhook URL" + parts[1]);
    }

    @Test
    void refuses_an_overlong_url() {
        assertThatThrownBy(() -> POSTER.check("https://hooks.example.com/" + "a".repeat(9000)))
                .isInstanceOf(InvalidWebhookUrlException.class)
                .hasMessage("webhook URL is longer than 8192 characters");
    }

    @Test
    void names_the_refused_literal_as_the_client_wrote_it() {
        assertThatThrownBy(() -> POSTER.check("http://169.254.169.254/latest/meta-data/"))
                .hasMessage("webhook URL host 169.254.169.254 is a non-public address");
        assertThatThrownBy(() -> POSTER.check("https://[::1]/hook"))
                .hasMessage("webhook URL host [::1] is a non-public address");
    }

    @Test
    void accepts_a_public_name_or_address_without_looking_it_up() {
        // The poster's resolver knows no name at all: a check that looked one up would fail.
        assertThat(POSTER.check("https://hooks.example.com/fal?token=secret").host()).isEqualTo("hooks.example.com");
        assertThat(POSTER.check("http://93.184.216.34:8443/hook").host()).isEqualTo("93.184.216.34");
        assertThat(POSTER.check("https://[2606:4700:4700::1111]/hook").host()).isEqualTo("[2606:4700:4700::1111]");
    }

    @Test
    void accepts_a_name_that_would_resolve_to_a_refused_address_until_it_is_posted_to() {
        WebhookPoster poster = new WebhookPoster(settings(), Policies.resolving("evil.test", "10.0.0.1"));

        assertThat(poster.check("http://evil.test/hook").host()).isEqualTo("evil.test");
    }

    @Test
    void accepts_a_literal_the_allow_list_exempts_but_not_on_another_port() {
        WebhookPoster poster = new WebhookPoster(
                new WebhookPoster.Settings(Duration.ofSeconds(1), Duration.ofSeconds(1), Set.of("127.0.0.1:8080", "[::1]:9000")),
                Policies.resolving(Map.of()));

        assertThat(poster.check("http://127.0.0.1:8080/hook").host()).isEqualTo("127.0.0.1");
        assertThat(poster.check("http://[0:0:0:0:0:0:0:1]:9000/hook").host()).isEqualTo("[0:0:0:0:0:0:0:1]");
        assertThatThrownBy(() -> poster.check("http://127.0.0.1:8081/hook"))
                .hasMessage("webhook URL host 127.0.0.1 is a non-public address");
    }

    @Test
    void describes_a_target_without_its_query_string_fragment_or_default_port() {
        WebhookTarget target = POSTER.check("https://Hooks.Example.com:443/fal/done?token=s3cret&x=1#part");
        WebhookTarget withPort = POSTER.check("http://hooks.example.com:8080/fal?token=s3cret");
        WebhookTarget bare = POSTER.check("http://hooks.example.com?token=s3cret");

        assertThat(target.safeDescription()).isEqualTo("https://hooks.example.com/fal/done");
        assertThat(target.toString()).isEqualTo(target.safeDescription());
        assertThat(target.host()).isEqualTo("hooks.example.com");
        assertThat(target.url()).isEqualTo("https://Hooks.Example.com:443/fal/done?token=s3cret&x=1#part");
        assertThat(withPort.safeDescription()).isEqualTo("http://hooks.example.com:8080/fal");
        assertThat(bare.safeDescription()).isEqualTo("http://hooks.example.com/");
        assertThat(String.join(" ", target.safeDescription(), target.host(), target.toString(),
                withPort.toString(), bare.toString())).doesNotContain("s3cret", "token", "part");
    }

    private static WebhookPoster poster() {
        return new WebhookPoster(settings(), Policies.resolving(Map.of()));
    }

    private static WebhookPoster.Settings settings() {
        return new WebhookPoster.Settings(Duration.ofSeconds(1), Duration.ofSeconds(1), Set.of());
    }
}
