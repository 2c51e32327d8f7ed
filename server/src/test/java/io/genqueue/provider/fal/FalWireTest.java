package io.genqueue.provider.fal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.generation.ErrorType;
import io.genqueue.json.Json;
import io.genqueue.provider.ProviderException;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** fal's wire steps without a socket: tickets, results, error classes. */
class FalWireTest {

    private static final URI BASE = URI.create("https://queue.fal.run");

    private static JsonNode json(String s) throws Exception {
        return Json.parse(s.getBytes(StandardCharsets.UTF_8));
    }

    private static HttpHeaders headers(Map<String, List<String>> map) {
        return HttpHeaders.of(map, (a, b) -> true);
    }

    private static ProviderException classify(int status, String body) {
        return FalWire.classify("submit", status, body.getBytes(StandardCharsets.UTF_8), headers(Map.of()), "fal-ai/nano-banana");
    }

    @Test
    void the_app_id_drops_the_edit_sub_path() {
        assertThat(FalWire.app("fal-ai/nano-banana/edit")).isEqualTo("fal-ai/nano-banana");
        assertThat(FalWire.app("fal-ai/nano-banana/")).isEqualTo("fal-ai/nano-banana");
        assertThat(FalWire.app("fal-ai/gemini-25-flash-image")).isEqualTo("fal-ai/gemini-25-flash-image");
    }

    @Test
    void a_ticket_follows_the_returned_urls_and_keeps_the_key_on_the_configured_origin() throws Exception {
        Ticket t = FalWire.ticket(json("""
                {"request_id":"abc-1","status_url":"https://queue.fal.run/fal-ai/nano-banana/requests/abc-1/status",
                 "response_url":"https://elsewhere.example/fal-ai/nano-banana/requests/abc-1",
                 "cancel_url":null}"""), BASE, "fal-ai/nano-banana");
        assertThat(t.statusUrl()).hasToString("https://queue.fal.run/fal-ai/nano-banana/requests/abc-1/status");
        assertThat(t.responseUrl()).as("moved onto the base origin").hasToString("https://queue.fal.run/fal-ai/nano-banana/requests/abc-1");
        assertThat(t.cancelUrl()).as("built like fal's").hasToString("https://queue.fal.run/fal-ai/nano-banana/requests/abc-1/cancel");
        assertThat(Ticket.fromJson(t.toJson())).contains(t);
        assertThat(Ticket.fromJson("not json")).isEmpty();
        assertThatThrownBy(() -> FalWire.ticket(json("{\"request_id\":\"../x\"}"), BASE, "fal-ai/nano-banana"))
                .isInstanceOf(ProviderException.class);
    }

    @Test
    void status_values_outside_the_three_are_unknown() throws Exception {
        assertThat(FalWire.status(json("{\"status\":\"IN_PROGRESS\"}"))).isEqualTo(FalWire.Status.IN_PROGRESS);
        assertThat(FalWire.status(json("{\"status\":\"FAILED\"}"))).isEqualTo(FalWire.Status.UNKNOWN);
    }

    @Test
    void a_result_without_images_is_a_final_error() throws Exception {
        assertThat(FalWire.result(json("{\"images\":[{\"url\":\"https://v3.fal.media/x.png\"}]}")).images()).hasSize(1);
        assertThatThrownBy(() -> FalWire.result(json("{\"images\":[],\"description\":\"I can't draw that\"}")))
                .isInstanceOfSatisfying(ProviderException.class, e -> {
                    assertThat(e.retryable()).isFalse();
                    assertThat(e.type()).isEqualTo(ErrorType.PROVIDER_ERROR);
                    assertThat(e.getMessage()).contains("I can't draw that");
                });
    }

    @Test
    void errors_are_classified_as_providers_md_section6_says() {
        ProviderException policy = classify(422, """
                {"detail":[{"loc":["body","prompt"],"msg":"flagged","type":"content_policy_violation","categories":["sexual"]}]}""");
        assertThat(policy.type()).isEqualTo(ErrorType.CONTENT_POLICY_VIOLATION);
        assertThat(policy.retryable()).isFalse();

        ProviderException invalid = classify(422, "{\"detail\":[{\"loc\":[\"body\",\"image_urls\",0],\"msg\":\"too large\",\"type\":\"image_too_large\"}]}");
        assertThat(invalid.type()).isEqualTo(ErrorType.VALIDATION_ERROR);
        assertThat(invalid.getMessage()).contains("image_urls.0: too large");

        ProviderException stringDetail = classify(422, "{\"detail\":\"bad input\"}");
        assertThat(stringDetail.type()).isEqualTo(ErrorType.VALIDATION_ERROR);
        assertThat(stringDetail.getMessage()).contains("bad input");

        assertThat(classify(401, "{\"detail\":\"Unauthorized\"}").retryable()).isFalse();
        assertThat(classify(403, "{\"detail\":\"Forbidden\"}").retryable()).isFalse();
        assertThat(classify(404, "{\"detail\":\"not found\"}").retryable()).isFalse();
        assertThat(classify(400, "{\"detail\":\"what\"}").retryable()).isFalse();
        assertThat(classify(500, "<html>oops</html>").retryable()).isTrue();
        assertThat(classify(500, "<html>oops</html>").getMessage()).doesNotContain("html");
        assertThat(classify(502, "").type()).isEqualTo(ErrorType.PROVIDER_ERROR);
        assertThat(classify(503, "").type()).isEqualTo(ErrorType.PROVIDER_UNAVAILABLE);
        assertThat(classify(504, "{\"detail\":\"Request timed out\",\"error_type\":\"request_timeout\"}").retryable()).isTrue();
        assertThat(classify(408, "").retryable()).isTrue();
    }

    @Test
    void retry_after_is_read_as_seconds_or_a_date() {
        ProviderException limited = FalWire.classify("submit", 429, new byte[0],
                headers(Map.of("Retry-After", List.of("2.5"))), "m");
        assertThat(limited.retryable()).isTrue();
        assertThat(limited.retryAfter()).contains(Duration.ofMillis(2500));
        assertThat(FalWire.retryAfter(headers(Map.of("Retry-After", List.of("Wed, 21 Oct 2015 07:28:00 GMT")))))
                .contains(Duration.ZERO);
        assertThat(FalWire.retryAfter(headers(Map.of("Retry-After", List.of("soon"))))).isEmpty();
        assertThat(FalWire.classify("submit", 429, new byte[0], headers(Map.of()), "m").retryAfter()).isEmpty();
    }
}
