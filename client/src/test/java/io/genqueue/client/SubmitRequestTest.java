package io.genqueue.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The request builder refuses what the contract refuses, every violation at once, before anything is sent. */
class SubmitRequestTest {

    private static List<FieldError> violations(SubmitRequest.Builder builder) {
        try {
            builder.build();
            throw new AssertionError("built: " + builder);
        } catch (InvalidInputException e) {
            assertThat(e.fromServer()).isFalse();
            return e.fieldErrors();
        }
    }

    @Test
    void every_broken_rule_is_reported_at_once_with_its_field() {
        SubmitRequest.Builder builder = SubmitRequest.builder("x".repeat(2501)).aspectRatio("7:5").resolution("1024x1024")
                .numImages(5).outputFormat("gif").imageUrl("ftp://example.com/a.png").imageUrl("data:text/plain;base64,aGk=");

        assertThat(violations(builder)).extracting(FieldError::field).containsExactlyInAnyOrder(
                "aspect_ratio", "output_format", "prompt", "image_urls.0", "image_urls.1", "num_images");
    }

    @Test
    void a_prompt_is_counted_in_code_points_and_must_not_be_blank() {
        String emoji = new String(Character.toChars(0x1F600));
        assertThat(SubmitRequest.builder(emoji.repeat(2500)).build().prompt()).hasSize(5000);
        assertThat(violations(SubmitRequest.builder(emoji.repeat(2501)))).singleElement()
                .satisfies(f -> assertThat(f.type()).isEqualTo("string_too_long"));
        assertThat(violations(SubmitRequest.builder("  \n"))).singleElement()
                .satisfies(f -> assertThat(f.field()).isEqualTo("prompt"));
        assertThat(violations(SubmitRequest.builder(""))).singleElement()
                .satisfies(f -> assertThat(f.type()).isEqualTo("string_too_short"));
    }

    @Test
    void at_most_three_reference_images_are_accepted() {
        SubmitRequest.Builder builder = SubmitRequest.builder("a cat");
        for (int i = 0; i < 4; i++) {
            builder.imageUrl("https://example.com/" + i + ".png");
        }
        assertThat(violations(builder)).singleElement().satisfies(f -> {
            assertThat(f.loc()).containsExactly("body", "image_urls");
            assertThat(f.type()).isEqualTo("too_long");
        });
    }

    @Test
    void a_resolution_must_agree_with_the_aspect_ratio() {
        assertThat(violations(SubmitRequest.builder("a cat").aspectRatio(AspectRatio.LANDSCAPE_16_9).resolution("768x1344")))
                .singleElement().satisfies(f -> assertThat(f.msg()).contains("does not match aspect_ratio 16:9"));
        assertThat(SubmitRequest.builder("a cat").aspectRatio("9:16").resolution("768x1344").build().aspectRatio())
                .isEqualTo(AspectRatio.PORTRAIT_9_16);
    }

    @Test
    void a_valid_request_becomes_the_contracts_body_leaving_out_what_was_not_set() {
        SubmitRequest request = SubmitRequest.builder("a cat").aspectRatio("3:2").numImages(2).outputFormat("webp")
                .includeText(false).seed(7).build();

        assertThat(request.body()).isEqualTo(Map.of("prompt", "a cat", "aspect_ratio", "3:2", "num_images", 2,
                "output_format", "webp", "response_modalities", List.of("Image"), "seed", 7L));
        assertThat(SubmitRequest.builder("a cat").build().body()).isEqualTo(Map.of("prompt", "a cat"));
    }
}
