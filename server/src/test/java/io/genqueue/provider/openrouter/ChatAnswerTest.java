package io.genqueue.provider.openrouter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.genqueue.emulator.EmulatorImages;
import io.genqueue.generation.ErrorType;
import io.genqueue.image.OutputFormat;
import io.genqueue.provider.ProviderException;
import java.net.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Answer shapes the emulator does not play: variants seen in the wild, and hostile bodies. */
class ChatAnswerTest {

    private static final String MODEL = OpenRouterProvider.DEFAULT_MODEL;
    private static final String KEY = "sk-or-v1-unit-secret";
    private static final HttpHeaders NONE = headers(Map.of());

    @Test
    void reads_content_parts_and_an_image_url_given_as_a_string() {
        String png = Base64.getEncoder().encodeToString(EmulatorImages.render(4, 4, "x", 0, OutputFormat.PNG));
        String body = """
                {"id":"gen-1","model":"%s","provider":"Google","choices":[{"finish_reason":"stop","message":{
                 "content":[{"type":"text","text":"Here "},{"type":"text","text":"it is."}],
                 "images":[{"type":"image_url","image_url":"data:image/png;base64,%s"}]}}]}""".formatted(MODEL, png);

        ChatAnswer answer = ChatAnswer.read(200, NONE, bytes(body), MODEL, KEY);

        assertThat(answer.text()).isEqualTo("Here it is.");
        assertThat(answer.image()).isEqualTo(Base64.getDecoder().decode(png));
        assertThat(answer.generationId()).isEqualTo("gen-1");
    }

    @Test
    void reads_retry_after_as_seconds_or_an_http_date() {
        assertThat(ChatAnswer.retryAfter(headers(Map.of("Retry-After", List.of("2.5"))))).isEqualTo(Duration.ofMillis(2500));
        String inAMinute = ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(60).format(DateTimeFormatter.RFC_1123_DATE_TIME);
        assertThat(ChatAnswer.retryAfter(headers(Map.of("Retry-After", List.of(inAMinute)))))
                .isBetween(Duration.ofSeconds(50), Duration.ofSeconds(61));
        assertThat(ChatAnswer.retryAfter(headers(Map.of("Retry-After", List.of("soon"))))).isNull();
        assertThat(ChatAnswer.retryAfter(headers(Map.of("Retry-After", List.of("-3"))))).isNull();
        assertThat(ChatAnswer.retryAfter(NONE)).isNull();
    }

    @Test
    void a403_without_moderation_details_is_a_key_problem() {
        ProviderException e = fail(403, NONE, "{\"error\":{\"code\":403,\"message\":\"Key is disabled\"}}");

        assertThat(e.type()).isEqualTo(ErrorType.PROVIDER_UNAVAILABLE);
        assertThat(e.retryable()).isFalse();
        assertThat(e.getMessage()).contains("Key is disabled");
    }

    @Test
    void image_other_and_max_tokens_may_work_next_time() {
        for (String reason : List.of("IMAGE_OTHER", "MAX_TOKENS")) {
            ProviderException e = fail(200, NONE, """
                    {"choices":[{"finish_reason":"stop","native_finish_reason":"%s","message":{"content":""}}]}"""
                    .formatted(reason));

            assertThat(e.type()).isEqualTo(ErrorType.PROVIDER_ERROR);
            assertThat(e.retryable()).isTrue();
            assertThat(e.getMessage()).contains(reason);
        }
    }

    @Test
    void an_empty_answer_is_a_final_provider_error() {
        ProviderException e = fail(200, NONE, "{\"choices\":[{\"finish_reason\":\"stop\",\"message\":{\"content\":null}}]}");

        assertThat(e.type()).isEqualTo(ErrorType.PROVIDER_ERROR);
        assertThat(e.retryable()).isFalse();
        assertThat(e.getMessage()).contains("neither an image nor text");
    }

    @Test
    void a_proxy_error_page_is_quoted_clipped_and_retryable() {
        ProviderException e = fail(502, headers(Map.of("Retry-After", List.of("4"))),
                "<html><body>Bad gateway " + "x".repeat(5000) + "</body></html>");

        assertThat(e.type()).isEqualTo(ErrorType.PROVIDER_UNAVAILABLE);
        assertThat(e.retryable()).isTrue();
        assertThat(e.retryAfter()).hasValue(Duration.ofSeconds(4));
        assertThat(e.getMessage()).contains("Bad gateway").hasSizeLessThan(700);
    }

    @Test
    void a_non_json200_is_retryable() {
        ProviderException e = fail(200, NONE, "upstream connect error");

        assertThat(e.retryable()).isTrue();
        assertThat(e.getMessage()).contains("not a JSON object");
    }

    @Test
    void an_error_inside_the_choice_counts() {
        ProviderException e = fail(200, NONE,
                "{\"choices\":[{\"error\":{\"code\":429,\"message\":\"upstream rate limit\"},\"message\":{}}]}");

        assertThat(e.type()).isEqualTo(ErrorType.PROVIDER_UNAVAILABLE);
        assertThat(e.retryable()).isTrue();
    }

    @Test
    void an_upstream_that_echoes_the_key_never_gets_it_into_the_message() {
        ProviderException e = fail(400, NONE, "{\"error\":{\"code\":400,\"message\":\"bad request from " + KEY + "\"}}");

        assertThat(e.getMessage()).doesNotContain(KEY).contains("[redacted]");
    }

    private static ProviderException fail(int status, HttpHeaders headers, String body) {
        return catchThrowableOfType(ProviderException.class, () -> ChatAnswer.read(status, headers, bytes(body), MODEL, KEY));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static HttpHeaders headers(Map<String, List<String>> map) {
        return HttpHeaders.of(map, (name, value) -> true);
    }
}
